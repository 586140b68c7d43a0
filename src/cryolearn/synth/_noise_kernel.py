"""Compiled kernels of the world's hashing and value noise (numba).

The same arithmetic as the array expressions they replace, fused into one loop
per point: no temporaries, so the world evaluates several times faster and gives
the same numbers bit for bit (``tests/synth/test_noise.py`` checks it against the
array form).
"""

from __future__ import annotations

import numba
import numpy as np

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0x165667B19E3779F9)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / float(1 << 53)


@numba.njit(inline="always")
def _hash(i: np.int64, j: np.int64, salted: np.uint64) -> float:
    h = np.uint64(i) * _M1
    h ^= np.uint64(j) * _M2
    h ^= salted
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return float(h >> np.uint64(11)) * _INV_2_53


@numba.njit(cache=True)
def hash_kernel(i: np.ndarray, j: np.ndarray, salted: np.uint64) -> np.ndarray:
    """Uniform numbers of flat int64 lattice coordinates; ``salted`` = key × M3."""
    out = np.empty(i.shape[0], np.float64)
    for n in range(i.shape[0]):
        out[n] = _hash(i[n], j[n], salted)
    return out


@numba.njit(cache=True)
def value_noise_kernel(x: np.ndarray, y: np.ndarray, wavelength_m: float,
                       salted: np.uint64) -> np.ndarray:
    """Value noise in [-1, 1] of flat float64 coordinates (smoothstep interpolation)."""
    out = np.empty(x.shape[0], np.float64)
    for n in range(x.shape[0]):
        fx = x[n] / wavelength_m
        fy = y[n] / wavelength_m
        ix = np.floor(fx)
        iy = np.floor(fy)
        tx = fx - ix
        ty = fy - iy
        tx = tx * tx * (3.0 - 2.0 * tx)
        ty = ty * ty * (3.0 - 2.0 * ty)
        i = np.int64(ix)
        j = np.int64(iy)
        v00 = _hash(i, j, salted)
        v10 = _hash(i + 1, j, salted)
        v01 = _hash(i, j + 1, salted)
        v11 = _hash(i + 1, j + 1, salted)
        top = v00 + (v10 - v00) * tx
        bottom = v01 + (v11 - v01) * tx
        out[n] = 2.0 * (top + (bottom - top) * ty) - 1.0
    return out


@numba.njit(cache=True)
def nearest_zone_kernel(xw: np.ndarray, yw: np.ndarray, size: float, salted_x: np.uint64,
                        salted_y: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Lattice cell (zx, zy) of the nearest jittered zone centre among the 3 × 3 cells
    around each flat point (a Worley search); ties keep the first in (di, dj) order."""
    n = xw.shape[0]
    zx = np.empty(n, np.int64)
    zy = np.empty(n, np.int64)
    for k in range(n):
        ix = np.int64(np.floor(xw[k] / size))
        iy = np.int64(np.floor(yw[k] / size))
        best = np.inf
        bx = ix
        by = iy
        for di in range(-1, 2):
            for dj in range(-1, 2):
                cx = (ix + di + 0.1 + 0.8 * _hash(ix + di, iy + dj, salted_x)) * size
                cy = (iy + dj + 0.1 + 0.8 * _hash(ix + di, iy + dj, salted_y)) * size
                d2 = (xw[k] - cx) ** 2 + (yw[k] - cy) ** 2
                if d2 < best:
                    best = d2
                    bx = ix + di
                    by = iy + dj
        zx[k] = bx
        zy[k] = by
    return zx, zy
