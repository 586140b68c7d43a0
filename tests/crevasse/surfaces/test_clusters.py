"""OPTICS clusters of the SOM codebook (rule cluster_som)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from helpers import blobs
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.evaluate.som import purity
from cryolearn.crevasse.surfaces.clusters import (
    OpticsParams,
    central_tiles,
    cluster_codebook,
    graph_neighbours,
    graph_was_enough,
    neighbour_graph,
)

THREE_BLOBS = np.array([[0, 0], [10, 0], [0, 10]], float)


def test_optics_separates_blobs():
    x, truth = blobs(40, THREE_BLOBS, 0.5, seed=8)
    nodes = cluster_codebook(x, OpticsParams(min_samples=10, xi=0.1, min_cluster_size=20))
    assert nodes.n_clusters == 3
    assert (nodes.labels >= 0).mean() > 0.9
    assert purity(truth, nodes.labels) == 1.0
    assert adjusted_rand_score(truth, nodes.labels) > 0.95
    assert sorted(nodes.ordering.tolist()) == list(range(len(x)))


def test_graph_neighbours_are_what_the_memory_holds():
    # 1 GiB at 12 bytes a neighbour: 1,491 for each of the original's 60,000 nodes
    assert graph_neighbours(60_000, 8, 1024) == 1491
    assert graph_neighbours(300, 8, 1024) == 300  # every pair
    assert graph_neighbours(10**7, 8, 1) == 8  # never fewer than min_samples


def test_neighbour_graph_is_each_nodes_nearest_in_any_blocks():
    x = np.random.default_rng(4).standard_normal((50, 4))
    distance = np.linalg.norm(x[:, None] - x[None], axis=2)
    nearest = np.argsort(distance, axis=1)[:, :6]
    for block_rows in (50, 7):
        graph = neighbour_graph(x, 6, block_rows)
        assert graph.shape == (50, 50) and graph.nnz == 300
        np.testing.assert_array_equal(graph.indices.reshape(50, 6), nearest)
        np.testing.assert_allclose(graph.data.reshape(50, 6),
                                   np.take_along_axis(distance, nearest, axis=1), atol=1e-6)
        assert graph.indices[::6].tolist() == list(range(50))  # itself first, at 0


def test_graph_was_enough_known_steps():
    ordering = np.array([0, 1, 2])
    # step 2 (reachability 2) is below what node 0's row holds (2.5): no pair missed
    assert graph_was_enough(ordering, np.array([np.inf, 1.0, 2.0]), np.array([2.5, 5, np.inf]))
    # node 0's row stops at 1.5: a pair beyond it could have reached node 2 below 2
    assert not graph_was_enough(ordering, np.array([np.inf, 1.0, 2.0]),
                                np.array([1.5, 5, np.inf]))
    # node 1 unreachable from node 0, whose row held every node: OPTICS on all pairs too
    assert graph_was_enough(ordering, np.array([np.inf, np.inf, 1.0]),
                            np.array([np.inf, 3.0, np.inf]))
    assert not graph_was_enough(ordering, np.array([np.inf, np.inf, 1.0]),
                                np.array([2.0, 3.0, np.inf]))


def test_optics_on_part_of_the_graph_is_exact_when_it_says_so(caplog):
    x, _ = blobs(40, THREE_BLOBS, 0.5, seed=8)
    params = OpticsParams(min_samples=10, xi=0.1, min_cluster_size=20)
    full = cluster_codebook(x, params)
    assert full.neighbours == 120 and full.exact

    def with_neighbours(k: int):
        return cluster_codebook(x, replace(params, graph_memory_mb=k * 12 * 120 / 2**20))

    half = with_neighbours(60)
    assert half.neighbours == 60 and half.exact and "graph_memory_mb" not in caplog.text
    for name in ("labels", "ordering", "reachability", "core_distance"):
        np.testing.assert_array_equal(getattr(half, name), getattr(full, name))
    # a blob's own 40 nodes: the jumps between blobs are pairs the graph lacks
    own = with_neighbours(40)
    assert not own.exact and "graph_memory_mb" in caplog.text
    assert not np.array_equal(own.ordering, full.ordering)
    assert own.n_clusters == 3


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
