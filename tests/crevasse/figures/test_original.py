"""Which hold-out queries the hold-out figure shows."""

from __future__ import annotations

import numpy as np

from cryolearn.classes import CLASS_CODE
from cryolearn.crevasse.figures.original import pick_holdout_queries


def test_each_class_shows_its_query_of_median_distance_in_the_figures_order():
    crevasses, bowl, smooth = (CLASS_CODE[c] for c in ("crevasses", "moulin_bowl", "smooth"))
    query_class = np.array([smooth, crevasses, crevasses, bowl, crevasses, -1, smooth])
    distance = np.array([0.5, 0.3, 0.1, 0.9, 0.2, 0.0, 0.4])
    picks = pick_holdout_queries(query_class, distance)
    # crevasses first (distances 0.1, 0.2, 0.3: the median is query 4), then the bowl,
    # then smooth (0.4, 0.5: the upper middle, query 0); unknown classes never
    assert picks == [("crevasses", 4), ("moulin_bowl", 3), ("smooth", 0)]
    assert pick_holdout_queries(query_class, distance, n_classes=1) == [("crevasses", 4)]
