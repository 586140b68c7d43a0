"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import gstools as gs
import numpy as np
import pytest

from cryolearn.bedtopo.baselines import (
    KrigingSettings,
    kriging_bed,
    linear_bed,
    ordinary_kriging,
)
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


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("model", [gs.Exponential, gs.Spherical, gs.Gaussian])
def test_blas_kriging_solves_gstools_ordinary_kriging_system(model, exact):
    """The same estimate and variance as gstools' Ordinary solved by the exact inverse
    (pseudo_inv=False), at targets and at data points."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 20_000, (300, 2))
    values = 100 * np.sin(points[:, 0] / 3000) + rng.normal(0, 5, 300)
    targets = np.vstack([rng.uniform(0, 20_000, (500, 2)), points[:20]])
    covariance = model(dim=2, var=5000.0, len_scale=4000.0, nugget=25.0)
    reference = gs.krige.Ordinary(covariance, cond_pos=tuple(points.T), cond_val=values,
                                  exact=exact, pseudo_inv=False)
    field, variance = reference.unstructured(tuple(targets.T), return_var=True)
    ours, our_variance = ordinary_kriging(covariance, points, values, targets, exact=exact,
                                          chunk=128)
    np.testing.assert_allclose(ours, field, atol=1e-6)
    np.testing.assert_allclose(our_variance, variance, atol=1e-6)
    if exact:
        np.testing.assert_allclose(ours[-20:], values[:20], atol=1e-6)


def test_kriging_of_a_singular_system_falls_back_to_gstools_pseudo_inverse():
    points = np.column_stack([np.linspace(0, 1000, 200), np.zeros(200)])
    values = np.sin(points[:, 0] / 300)
    covariance = gs.Gaussian(dim=2, var=1.0, len_scale=5000.0, nugget=0.0)
    targets = np.array([[500.0, 10.0], [250.0, -10.0]])
    reference = gs.krige.Ordinary(covariance, cond_pos=tuple(points.T), cond_val=values)
    field, variance = reference.unstructured(tuple(targets.T), return_var=True)
    ours, our_variance = ordinary_kriging(covariance, points, values, targets)
    np.testing.assert_array_equal(ours, field)
    np.testing.assert_array_equal(our_variance, variance)


def test_linear_interpolation_is_exact_on_a_plane():
    grid = GridSpec.from_bounds((0, 0, 3000, 3000), 150.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-500, 3500, 200), rng.uniform(-500, 3500, 200)
    estimate = linear_bed(x, y, 2.0 * x - 0.5 * y + 10, grid)
    gx, gy = np.meshgrid(grid.x, grid.y)
    np.testing.assert_allclose(estimate, 2.0 * gx - 0.5 * gy + 10, atol=1e-3)
