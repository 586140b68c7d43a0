"""The GLAS laser footprint on a tile grid, shared by the forward model and truth."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cryolearn.constants import FOOTPRINT_SIGMA_M, TILE_PIXEL_M


@lru_cache(maxsize=8)
def footprint_profile(
    size_px: int, pixel_m: float = TILE_PIXEL_M, sigma_m: float = FOOTPRINT_SIGMA_M
) -> np.ndarray:
    """One axis of the separable footprint: ``footprint_weights = outer(p, p)``.

    Returns
    -------
    (size_px,) float64 summing to 1, read-only
    """
    centres = (np.arange(size_px) + 0.5 - 0.5 * size_px) * pixel_m
    g = np.exp(-0.5 * (centres / sigma_m) ** 2)
    g /= g.sum()
    g.setflags(write=False)
    return g


@lru_cache(maxsize=8)
def footprint_weights(
    size_px: int, pixel_m: float = TILE_PIXEL_M, sigma_m: float = FOOTPRINT_SIGMA_M
) -> np.ndarray:
    """Gaussian footprint weights over a square tile, centred, summing to 1.

    Returns
    -------
    (size_px, size_px) float64, read-only
    """
    g = footprint_profile(size_px, pixel_m, sigma_m)
    w = np.outer(g, g)
    w.setflags(write=False)
    return w
