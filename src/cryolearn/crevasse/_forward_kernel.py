"""Compiled single-pass kernel of the forward model (numba).

One loop over each tile's pixels finds the highest point, a second deposits
each pixel's footprint weight into its range bin; tiles run in parallel.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, fastmath=False)
def histograms_kernel(
    tiles: np.ndarray,
    weights: np.ndarray,
    inv_bin: float,
    lead: float,
    n_samples: int,
    linear: bool,
) -> np.ndarray:
    """Energy histograms of (n, npix) float32 tiles with (npix,) float64 weights."""
    n, npix = tiles.shape
    out = np.zeros((n, n_samples + 2), dtype=np.float64)
    for t in numba.prange(n):
        row = tiles[t]
        zmax = row[0]
        for p in range(1, npix):
            if row[p] > zmax:
                zmax = row[p]
        hist = out[t]
        for p in range(npix):
            pos = (zmax - row[p]) * inv_bin + lead
            b = int(pos)
            if b >= n_samples:
                hist[n_samples] += weights[p]
            elif linear:
                f = pos - b
                hist[b] += weights[p] * (1.0 - f)
                hist[b + 1] += weights[p] * f
            else:
                hist[b] += weights[p]
    return out[:, :n_samples]
