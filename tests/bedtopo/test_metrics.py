"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.bedtopo.metrics import grid_metrics, point_metrics, ruggedness_map


def test_metrics_known_answers():
    reference = np.array([0.0, 1.0, 2.0, 3.0])
    scores = point_metrics(reference + np.array([1.0, -1.0, 1.0, -1.0]), reference)
    assert scores["mae_m"] == 1 and scores["rmse_m"] == 1 and scores["bias_m"] == 0
    assert scores["r2"] == pytest.approx(1 - 4 / 5)
    plane = np.tile(np.arange(10.0) * 3.0, (10, 1))
    assert ruggedness_map(plane)[5, 5] == pytest.approx(3.0 * np.sqrt(6))
    region = np.zeros_like(plane, dtype=bool)
    region[2:8, 2:8] = True
    same = grid_metrics(plane, plane, region)
    assert same["rmse_m"] == 0 and same["ssim"] == pytest.approx(1.0)
    assert same["ruggedness_m"] == same["ruggedness_reference_m"]
