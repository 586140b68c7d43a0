"""Writing GeoTIFFs the way every raster of cryolearn is written: atomically, bands named."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine


def write_geotiff(path: str | Path, bands: Sequence[np.ndarray], *, transform: Affine,
                  crs: str, nodata: float, tags: Mapping[str, str] | None = None,
                  names: Sequence[str] | None = None, compress: str = "deflate",
                  options: Mapping[str, object] | None = None) -> None:
    """Write same-shape bands (in the first band's dtype) under a temporary name, then rename.

    Parameters
    ----------
    bands : 2-D arrays, written as bands 1, 2, …
    transform, crs, nodata : georeferencing and the nodata value of every band
    tags : dataset tags (strings)
    names : band descriptions, one per band
    compress : GDAL compression
    options : further GDAL creation options (``predictor``, ``zstd_level``, …)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = np.asarray(bands[0])
    profile = {"driver": "GTiff", "width": first.shape[1], "height": first.shape[0],
               "count": len(bands), "dtype": first.dtype, "crs": crs, "transform": transform,
               "nodata": nodata, "compress": compress, **(options or {})}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, band in enumerate(bands, start=1):
                dst.write(np.asarray(band, dtype=first.dtype), i)
                if names:
                    dst.set_band_description(i, names[i - 1])
            if tags:
                dst.update_tags(**tags)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
