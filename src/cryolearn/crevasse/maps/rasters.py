"""Yearly crevasse-probability rasters and the change between years.

Every yearly map of a run lies on one grid (cells of ``cell_m`` snapped to
multiples of the cell size in EPSG:3413), so maps of different years subtract
cell by cell. A yearly map has two bands: the mean probability of the shots
in each cell (nodata where none) and their count. A change map has three:
probability of the later year minus the earlier, nodata where either year has
no shots, and both counts.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine

from cryolearn.constants import DEM_CRS
from cryolearn.io.files import write_json_atomic
from cryolearn.io.raster import write_geotiff
from cryolearn.io.zarrstore import open_group

log = logging.getLogger(__name__)

NODATA = np.float32(np.nan)


class EmptyYearWarning(UserWarning):
    """A year whose map has no shot: it is written, all nodata."""


@dataclass(frozen=True)
class RasterGrid:
    """A north-up grid in EPSG:3413: top-left corner, cell size, size in cells."""

    x_min: float
    y_max: float
    cell_m: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        return Affine(self.cell_m, 0.0, self.x_min, 0.0, -self.cell_m, self.y_max)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) in metres."""
        return (self.x_min, self.y_max - self.height * self.cell_m,
                self.x_min + self.width * self.cell_m, self.y_max)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and whether inside, for points in metres."""
        col = np.floor((np.asarray(x) - self.x_min) / self.cell_m).astype(np.int64)
        row = np.floor((self.y_max - np.asarray(y)) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return row, col, inside

    def to_json(self, path: str | Path) -> None:
        write_json_atomic(path, asdict(self))

    @classmethod
    def from_json(cls, path: str | Path) -> RasterGrid:
        return cls(**json.loads(Path(path).read_text()))


def grid_for_bounds(bounds: Sequence[float], cell_m: float) -> RasterGrid:
    """The smallest grid of ``cell_m`` cells, on multiples of the cell size, covering bounds."""
    x_min, y_min, x_max, y_max = (float(b) for b in bounds)
    if not (x_max > x_min and y_max > y_min):
        raise ValueError(f"map bounds {list(bounds)}: need x_min < x_max and y_min < y_max")
    if cell_m <= 0:
        raise ValueError(f"map cell size {cell_m}: must be positive")
    left = np.floor(x_min / cell_m) * cell_m
    top = np.ceil(y_max / cell_m) * cell_m
    width = int(np.ceil((x_max - left) / cell_m)) or 1
    height = int(np.ceil((top - y_min) / cell_m)) or 1
    return RasterGrid(float(left), float(top), float(cell_m), width, height)


def grid_around_stores(stores: Sequence[str | Path], cell_m: float) -> RasterGrid:
    """The grid covering every shot (with finite position) of the given probability stores."""
    xs, ys = [], []
    for path in stores:
        group = open_group(path)
        xs.append(group["x"][:])
        ys.append(group["y"][:])
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError(f"no shot with a position in {list(map(str, stores))}: "
                         "set maps.bounds to map an area without shots")
    # a shot on the upper edge would fall just outside
    return grid_for_bounds((x[ok].min(), y[ok].min(), x[ok].max() + 1e-6, y[ok].max()), cell_m)


def rasterise_points(x: np.ndarray, y: np.ndarray, values: np.ndarray, grid: RasterGrid
                     ) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean of ``values`` per cell and the count of points averaged.

    Points with a non-finite value are left out; points outside the grid too,
    and counted.

    Returns
    -------
    mean : (height, width) float32, NaN where no point
    count : (height, width) int32
    outside : number of points with a value that fell outside the grid
    """
    values = np.asarray(values, dtype=np.float64)
    row, col, inside = grid.cell_of(x, y)
    use = inside & np.isfinite(values)
    cells = grid.height * grid.width
    flat = row[use] * grid.width + col[use]
    count = np.bincount(flat, minlength=cells)
    total = np.bincount(flat, values[use], minlength=cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    outside = int((~inside & np.isfinite(values)).sum())
    return (mean.reshape(grid.height, grid.width).astype(np.float32),
            count.reshape(grid.height, grid.width).astype(np.int32), outside)


def change(earlier: np.ndarray, later: np.ndarray, count_earlier: np.ndarray,
           count_later: np.ndarray) -> np.ndarray:
    """Later minus earlier; NaN wherever either year has no shots."""
    both = (count_earlier > 0) & (count_later > 0)
    return np.where(both, later - earlier, np.nan).astype(np.float32)


def write_raster(path: str | Path, grid: RasterGrid, bands: dict[str, np.ndarray],
                 tags: dict[str, Any]) -> None:
    """Write named float32 bands as a GeoTIFF (EPSG:3413, nodata NaN), atomically."""
    write_geotiff(path, [b.astype(np.float32) for b in bands.values()],
                  transform=grid.transform, crs=DEM_CRS, nodata=NODATA,
                  tags={k: json.dumps(v) for k, v in tags.items()}, names=list(bands))


@dataclass
class MapRaster:
    """A map read back: its grid, bands by description, and tags."""

    grid: RasterGrid
    bands: dict[str, np.ndarray]
    tags: dict[str, Any]


def read_raster(path: str | Path) -> MapRaster:
    """Read a map this module wrote; refuses another CRS or a rotated grid."""
    with rasterio.open(path) as src:
        if src.crs is None or src.crs != CRS.from_string(DEM_CRS):
            raise ValueError(f"{path}: CRS {src.crs} is not {DEM_CRS}")
        t = src.transform
        if t.b != 0 or t.d != 0 or t.a != -t.e:
            raise ValueError(f"{path}: not a north-up grid of square cells ({t})")
        grid = RasterGrid(t.c, t.f, t.a, src.width, src.height)
        names = [d or f"band_{i}" for i, d in enumerate(src.descriptions, start=1)]
        bands = {name: src.read(i) for i, name in enumerate(names, start=1)}
        tags = {}
        for key, value in src.tags().items():
            try:
                tags[key] = json.loads(value)
            except json.JSONDecodeError:
                tags[key] = value
    return MapRaster(grid, bands, tags)


def yearly_map(stores: Sequence[str | Path], grid: RasterGrid, year: int, out_tif: str | Path
               ) -> dict[str, Any]:
    """Rasterise the shot probabilities of a year's campaigns into ``crevasse_{year}.tif``.

    A year with no shot that has a probability is written all nodata, with an
    :class:`EmptyYearWarning`.

    Returns
    -------
    The map's tags: year, campaigns, shots used, cells with shots, shots outside.
    """
    xs, ys, ps, campaigns = [], [], [], []
    for path in stores:
        group = open_group(path)
        xs.append(group["x"][:])
        ys.append(group["y"][:])
        ps.append(group["probability"][:])
        campaigns.append(str(group.attrs.get("campaign", Path(path).stem)))
    x, y, p = (np.concatenate(v) if v else np.zeros(0) for v in (xs, ys, ps))
    mean, count, outside = rasterise_points(x, y, p, grid)
    if outside:
        log.warning("%d shots of %s lie outside the map grid %s; left out",
                    outside, year, grid.bounds)
    tags = {"year": int(year), "campaigns": campaigns, "shots": int(count.sum()),
            "cells_with_shots": int((count > 0).sum()), "shots_outside": outside,
            "cell_m": grid.cell_m}
    if not count.any():
        warnings.warn(f"crevasse map {year}: no shot with a probability "
                      f"(campaigns: {campaigns or 'none'}); written all nodata",
                      EmptyYearWarning, stacklevel=2)
    write_raster(out_tif, grid, {"crevasse_probability": mean,
                                 "shot_count": count.astype(np.float32)}, tags)
    return tags


def change_map(earlier_tif: str | Path, later_tif: str | Path, out_tif: str | Path
               ) -> dict[str, Any]:
    """``change_{year1}_{year2}.tif``: later minus earlier probability, and both counts.

    Raises
    ------
    ValueError
        if the two maps are not on the same grid (the message names both files).
    """
    earlier, later = read_raster(earlier_tif), read_raster(later_tif)
    if earlier.grid != later.grid:
        raise ValueError(f"{earlier_tif} and {later_tif} lie on different grids "
                         f"({earlier.grid} vs {later.grid}); rasterise both again")
    counts = earlier.bands["shot_count"], later.bands["shot_count"]
    diff = change(earlier.bands["crevasse_probability"], later.bands["crevasse_probability"],
                  *counts)
    tags = {"year_from": earlier.tags.get("year"), "year_to": later.tags.get("year"),
            "cells_in_both": int(np.isfinite(diff).sum()), "cell_m": earlier.grid.cell_m}
    write_raster(out_tif, earlier.grid, {"probability_change": diff,
                                         "shot_count_from": counts[0],
                                         "shot_count_to": counts[1]}, tags)
    return tags
