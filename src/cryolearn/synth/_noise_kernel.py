"""Compiled kernels of the world's hashing, value noise and crevasse sets (numba).

The same arithmetic as the array expressions they replace, fused into one loop
per point: no temporaries, so the world evaluates several times faster and gives
the same numbers bit for bit (``tests/synth/test_noise.py`` checks it against the
array form). The loops are branch-free and divide under numpy's error model (no
zero-division check, IEEE results as numpy's), so that LLVM vectorises them; the
powers of the crevasse walls stay with numpy, whose vectorised ``power`` rounds a
few values differently from the C library's ``pow``.
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


@numba.njit(inline="always", error_model="numpy")
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


@numba.njit(cache=True, error_model="numpy")
def hash_kernel(i: np.ndarray, j: np.ndarray, salted: np.uint64) -> np.ndarray:
    """Uniform numbers of flat int64 lattice coordinates; ``salted`` = key × M3."""
    out = np.empty(i.shape[0], np.float64)
    for n in range(i.shape[0]):
        out[n] = _hash(i[n], j[n], salted)
    return out


@numba.njit(inline="always", error_model="numpy")
def lattice_position(x: float, y: float, wavelength_m: float
                     ) -> tuple[float, float, float, float]:
    """A point's lattice cell (as floats) and its smoothstepped place within it."""
    fx = x / wavelength_m
    fy = y / wavelength_m
    ix = np.floor(fx)
    iy = np.floor(fy)
    tx = fx - ix
    ty = fy - iy
    return ix, iy, tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty)


@numba.njit(inline="always", error_model="numpy")
def interpolate_corners(v00: float, v10: float, v01: float, v11: float, tx: float,
                        ty: float) -> float:
    """Value noise in [-1, 1] from a cell's corner values and the smoothstepped place."""
    top = v00 + (v10 - v00) * tx
    bottom = v01 + (v11 - v01) * tx
    return 2.0 * (top + (bottom - top) * ty) - 1.0


@numba.njit(inline="always", error_model="numpy")
def _value_noise(x: float, y: float, wavelength_m: float, salted: np.uint64) -> float:
    """Value noise at one point (branch-free, so that loops over points vectorise)."""
    ix, iy, tx, ty = lattice_position(x, y, wavelength_m)
    i = np.int64(ix)
    j = np.int64(iy)
    return interpolate_corners(_hash(i, j, salted), _hash(i + 1, j, salted),
                               _hash(i, j + 1, salted), _hash(i + 1, j + 1, salted), tx, ty)


@numba.njit(cache=True, error_model="numpy")
def value_noise_kernel(x: np.ndarray, y: np.ndarray, wavelength_m: float,
                       salted: np.uint64) -> np.ndarray:
    """Value noise in [-1, 1] of flat float64 coordinates (smoothstep interpolation)."""
    out = np.empty(x.shape[0], np.float64)
    for n in range(x.shape[0]):
        out[n] = _value_noise(x[n], y[n], wavelength_m, salted)
    return out


@numba.njit(cache=True, error_model="numpy")
def fractal_noise_kernel(x: np.ndarray, y: np.ndarray, wavelengths_m: np.ndarray,
                         amplitudes: np.ndarray, salted: np.ndarray, norm: float) -> np.ndarray:
    """Sum of value-noise octaves over ``norm``: octave o has its own wavelength,
    amplitude and salted key, added in order from a sum of 0 (a loop over the points
    per octave, so that it vectorises)."""
    n_points = x.shape[0]
    out = np.zeros(n_points, np.float64)
    for o in range(wavelengths_m.shape[0]):
        wavelength = wavelengths_m[o]
        amplitude = amplitudes[o]
        key = salted[o]
        for n in range(n_points):
            out[n] += amplitude * _value_noise(x[n], y[n], wavelength, key)
    for n in range(n_points):
        out[n] = out[n] / norm
    return out


@numba.njit(cache=True, error_model="numpy")
def nearest_zone_kernel(xw: np.ndarray, yw: np.ndarray, size: float, salted_x: np.uint64,
                        salted_y: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Lattice cell (zx, zy) of the nearest jittered zone centre among the 3 × 3 cells
    around each flat point (a Worley search); ties keep the first in (di, dj) order."""
    zx = np.empty(xw.shape[0], np.int64)
    zy = np.empty(xw.shape[0], np.int64)
    nearest_zone_into(xw, yw, size, salted_x, salted_y, zx, zy)
    return zx, zy


@numba.njit(inline="always", error_model="numpy")
def _candidate_centres(ix: np.int64, iy: np.int64, size: float, salted_x: np.uint64,
                       salted_y: np.uint64, cx: np.ndarray, cy: np.ndarray) -> None:
    """The jittered centres of the 3 × 3 zone cells around cell (ix, iy), in (di, dj)
    order, into ``cx`` and ``cy``."""
    c = 0
    for di in range(-1, 2):
        for dj in range(-1, 2):
            cx[c] = (ix + di + 0.1 + 0.8 * _hash(ix + di, iy + dj, salted_x)) * size
            cy[c] = (iy + dj + 0.1 + 0.8 * _hash(ix + di, iy + dj, salted_y)) * size
            c += 1


@numba.njit(inline="always", error_model="numpy")
def _nearest_of_nine(x: float, y: float, cx: np.ndarray, cy: np.ndarray) -> int:
    """Which of the nine candidate centres is nearest (x, y), the first of equals;
    branch-free, so that loops over points vectorise."""
    best = np.inf
    found = 0
    for c in range(9):
        d2 = (x - cx[c]) ** 2 + (y - cy[c]) ** 2
        closer = d2 < best
        best = d2 if closer else best
        found = c if closer else found
    return found


@numba.njit(error_model="numpy")
def nearest_zone_in_cell(xw: np.ndarray, yw: np.ndarray, ix: np.int64, iy: np.int64,
                         size: float, salted_x: np.uint64, salted_y: np.uint64,
                         zx: np.ndarray, zy: np.ndarray) -> None:
    """:func:`nearest_zone_into` for points that all lie in lattice cell (ix, iy): the
    nine candidate centres are the same for all, so the search vectorises."""
    cx = np.empty(9)
    cy = np.empty(9)
    _candidate_centres(ix, iy, size, salted_x, salted_y, cx, cy)
    for k in range(xw.shape[0]):
        found = _nearest_of_nine(xw[k], yw[k], cx, cy)
        zx[k] = ix + found // 3 - 1
        zy[k] = iy + found % 3 - 1


@numba.njit(error_model="numpy")
def nearest_zone_into(xw: np.ndarray, yw: np.ndarray, size: float, salted_x: np.uint64,
                      salted_y: np.uint64, zx: np.ndarray, zy: np.ndarray) -> None:
    """:func:`nearest_zone_kernel` into given outputs."""
    # the nine candidate centres of the last point's cell, reused while points stay in it
    cx = np.empty(9)
    cy = np.empty(9)
    last_x = np.int64(0)
    last_y = np.int64(0)
    for k in range(xw.shape[0]):
        ix = np.int64(np.floor(xw[k] / size))
        iy = np.int64(np.floor(yw[k] / size))
        if k == 0 or ix != last_x or iy != last_y:
            last_x = ix
            last_y = iy
            _candidate_centres(ix, iy, size, salted_x, salted_y, cx, cy)
        found = _nearest_of_nine(xw[k], yw[k], cx, cy)
        zx[k] = ix + found // 3 - 1
        zy[k] = iy + found % 3 - 1


@numba.njit(inline="always", error_model="numpy")
def crevasse_geometry(x: float, y: float, sin_theta: float, cos_theta: float, spacing: float,
                      width: float, meander: float, salted_k: np.uint64,
                      salted_seg: np.uint64) -> tuple[np.int64, float, float, float, float]:
    """One set of parallel crevasses at one point, given the value of its meander's
    noise there (160 m): the crevasse index k, the position across its block t, the
    distance from its axis over its half-width r, its depth draw and its segment's
    taper (0 on a closed segment)."""
    across = -x * sin_theta + y * cos_theta
    along = x * cos_theta + y * sin_theta
    across = across + 0.25 * spacing * meander
    pos = across / spacing
    k = np.int64(np.floor(pos))
    t = pos - k - 0.5
    kw = _hash(k, k, salted_k)
    half_width = 0.5 * width * (0.6 + 0.8 * kw)
    seg_len = 60.0 + 200.0 * _hash(k, k + 7, salted_seg)
    offset = seg_len * _hash(k, k - 7, salted_seg)
    seg_pos = (along + offset) / seg_len
    seg = np.int64(np.floor(seg_pos))
    open_seg = np.float64(_hash(k, seg, salted_seg) < 0.8)
    frac = seg_pos - seg
    taper = min(max(min(frac, 1.0 - frac) * seg_len / 25.0, 0.0), 1.0)
    return (k, t, abs(t) * spacing / half_width, _hash(k, -k, salted_k), taper * open_seg)


@numba.njit(cache=True, error_model="numpy")
def crevasse_set_kernel(x: np.ndarray, y: np.ndarray, sin_theta: np.ndarray,
                        cos_theta: np.ndarray, spacing: np.ndarray, width: np.ndarray,
                        salted_meander: np.uint64, salted_k: np.uint64, salted_seg: np.uint64
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`crevasse_geometry` at flat points (``SyntheticWorld._crevasse_set``),
    branch-free so that it vectorises. The powers of the wall profile and depth draw
    are left to the caller."""
    n_points = x.shape[0]
    k_out = np.empty(n_points, np.int64)
    t_out = np.empty(n_points, np.float64)
    r_out = np.empty(n_points, np.float64)
    kd_out = np.empty(n_points, np.float64)
    taper_out = np.empty(n_points, np.float64)
    for n in range(n_points):
        k_out[n], t_out[n], r_out[n], kd_out[n], taper_out[n] = crevasse_geometry(
            x[n], y[n], sin_theta[n], cos_theta[n], spacing[n], width[n],
            _value_noise(x[n], y[n], 160.0, salted_meander), salted_k, salted_seg)
    return k_out, t_out, r_out, kd_out, taper_out
