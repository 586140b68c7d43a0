"""Deterministic hashing and lattice value noise, evaluable at any point.

Every random quantity of the synthetic world is a pure function of integer
lattice coordinates, a seed and a salt, so a surface can be evaluated
anywhere, in any order, and give the same answer. :func:`hash_uniform` and
:func:`value_noise` run compiled kernels (:mod:`cryolearn.synth._noise_kernel`);
``hash_uniform_arrays`` and ``value_noise_arrays`` are the same arithmetic as
array expressions, the reference the kernels are checked and timed against.
"""

from __future__ import annotations

import numpy as np

from cryolearn.synth._noise_kernel import (
    _INV_2_53,
    _M1,
    _M2,
    _M3,
    _MIX1,
    _MIX2,
    fractal_noise_kernel,
    hash_kernel,
    nearest_zone_kernel,
    value_noise_kernel,
)


def _as_u64(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def hash_uniform_arrays(i: np.ndarray, j: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """:func:`hash_uniform` as array expressions (the reference of the compiled kernel);
    ``i`` and ``j`` of one shape."""
    with np.errstate(over="ignore"):
        key = np.uint64((seed * 0x2545F4914F6CDD1D + salt * 0x9E3779B1) & 0xFFFFFFFFFFFFFFFF)
        h = _as_u64(np.asarray(i, dtype=np.int64)) * _M1
        h ^= _as_u64(np.asarray(j, dtype=np.int64)) * _M2
        h ^= key * _M3
        # splitmix64 finaliser
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) * _INV_2_53


def _salted(seed: int, salt: int) -> np.uint64:
    """The key of a (seed, salt) field, already multiplied by the third hash constant."""
    with np.errstate(over="ignore"):
        key = np.uint64((seed * 0x2545F4914F6CDD1D + salt * 0x9E3779B1) & 0xFFFFFFFFFFFFFFFF)
        return key * _M3


def hash_uniform(i: np.ndarray, j: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Uniform numbers in [0, 1) hashed from integer lattice coordinates.

    Parameters
    ----------
    i, j : int64 arrays of the same (broadcastable) shape
    seed, salt : integers; a different salt gives an independent field

    Returns
    -------
    float64 array of the broadcast shape
    """
    bi, bj = np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
    flat = hash_kernel(np.ascontiguousarray(bi).ravel(), np.ascontiguousarray(bj).ravel(),
                       _salted(seed, salt))
    return flat.reshape(bi.shape)


def value_noise(
    x: np.ndarray, y: np.ndarray, wavelength_m: float, seed: int, salt: int
) -> np.ndarray:
    """Smooth lattice value noise in [-1, 1] with the given wavelength.

    Parameters
    ----------
    x, y : float arrays, metres
    wavelength_m : lattice spacing, metres
    seed, salt : integers selecting the field

    Returns
    -------
    float64 array of the broadcast shape of x and y
    """
    bx, by = np.broadcast_arrays(np.asarray(x, dtype=np.float64),
                                 np.asarray(y, dtype=np.float64))
    flat = value_noise_kernel(np.ascontiguousarray(bx).ravel(),
                              np.ascontiguousarray(by).ravel(), float(wavelength_m),
                              _salted(seed, salt))
    return flat.reshape(bx.shape)


def value_noise_arrays(
    x: np.ndarray, y: np.ndarray, wavelength_m: float, seed: int, salt: int
) -> np.ndarray:
    """:func:`value_noise` as array expressions (the reference of the compiled kernel)."""
    fx = np.asarray(x, dtype=np.float64) / wavelength_m
    fy = np.asarray(y, dtype=np.float64) / wavelength_m
    ix = np.floor(fx)
    iy = np.floor(fy)
    tx = fx - ix
    ty = fy - iy
    tx = tx * tx * (3.0 - 2.0 * tx)
    ty = ty * ty * (3.0 - 2.0 * ty)
    ix = ix.astype(np.int64)
    iy = iy.astype(np.int64)
    v00 = hash_uniform_arrays(ix, iy, seed, salt)
    v10 = hash_uniform_arrays(ix + 1, iy, seed, salt)
    v01 = hash_uniform_arrays(ix, iy + 1, seed, salt)
    v11 = hash_uniform_arrays(ix + 1, iy + 1, seed, salt)
    top = v00 + (v10 - v00) * tx
    bottom = v01 + (v11 - v01) * tx
    return 2.0 * (top + (bottom - top) * ty) - 1.0


def _octaves(wavelength_m: float, salt: int, octaves: int, persistence: float
             ) -> tuple[list[tuple[float, float, int]], float]:
    """(wavelength, amplitude, salt) of every octave, and the sum of the amplitudes."""
    layers, amplitude, norm = [], 1.0, 0.0
    for octave in range(octaves):
        layers.append((wavelength_m / 2.0**octave, amplitude, salt * 131 + octave))
        norm += amplitude
        amplitude *= persistence
    return layers, norm


def fractal_noise(
    x: np.ndarray,
    y: np.ndarray,
    wavelength_m: float,
    seed: int,
    salt: int,
    octaves: int = 3,
    persistence: float = 0.5,
) -> np.ndarray:
    """Sum of value-noise octaves, normalised to about [-1, 1].

    Each octave halves the wavelength and multiplies the amplitude by
    ``persistence``.
    """
    layers, norm = _octaves(wavelength_m, salt, octaves, persistence)
    bx, by = np.broadcast_arrays(np.asarray(x, dtype=np.float64),
                                 np.asarray(y, dtype=np.float64))
    flat = fractal_noise_kernel(
        np.ascontiguousarray(bx).ravel(), np.ascontiguousarray(by).ravel(),
        np.array([w for w, _, _ in layers]), np.array([a for _, a, _ in layers]),
        np.array([_salted(seed, s) for _, _, s in layers], dtype=np.uint64), norm)
    return flat.reshape(bx.shape)


def fractal_noise_arrays(
    x: np.ndarray,
    y: np.ndarray,
    wavelength_m: float,
    seed: int,
    salt: int,
    octaves: int = 3,
    persistence: float = 0.5,
) -> np.ndarray:
    """:func:`fractal_noise` as array expressions (the reference of the compiled kernel)."""
    layers, norm = _octaves(wavelength_m, salt, octaves, persistence)
    total = np.zeros(np.broadcast(x, y).shape)
    for wavelength, amplitude, octave_salt in layers:
        total += amplitude * value_noise_arrays(x, y, wavelength, seed, octave_salt)
    return total / norm


def nearest_zone(xw: np.ndarray, yw: np.ndarray, size: float, seed: int, salt_x: int,
                 salt_y: int) -> tuple[np.ndarray, np.ndarray]:
    """Lattice cell of the nearest zone centre to each point (a Worley search).

    Zone (i, j) of a lattice of ``size`` has its centre at ``(i + 0.1 + 0.8 u,
    j + 0.1 + 0.8 v) × size``, with u and v :func:`hash_uniform` of (i, j) under
    ``salt_x`` and ``salt_y``; the nearest centre is searched among the 3 × 3 cells
    around the point's own.

    Returns
    -------
    zx, zy : int64 arrays of the broadcast shape of xw and yw
    """
    bx, by = np.broadcast_arrays(np.asarray(xw, dtype=np.float64),
                                 np.asarray(yw, dtype=np.float64))
    zx, zy = nearest_zone_kernel(np.ascontiguousarray(bx).ravel(),
                                 np.ascontiguousarray(by).ravel(), float(size),
                                 _salted(seed, salt_x), _salted(seed, salt_y))
    return zx.reshape(bx.shape), zy.reshape(bx.shape)
