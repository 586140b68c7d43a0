"""OPTICS clusters of the SOM codebook (rule cluster_som)."""

from __future__ import annotations

import numpy as np
from helpers import blobs
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.evaluate.som import purity
from cryolearn.crevasse.surfaces.clusters import (
    OpticsParams,
    central_tiles,
    cluster_codebook,
)


def test_optics_separates_blobs():
    centres = np.array([[0, 0], [10, 0], [0, 10]], float)
    x, truth = blobs(40, centres, 0.5, seed=8)
    nodes = cluster_codebook(x, OpticsParams(min_samples=10, xi=0.1, min_cluster_size=20))
    assert nodes.n_clusters == 3
    assert (nodes.labels >= 0).mean() > 0.9
    assert purity(truth, nodes.labels) == 1.0
    assert adjusted_rand_score(truth, nodes.labels) > 0.95
    assert sorted(nodes.ordering.tolist()) == list(range(len(x)))


def test_optics_without_clusters_labels_everything_noise(caplog):
    # no two points within max_eps: every reachability is undefined, so no cluster can form
    x = np.random.default_rng(9).uniform(size=(30, 3))
    nodes = cluster_codebook(x, OpticsParams(min_samples=3, max_eps=1e-4))
    assert nodes.n_clusters == 0 and (nodes.labels == -1).all()
    assert "found no cluster" in caplog.text


def test_central_tiles_are_each_clusters_nearest_to_its_mean_in_any_blocks():
    rng = np.random.default_rng(3)
    features = rng.standard_normal((500, 6)).astype(np.float32)
    labels = rng.integers(-1, 4, 500)
    labels[labels == 3] = 2  # cluster 3 has no tile: its row is all padding
    # by brute force: distance to the member mean, ties to the lower row
    expected = np.full((4, 5), -1)
    for label in range(3):
        members = np.flatnonzero(labels == label)
        centre = features[members].astype(np.float64).mean(axis=0).astype(np.float32)
        distance = np.linalg.norm(features[members] - centre, axis=1)
        expected[label] = members[np.lexsort((members, distance))[:5]]
    for block_rows in (500, 64, 7):
        np.testing.assert_array_equal(central_tiles(features, labels, 4, 5, block_rows), expected)
    # two identical tiles tie, across a block boundary: the lower row comes first
    tied = np.array([[3, 3], [1, 1], [1, 1], [0, 0]], np.float32)  # mean (1.25, 1.25)
    np.testing.assert_array_equal(central_tiles(tied, np.zeros(4, int), 1, 4, 2), [[1, 2, 3, 0]])
