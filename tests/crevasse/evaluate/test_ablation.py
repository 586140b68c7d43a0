"""Pieces of the ablation: along-track averaging and truth-trained references."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.ablation import (
    along_track_mean,
    along_track_slope,
    tile_gradients,
    truth_trained,
)


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


def test_along_track_slope_of_shots_on_a_plane_is_the_plane_gradient_along_the_track():
    # a plane rising 0.02 m/m eastward and 0.01 m/m northward; two passes heading
    # north-east, shots 170 m apart at 40 Hz, given out of time order
    heading = np.deg2rad(30.0)
    step = 170.0 * np.arange(6)
    x = np.concatenate([step * np.sin(heading), 5e4 + step * np.sin(heading)])
    y = np.concatenate([step * np.cos(heading), step * np.cos(heading)])
    time = np.concatenate([np.arange(6) / 40.0, 100.0 + np.arange(6) / 40.0])
    z = 1500.0 + 0.02 * x + 0.01 * y
    shuffle = np.random.default_rng(0).permutation(12)
    slope = along_track_slope(x[shuffle], y[shuffle], z[shuffle], time[shuffle])
    expected = 0.02 * np.sin(heading) + 0.01 * np.cos(heading)
    np.testing.assert_allclose(slope, expected, rtol=1e-9)
    # a shot alone in its pass has no slope
    alone = along_track_slope(np.array([0.0, 1e5]), np.zeros(2), np.zeros(2), np.array([0.0, 9.0]))
    assert np.isnan(alone).all()


def test_tile_gradients_recover_a_tilted_plane_under_crevasses():
    rows, cols = np.mgrid[:40, :40]
    plane = 0.05 * cols * 0.5 - 0.03 * rows * 0.5
    crevassed = plane - 3.0 * (cols % 8 == 0)  # north-south slots every 4 m
    tiles = np.stack([plane, plane + 7.0, crevassed])
    gradient = tile_gradients(tiles, pixel_m=0.5)
    np.testing.assert_allclose(gradient[:2], [[0.05, -0.03], [0.05, -0.03]], atol=1e-12)
    assert gradient[2, 1] == pytest.approx(-0.03, abs=1e-12)  # slots leave dz/dy alone
