"""The compiled noise kernels give the array expressions' numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.synth.noise import (
    fractal_noise,
    hash_uniform,
    hash_uniform_arrays,
    nearest_zone,
    value_noise,
    value_noise_arrays,
)


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
