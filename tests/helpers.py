"""Shared generators of small test data, written in the real formats."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine

DEFAULT_TRANSFORM = Affine(0.45, 0, -190000.0, 0, -0.45, -2280000.0)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data_dir() -> Path:
    """The real sample data folder (``$CRYOLEARN_SHARED_DATA`` or ``../shared/data``)."""
    return Path(os.environ.get("CRYOLEARN_SHARED_DATA", SHARED_DATA))


def write_geotiff(
    path: Path,
    data: np.ndarray,
    transform: Affine | None = DEFAULT_TRANSFORM,
    crs: str | None = "EPSG:3413",
    nodata: float | None = -32767.0,
) -> Path:
    """Write a single-band GeoTIFF with rasterio (transform or crs may be omitted)."""
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype}
    if transform is not None:
        profile["transform"] = transform
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def ramp_dem(rows: int = 300, cols: int = 320, pixel: float = 0.45) -> tuple[np.ndarray, Affine]:
    """A tilted plane z = 1000 + 0.02 x - 0.01 y (float32) and its transform."""
    transform = Affine(pixel, 0, -190000.0, 0, -pixel, -2280000.0)
    cc, rr = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    x, y = transform @ (cc, rr)
    z = 1000.0 + 0.02 * (x + 190000.0) - 0.01 * (y + 2280000.0)
    return z.astype(np.float32), transform


def plane_tiles(n: int, slope_x: float, slope_y: float = 0.0, size: int = 200,
                pixel: float = 0.5) -> np.ndarray:
    """(n, size, size) float32 tiles of a plane with the given slopes (dz/dx, dz/dy)."""
    c = (np.arange(size) + 0.5 - size / 2) * pixel
    x, y = np.meshgrid(c, -c)
    z = slope_x * x + slope_y * y
    return np.repeat(z[None].astype(np.float32), n, axis=0)
