"""Compiled single-pass kernel of the forward model (numba).

One loop over each tile's pixels finds the highest point, a second deposits
each pixel's footprint weight into its range bin; tiles run in parallel. The
Gaussian footprint is separable, so the weight of pixel (i, j) is formed as
``wy[i] * wx[j]`` from two short vectors instead of being read from a full
weight image: that halves the memory traffic, which bounds this kernel.
"""

from __future__ import annotations

import numba
import numpy as np

_LANES = 4


@numba.njit(parallel=True, cache=True)
def histograms_kernel(
    tiles: np.ndarray,
    wy: np.ndarray,
    wx: np.ndarray,
    inv_bin: float,
    lead: float,
    n_samples: int,
    linear: bool,
) -> np.ndarray:
    """Energy histograms of (n, ny, nx) float32 tiles; weights ``wy[i] * wx[j]``."""
    n, ny, nx = tiles.shape
    out = np.zeros((n, n_samples), dtype=np.float64)
    for t in numba.prange(n):
        tile = tiles[t]
        zmax = tile[0, 0]
        for i in range(ny):
            for j in range(nx):
                if tile[i, j] > zmax:
                    zmax = tile[i, j]
        # neighbouring pixels mostly fall in the same bin; spreading them over
        # _LANES partial histograms breaks the chain of dependent updates
        part = np.zeros((_LANES, n_samples + 2), dtype=np.float64)
        for i in range(ny):
            row = tile[i]
            wi = wy[i]
            for j in range(nx):
                lane = part[j & (_LANES - 1)]
                w = wi * wx[j]
                pos = (zmax - row[j]) * inv_bin + lead
                b = min(int(pos), n_samples)
                if linear:
                    f = pos - int(pos)
                    lane[b] += w - w * f
                    lane[b + 1] += w * f
                else:
                    lane[b] += w
        for k in range(n_samples):
            acc = 0.0
            for lane_index in range(_LANES):
                acc += part[lane_index, k]
            out[t, k] = acc
    return out
