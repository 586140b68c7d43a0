"""The SOM evaluation: neighbour agreement by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.som import (
    nearest_others,
    neighbour_agreement,
)


def test_neighbour_agreement_known_answer():
    # two classes on a line: each point's nearest neighbours are its own class
    x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]], np.float32)
    classes = np.array([0, 0, 0, 1, 1, 1])
    neighbours = nearest_others(x, 4)
    mean, per_item = neighbour_agreement(neighbours, classes, k=2)
    assert mean == 1.0 and per_item.tolist() == [1.0] * 6
    mean3, _ = neighbour_agreement(neighbours, classes, k=3)
    assert mean3 == pytest.approx(2 / 3)
    # excluding neighbours within 1 m on the ground leaves the other class only
    positions = np.array([[0, 0], [0.5, 0], [0.9, 0], [10, 0], [10.5, 0], [10.9, 0]])
    far, _ = neighbour_agreement(neighbours, classes, k=2, positions=positions,
                                 exclude_within_m=1.0)
    assert far == 0.0
