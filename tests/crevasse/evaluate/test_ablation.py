"""Pieces of the ablation: along-track averaging and truth-trained references."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.ablation import along_track_mean, truth_trained


def test_along_track_mean_weighs_one_two_one_within_a_pass_only():
    # two passes of three shots at 40 Hz, an hour apart, given out of time order
    time = np.array([0.0, 0.025, 0.05, 3600.0, 3600.025, 3600.05])
    p = np.array([0.0, 1.0, 0.0, 1.0, np.nan, 0.2])
    order = np.array([3, 0, 5, 1, 4, 2])
    smoothed = along_track_mean(p[order], time[order])
    expected = np.array([(0 + 1) / 3, (0 + 2 + 0) / 4, (1 + 0) / 3,
                         1.0, np.nan, 0.2])  # a shot without probability stays without
    np.testing.assert_allclose(smoothed, expected[order])


def test_truth_trained_references_never_see_their_own_fold():
    # the label is the feature's sign in folds 0 and 1 and its opposite in fold 2: trees
    # trained on the other folds get fold 2 exactly wrong, which they could not if they
    # had seen it
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (600, 2))
    fold = np.repeat([0, 1, 2], 200)
    outcome = np.where(fold == 2, x[:, 0] < 0, x[:, 0] > 0).astype(int)
    p = truth_trained(x, outcome, fold, seed=0)
    correct = (p > 0.5) == outcome.astype(bool)
    assert correct[fold == 2].mean() < 0.05
    assert correct[fold == 0].mean() == pytest.approx(0.5, abs=0.1)  # trained on 1 and 2
