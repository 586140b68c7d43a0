"""Figures of the unsupervised stage: cluster colours and the boundaries drawn on the map."""

import numpy as np

from cryolearn.crevasse.figures.surfaces import _boundary_segments, cluster_colours
from cryolearn.crevasse.surfaces.som import MapGrid


def test_noise_is_grey_and_clusters_take_distinct_colours():
    colours = cluster_colours(np.array([-1, *range(18)]))
    assert colours[0] == (0.7, 0.7, 0.7, 1.0)
    assert len(set(colours[1:])) == 18 and colours[0] not in colours[1:]


def test_boundaries_cross_exactly_the_edges_between_clusters():
    # a 2 × 3 rectangular map split down its middle column: labels 0 0 1 / 0 1 1
    grid = MapGrid(2, 3, "planar", "rectangular")
    segments = _boundary_segments(grid, np.array([0, 0, 1, 0, 1, 1]))
    # edges (0,1)? no; (1,2) yes; (1,4) yes; (3,4) yes; (0,3), (2,5), (4,5), (0,1) no
    assert segments.shape == (3, 2, 2)
    midpoints = sorted(map(tuple, segments.mean(axis=1).round(6)))
    assert midpoints == [(0.5, 1.0), (1.0, 0.5), (1.5, 0.0)]
    np.testing.assert_allclose(np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1), 1.0)


def test_edges_that_wrap_around_a_toroid_are_not_drawn():
    grid = MapGrid(2, 4, "toroid", "rectangular")
    labels = np.array([0, 1, 1, 0, 0, 1, 1, 0])
    drawn = _boundary_segments(grid, labels)
    pos = grid.positions()
    differing_near = sum(labels[i] != labels[j] and np.linalg.norm(pos[i] - pos[j]) <= 1.01
                         for i, j in grid.adjacent_pairs())
    assert len(drawn) == differing_near == 4
