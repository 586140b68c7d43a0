"""The compiled noise and crevasse kernels give the array expressions' numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.synth.noise import (
    fractal_noise,
    fractal_noise_arrays,
    hash_uniform,
    hash_uniform_arrays,
    nearest_zone,
    value_noise,
    value_noise_arrays,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams, _unique_cells, crevasse_set_arrays


@pytest.mark.parametrize(("seed", "salt"), [(0, 0), (20090402, 17), (7, 2**40 + 3)])
def test_hash_kernel_equals_the_array_form_including_negative_coordinates(seed, salt):
    rng = np.random.default_rng(seed % 1000)
    i = rng.integers(-10**9, 10**9, (50, 40))
    j = rng.integers(-10**9, 10**9, (50, 40))
    np.testing.assert_array_equal(hash_uniform(i, j, seed, salt),
                                  hash_uniform_arrays(i, j, seed, salt))
    # the kernel broadcasts: a column of i against a row of j
    bi, bj = np.broadcast_arrays(i[:, :1], j[:1])
    np.testing.assert_array_equal(hash_uniform(i[:, :1], j[:1], seed, salt),
                                  hash_uniform_arrays(bi.copy(), bj.copy(), seed, salt))


def test_value_noise_kernel_equals_the_array_form_on_a_world_sized_grid():
    x, y = np.meshgrid(np.linspace(-200000.0, -164000.0, 301), np.linspace(-2290000.0,
                                                                          -2254000.0, 211))
    for wavelength in (3.7, 350.0, 12000.0):
        fast = value_noise(x, y, wavelength, 20090402, 5)
        np.testing.assert_array_equal(fast, value_noise_arrays(x, y, wavelength, 20090402, 5))
        assert fast.shape == x.shape and -1.0 <= fast.min() and fast.max() <= 1.0
    # scalars and broadcast shapes keep their shapes
    assert value_noise(np.float64(3.0), np.float64(4.0), 10.0, 1, 2).shape == ()
    assert value_noise(x[:1], y[:, :1], 50.0, 1, 2).shape == x.shape


def test_fractal_noise_of_the_kernels_is_the_sum_of_its_octaves():
    x, y = np.meshgrid(np.arange(0.0, 500.0, 7.0), np.arange(0.0, 300.0, 11.0))
    expected = sum(0.5**o * value_noise_arrays(x, y, 100.0 / 2**o, 3, 9 * 131 + o)
                   for o in range(3)) / 1.75
    np.testing.assert_allclose(fractal_noise(x, y, 100.0, 3, 9), expected, rtol=0, atol=1e-15)
    # the fused octaves are the array form's sum, bit for bit, for any persistence
    for octaves, persistence in ((1, 0.5), (3, 0.5), (2, 0.35)):
        np.testing.assert_array_equal(
            fractal_noise(x, y, 420.0, 20090402, 12, octaves, persistence),
            fractal_noise_arrays(x, y, 420.0, 20090402, 12, octaves, persistence))


@pytest.mark.parametrize(("exponent", "skew"), [(1.0, 0.0), (4.0, 0.0), (1.0, 2.0)])
def test_crevasse_set_kernel_equals_the_array_form(exponent, skew):
    rng = np.random.default_rng(11)
    n = 50_000
    x, y = rng.uniform(-400.0, 400.0, n), rng.uniform(-400.0, 400.0, n)
    theta, spacing = rng.uniform(0.0, np.pi, n), rng.uniform(10.0, 60.0, n)
    width, depth = rng.uniform(1.0, 15.0, n), rng.uniform(1.0, 20.0, n)
    spread = rng.uniform(0.2, 0.6, n)
    world = SyntheticWorld(WorldParams())
    args = (x, y, theta, spacing, width, depth, np.full(n, exponent), 100, spread,
            np.full(n, skew))
    depth_k, k, t = world._crevasse_set(*args)
    depth_a, k_a, t_a = crevasse_set_arrays(world.params.seed, *args)
    np.testing.assert_array_equal(k, k_a)
    np.testing.assert_array_equal(t, t_a)
    np.testing.assert_array_equal(depth_k, depth_a)
    assert (depth_k > 0).mean() > 0.05 and (depth_k == 0).mean() > 0.3  # walls and blocks
    # scalars broadcast against per-point arrays
    scalar = world._crevasse_set(x[:5], y[:5], 0.3, 20.0, 5.0, 8.0, 1.0, 100)
    np.testing.assert_array_equal(
        scalar[0], crevasse_set_arrays(world.params.seed, x[:5], y[:5], 0.3, 20.0, 5.0, 8.0,
                                       1.0, 100)[0])


def test_unique_cells_counts_compact_blocks_and_sorts_sparse_ones():
    rng = np.random.default_rng(2)
    for spread in (3, 10**6):  # a frame's few zones, and cells far apart
        ix = rng.integers(-spread, spread, 5000) - 7
        iy = rng.integers(-spread, spread, 5000) + 11
        (ux, uy), inverse = _unique_cells(ix, iy)
        keys = np.unique(np.stack([ix, iy], 1), axis=0)
        np.testing.assert_array_equal(np.stack([ux, uy], 1), keys)
        np.testing.assert_array_equal(ux[inverse], ix)
        np.testing.assert_array_equal(uy[inverse], iy)


def test_nearest_zone_is_the_nearest_of_the_jittered_centres_around_each_point():
    rng = np.random.default_rng(4)
    xw = rng.uniform(-60000.0, 60000.0, 3000)
    yw = rng.uniform(-2.3e6, -2.2e6, 3000)
    size, seed = 350.0, 20090402
    zx, zy = nearest_zone(xw, yw, size, seed, 11, 12)
    # by brute force over a 5 x 5 neighbourhood of cells, the array form of the hash
    ix, iy = np.floor(xw / size).astype(np.int64), np.floor(yw / size).astype(np.int64)
    best = np.full(len(xw), np.inf)
    for di in range(-2, 3):
        for dj in range(-2, 3):
            cx = (ix + di + 0.1 + 0.8 * hash_uniform_arrays(ix + di, iy + dj, seed, 11)) * size
            cy = (iy + dj + 0.1 + 0.8 * hash_uniform_arrays(ix + di, iy + dj, seed, 12)) * size
            best = np.minimum(best, (xw - cx) ** 2 + (yw - cy) ** 2)
    cx = (zx + 0.1 + 0.8 * hash_uniform_arrays(zx, zy, seed, 11)) * size
    cy = (zy + 0.1 + 0.8 * hash_uniform_arrays(zx, zy, seed, 12)) * size
    np.testing.assert_array_equal((xw - cx) ** 2 + (yw - cy) ** 2, best)
