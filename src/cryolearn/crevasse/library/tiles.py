"""Cutting DEM frames into 100 m tiles and writing a flight's tile shard.

Each frame is resampled bilinearly onto its own 0.5 m grid (aligned with the
frame's upper-left corner), so overlapping frames give offset views of the same
ice, as in the original work. Windows of 200 x 200 pixels with any nodata are
dropped; the rest have their mean removed (kept as ``z0``) and are identified by
the sha256 of their float32 bytes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from rasterio.transform import Affine
from rasterio.warp import transform as transform_points
from scipy.ndimage import map_coordinates
from tqdm import tqdm

from cryolearn.constants import TILE_PIXEL_M, TILE_SIZE_PX
from cryolearn.io.dem import DemError, DemFrame, read_dem
from cryolearn.io.zarrstore import append, atomic_store, create_array, create_group

log = logging.getLogger(__name__)

#: tiles per chunk of the elevation array (64 x 200 x 200 float32 = 10 MB)
TILE_CHUNK = 64


@dataclass
class TileBatch:
    """Tiles cut from one frame.

    Attributes
    ----------
    elevation : (n, size, size) float32, metres, mean removed; row 0 is north
    z0 : (n,) float64, the removed mean elevation, metres
    x, y : (n,) float64, tile centres in the frame's CRS, metres
    hash : (n,) str, sha256 hex of each tile's float32 bytes
    """

    elevation: np.ndarray
    z0: np.ndarray
    x: np.ndarray
    y: np.ndarray
    hash: np.ndarray

    def __len__(self) -> int:
        return len(self.z0)


def tile_hash(tile: np.ndarray) -> str:
    """sha256 hex digest of a tile's little-endian float32 bytes."""
    return hashlib.sha256(np.ascontiguousarray(tile, dtype="<f4").tobytes()).hexdigest()


def resample_frame(frame: DemFrame, pixel_m: float = TILE_PIXEL_M) -> tuple[np.ndarray, Affine]:
    """Bilinear resampling of a frame onto a north-up grid of ``pixel_m`` pixels.

    The grid starts at the frame's upper-left corner and covers whole pixels
    inside the frame. An output pixel is NaN when any of the four source pixels
    around it is nodata, so nodata never leaks into a kept value.

    Returns
    -------
    elevation : (rows, cols) float32
    transform : affine transform of the new grid
    """
    src = frame.transform
    height, width = frame.elevation.shape
    xs = [src @ (c, r) for c, r in ((0, 0), (width, 0), (0, height), (width, height))]
    x0, x1 = min(p[0] for p in xs), max(p[0] for p in xs)
    y0, y1 = min(p[1] for p in xs), max(p[1] for p in xs)
    cols = int(np.floor((x1 - x0) / pixel_m + 1e-9))
    rows = int(np.floor((y1 - y0) / pixel_m + 1e-9))
    dst = Affine(pixel_m, 0.0, x0, 0.0, -pixel_m, y1)
    if rows < TILE_SIZE_PX or cols < TILE_SIZE_PX:
        return np.full((rows, cols), np.nan, np.float32), dst
    cc, rr = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    gx, gy = dst @ (cc, rr)
    inverse = ~src
    src_col, src_row = inverse @ (gx, gy)
    del cc, rr, gx, gy
    values = map_coordinates(
        frame.elevation, [src_row - 0.5, src_col - 0.5], order=1, mode="constant", cval=np.nan,
        prefilter=False,
    )
    return values.astype(np.float32), dst


def cut_tiles(
    grid: np.ndarray, transform: Affine, size_px: int = TILE_SIZE_PX, stride_px: int = TILE_SIZE_PX
) -> TileBatch:
    """Windows of ``size_px`` pixels without nodata, mean removed and hashed.

    Parameters
    ----------
    grid : (rows, cols) float32 resampled elevation, NaN for nodata
    transform : its affine transform
    size_px, stride_px : window size and step in pixels

    Returns
    -------
    TileBatch
    """
    empty = TileBatch(
        np.empty((0, size_px, size_px), np.float32), *(np.empty(0) for _ in range(3)),
        np.empty(0, dtype=object),
    )
    if grid.shape[0] < size_px or grid.shape[1] < size_px:
        return empty
    windows = sliding_window_view(grid, (size_px, size_px))[::stride_px, ::stride_px]
    valid = ~np.isnan(windows).any(axis=(2, 3))
    r_idx, c_idx = np.nonzero(valid)
    if len(r_idx) == 0:
        return empty
    tiles = windows[r_idx, c_idx].astype(np.float32)
    z0 = tiles.mean(axis=(1, 2), dtype=np.float64)
    tiles -= z0[:, None, None].astype(np.float32)
    centre = 0.5 * size_px
    x, y = transform @ (c_idx * stride_px + centre, r_idx * stride_px + centre)
    hashes = np.array([tile_hash(t) for t in tiles], dtype=object)
    return TileBatch(tiles, z0, np.asarray(x, float), np.asarray(y, float), hashes)


def tile_frame(
    path: str | Path, *, assume_crs: str | None = None, stride_px: int = TILE_SIZE_PX,
    max_pixel_m: float | None = None,
) -> tuple[TileBatch, DemFrame]:
    """Read, resample and tile one DEM frame.

    Raises
    ------
    DemError
        For unreadable frames, frames with pixels coarser than ``max_pixel_m`` and
        frames smaller than one tile.
    """
    frame = read_dem(path, assume_crs=assume_crs, max_pixel_m=max_pixel_m)
    grid, transform = resample_frame(frame)
    if grid.shape[0] < TILE_SIZE_PX or grid.shape[1] < TILE_SIZE_PX:
        w_m, h_m = grid.shape[1] * TILE_PIXEL_M, grid.shape[0] * TILE_PIXEL_M
        raise DemError(
            f"{path}: the frame covers {w_m:.1f} m x {h_m:.1f} m, smaller than one "
            f"{TILE_SIZE_PX * TILE_PIXEL_M:.0f} m tile"
        )
    return cut_tiles(grid, transform, stride_px=stride_px), frame


def _create_tile_arrays(group, size_px: int) -> dict:
    arrays = {
        "elevation": create_array(group, "elevation", (0, size_px, size_px), np.float32,
                                  ("tile", "y_px", "x_px"), (TILE_CHUNK, size_px, size_px),
                                  {"units": "m", "long_name": "elevation minus tile mean"}),
        "z0": create_array(group, "z0", (0,), np.float64, ("tile",), (4096,),
                           {"units": "m", "long_name": "tile mean elevation"}),
        "x": create_array(group, "x", (0,), np.float64, ("tile",), (4096,),
                          {"units": "m", "long_name": "tile centre easting"}),
        "y": create_array(group, "y", (0,), np.float64, ("tile",), (4096,),
                          {"units": "m", "long_name": "tile centre northing"}),
        "lat": create_array(group, "lat", (0,), np.float64, ("tile",), (4096,),
                            {"units": "degrees_north"}),
        "lon": create_array(group, "lon", (0,), np.float64, ("tile",), (4096,),
                            {"units": "degrees_east"}),
        "hash": create_array(group, "hash", (0,), str, ("tile",), (4096,),
                             {"long_name": "sha256 of the tile's float32 bytes"}),
        "source": create_array(group, "source", (0,), str, ("tile",), (4096,),
                               {"long_name": "DEM frame file the tile was cut from"}),
    }
    return arrays


def tile_flight(
    frames: Sequence[str | Path],
    out_store: str | Path,
    *,
    flight: str,
    assume_crs: str | None = None,
    stride_px: int = TILE_SIZE_PX,
    max_pixel_m: float | None = None,
    progress: bool = True,
) -> int:
    """Tile every frame of a flight into ``results/tiles/{flight}.zarr``.

    Frames are processed one at a time, so memory stays bounded by one frame.
    The store is written under a temporary name and renamed when complete.

    Parameters
    ----------
    frames : DEM frame paths, in flight order
    out_store : output store path
    flight : flight name (recorded in the store)
    assume_crs : CRS for frames that have none (see :func:`cryolearn.io.dem.read_dem`)
    stride_px : step between windows, pixels (200 = no overlap within a frame)
    max_pixel_m : refuse frames with coarser pixels (metres; see ``dem.max_pixel_m``)
    progress : show a progress bar

    Returns
    -------
    number of tiles written
    """
    if not frames:
        raise DemError(f"flight {flight!r}: no DEM frames (*.tif) found")
    crs_seen: set[str] = set()
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {"flight": flight, "pixel_m": TILE_PIXEL_M,
                                   "tile_px": TILE_SIZE_PX, "stride_px": stride_px,
                                   "frames": [Path(f).name for f in frames]})
        arrays = _create_tile_arrays(group, TILE_SIZE_PX)
        for path in tqdm(frames, desc=f"tiling {flight}", unit="frame", disable=not progress):
            batch, frame = tile_frame(path, assume_crs=assume_crs, stride_px=stride_px,
                                      max_pixel_m=max_pixel_m)
            crs_seen.add(frame.crs.to_string())
            log.info("%s: %d tiles", path, len(batch))
            if len(batch) == 0:
                continue
            lon, lat = transform_points(frame.crs, "EPSG:4326", batch.x, batch.y)
            for name, values in (("elevation", batch.elevation), ("z0", batch.z0),
                                 ("x", batch.x), ("y", batch.y), ("lat", np.asarray(lat)),
                                 ("lon", np.asarray(lon)), ("hash", batch.hash),
                                 ("source", np.full(len(batch), Path(path).name, dtype=object))):
                append(arrays[name], values)
        n = arrays["z0"].shape[0]
        group.attrs.update({"crs": sorted(crs_seen)[0] if len(crs_seen) == 1 else sorted(crs_seen),
                            "n_tiles": n})
        if n == 0:
            log.warning("flight %s: no valid tiles in any of its %d frames", flight, len(frames))
    return n
