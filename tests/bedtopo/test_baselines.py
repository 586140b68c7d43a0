"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np

from cryolearn.bedtopo.baselines import KrigingSettings, kriging_bed, linear_bed
from cryolearn.io.grids import (
    GridSpec,
)


def _smooth_field(x, y):
    return 300 * np.sin(x / 4000.0) + 200 * np.cos(y / 5000.0) + 0.01 * x


def test_kriging_reproduces_a_known_field_at_data_points_and_between_lines():
    grid = GridSpec.from_bounds((0, 0, 12_000, 12_000), 200.0)
    gx, gy = np.meshgrid(grid.x, grid.y)
    lines = np.zeros(grid.shape, dtype=bool)
    lines[::10, :] = True
    lines[:, ::10] = True
    x, y = gx[lines], gy[lines]
    values = _smooth_field(x, y)
    settings = KrigingSettings(max_points=len(values), exact=True, max_lag_m=8000.0)
    estimate, sd, variogram = kriging_bed(x, y, values, grid, settings)
    np.testing.assert_allclose(estimate[lines], values, atol=1e-3)
    assert np.all(sd[lines] < 1e-2)
    truth = _smooth_field(gx, gy)
    assert np.sqrt(np.mean((estimate - truth)[~lines] ** 2)) < 0.02 * np.ptp(truth)
    assert variogram.r2 > 0.9


def test_linear_interpolation_is_exact_on_a_plane():
    grid = GridSpec.from_bounds((0, 0, 3000, 3000), 150.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-500, 3500, 200), rng.uniform(-500, 3500, 200)
    estimate = linear_bed(x, y, 2.0 * x - 0.5 * y + 10, grid)
    gx, gy = np.meshgrid(grid.x, grid.y)
    np.testing.assert_allclose(estimate, 2.0 * gx - 0.5 * gy + 10, atol=1e-3)
