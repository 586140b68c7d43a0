"""OPTICS clusters of the SOM codebook (rule cluster_som)."""

from __future__ import annotations

import numpy as np
from helpers import blobs
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.evaluate.som import purity
from cryolearn.crevasse.surfaces.clusters import (
    OpticsParams,
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
