"""Reader for Operation IceBridge DMS L3 photogrammetric DEMs (IODMS3 GeoTIFF).

Handles the known defects of the real product:

* files written without the TIFF SampleFormat tag, whose float32 elevations
  GDAL reads as uint32: the bits are reinterpreted as float32;
* files without a CRS: EPSG:3413 is used only when the caller says so
  (``assume_crs``), with a warning; otherwise the read fails;
* files without internal georeferencing: the ``.tfw`` (or ``.tifw``, ``.wld``)
  world file beside the GeoTIFF gives it;
* nodata -32767 (whatever the file's nodata tag says), returned as NaN.

Any projected CRS is kept as it is: tiles are cut in the frame's own CRS.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.transform import Affine

from cryolearn.constants import DEM_NODATA, TILE_PIXEL_M

log = logging.getLogger(__name__)

_WORLD_FILE_SUFFIXES = (".tfw", ".tifw", ".wld", ".TFW")


class DemError(ValueError):
    """A DEM file that cannot be used; the message names the file and the problem."""


@dataclass
class DemFrame:
    """One DEM frame in memory.

    Attributes
    ----------
    path : the file read
    elevation : (rows, cols) float32, metres; NaN where there is no data
    transform : affine transform of pixel corners (rasterio convention)
    crs : projected coordinate reference system
    """

    path: Path
    elevation: np.ndarray
    transform: Affine
    crs: CRS

    @property
    def pixel_size_m(self) -> tuple[float, float]:
        """Pixel width and height, metres (both positive)."""
        return abs(self.transform.a), abs(self.transform.e)


def read_world_file(path: str | Path) -> Affine:
    """Affine transform (pixel-corner convention) from an ESRI world file.

    A world file holds six numbers: A (x pixel size), D, B (rotation terms),
    E (negative y pixel size), C, F (centre of the upper-left pixel).
    """
    path = Path(path)
    try:
        values = [float(v) for v in path.read_text().split()]
    except (OSError, ValueError) as exc:
        raise DemError(f"{path}: unreadable world file ({exc})") from exc
    if len(values) != 6:
        raise DemError(f"{path}: a world file needs 6 numbers, found {len(values)}")
    a, d, b, e, c, f = values
    return Affine(a, b, c - 0.5 * a - 0.5 * b, d, e, f - 0.5 * d - 0.5 * e)


def _world_file_for(path: Path) -> Path | None:
    for suffix in _WORLD_FILE_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def _elevation_as_float32(band: np.ndarray, path: Path) -> np.ndarray:
    """Float32 elevations; uint32/int32 bands are float32 bits without SampleFormat."""
    if band.dtype == np.float32:
        return band
    if band.dtype in (np.uint32, np.int32):
        log.warning("%s: no float SampleFormat tag; reinterpreting 32-bit integers as float32",
                    path)
        return band.view(np.float32)
    if band.dtype == np.float64:
        return band.astype(np.float32)
    raise DemError(f"{path}: unexpected band data type {band.dtype}; IODMS3 DEMs are float32")


def _georeferencing(src: rasterio.DatasetReader, path: Path) -> Affine:
    if src.transform != Affine.identity():
        return src.transform
    world_file = _world_file_for(path)
    if world_file is None:
        raise DemError(
            f"{path}: no georeferencing in the GeoTIFF and no world file (.tfw) beside it"
        )
    log.info("%s: georeferencing from world file %s", path, world_file.name)
    return read_world_file(world_file)


def _coordinate_system(src: rasterio.DatasetReader, path: Path, assume_crs: str | None) -> CRS:
    if src.crs is None:
        if assume_crs is None:
            raise DemError(
                f"{path}: the GeoTIFF has no CRS; set dem.assume_crs (e.g. EPSG:3413) in the "
                "config if you know the frames are in that CRS"
            )
        warnings.warn(f"{path}: no CRS in the file; assuming {assume_crs} as configured",
                      stacklevel=3)
        log.warning("%s: no CRS in the file; assuming %s", path, assume_crs)
        return CRS.from_user_input(assume_crs)
    if not src.crs.is_projected:
        raise DemError(f"{path}: CRS {src.crs.to_string()} is not projected; tiles need metres")
    return src.crs


def _check_pixel_size(transform: Affine, path: Path, max_pixel_m: float | None) -> None:
    """Refuse a frame whose pixels are coarser than an IODMS3-class DEM's."""
    width, height = abs(transform.a), abs(transform.e)
    if max_pixel_m is not None and max(width, height) > max_pixel_m:
        raise DemError(
            f"{path}: pixels of {width:g} m x {height:g} m are coarser than dem.max_pixel_m "
            f"= {max_pixel_m:g} m. Tiles are cut at {TILE_PIXEL_M:g} m, so this DEM would "
            "give bilinear ramps between its pixels, not a surface a laser footprint sees; "
            "use IceBridge DMS L3 (IODMS3) frames or another sub-metre DEM"
        )


def read_dem(path: str | Path, *, assume_crs: str | None = None,
             max_pixel_m: float | None = None) -> DemFrame:
    """Read one IODMS3 DEM frame.

    Parameters
    ----------
    path : GeoTIFF path
    assume_crs : CRS to use when the file has none (e.g. ``"EPSG:3413"``);
        ``None`` makes a missing CRS an error
    max_pixel_m : the coarsest pixel (width or height, metres) accepted; ``None``
        accepts any

    Returns
    -------
    DemFrame with NaN for nodata

    Raises
    ------
    DemError
        If the file is missing, corrupt or truncated, has no CRS (and none is
        assumed), no georeferencing, a geographic CRS, pixels coarser than
        ``max_pixel_m``, or no valid pixel.
    """
    path = Path(path)
    if not path.exists():
        raise DemError(f"{path}: no such DEM file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                if src.count < 1:
                    raise DemError(f"{path}: the GeoTIFF has no raster band")
                crs = _coordinate_system(src, path, assume_crs)
                transform = _georeferencing(src, path)
                _check_pixel_size(transform, path, max_pixel_m)
                band = src.read(1)
    except RasterioIOError as exc:
        raise DemError(f"{path}: not a readable GeoTIFF (corrupt or truncated?): {exc}") from exc
    elevation = _elevation_as_float32(band, path).copy()
    invalid = (elevation == DEM_NODATA) | ~np.isfinite(elevation) | (elevation < -1e4)
    elevation[invalid] = np.nan
    if invalid.all():
        raise DemError(f"{path}: every pixel is nodata ({DEM_NODATA:g}); the frame is empty")
    return DemFrame(path=path, elevation=elevation, transform=transform, crs=crs)
