"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np

from cryolearn.climate.figures import matched_order


def test_clusters_are_ordered_by_their_matching_regime():
    truth = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([2, 2, 0, 0, 1, 1])
    order, match = matched_order(labels, truth)
    assert order == [2, 0, 1] and match == {2: 0, 0: 1, 1: 2}
