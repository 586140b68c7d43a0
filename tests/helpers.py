"""Shared generators of small test data, written in the real formats."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import rasterio
from rasterio.transform import Affine

from cryolearn.io.zarrstore import create_group, write_array

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


def write_clustering(root: Path, tile_label: np.ndarray, n_clusters: int) -> dict[str, Path]:
    """A library (small tiles), a clusters store and montages, as the pipeline writes them."""
    n = len(tile_label)
    hashes = np.array([f"h{i:04d}" for i in range(n)])
    rng = np.random.default_rng(0)
    library = create_group(root / "library.zarr")
    write_array(library, "elevation", rng.normal(0, 1, (n, 20, 20)).astype(np.float32),
                ("tile", "row", "col"))
    write_array(library, "hash", hashes, ("tile",), dtype=str)
    clusters = create_group(root / "clusters.zarr", {"n_clusters": n_clusters})
    write_array(clusters, "node_label", np.arange(n_clusters, dtype=np.int32), ("node",))
    write_array(clusters, "tile_label", tile_label.astype(np.int32), ("tile",))
    central = np.full((n_clusters, 2), -1, np.int32)
    for c in range(n_clusters):
        members = np.flatnonzero(tile_label == c)[:2]
        central[c, :len(members)] = members
    write_array(clusters, "central_tile", central, ("cluster", "rank"))
    write_array(clusters, "hash", hashes, ("tile",), dtype=str)
    montages = root / "montages"
    montages.mkdir()
    for c in range(n_clusters):
        plt.imsave(montages / f"cluster_{c:04d}.png", rng.random((8, 8)))
    return {"library": root / "library.zarr", "clusters": root / "clusters.zarr",
            "montages": montages}


def write_matches(path: Path, neighbour: np.ndarray, distance: np.ndarray,
                  matched: np.ndarray, x: np.ndarray, y: np.ndarray) -> Path:
    n = len(neighbour)
    group = create_group(path, {"campaign": path.stem})
    write_array(group, "neighbour", neighbour.astype(np.int64), ("shot", "k"))
    write_array(group, "distance", distance.astype(np.float32), ("shot", "k"))
    write_array(group, "matched", matched, ("shot",))
    write_array(group, "x", x, ("shot",))
    write_array(group, "y", y, ("shot",))
    for name in ("lat", "lon", "time"):
        write_array(group, name, np.zeros(n), ("shot",))
    write_array(group, "rec_ndx", np.arange(n, dtype=np.int64), ("shot",))
    write_array(group, "shot_count", np.ones(n, np.int32), ("shot",))
    return path
