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


@dataclass(frozen=True)
class ChangeBootstrap:
    """The interval of crevassed-area change (config ``maps.change_interval``).

    Attributes
    ----------
    draws : bootstrap replicates
    level : central interval level
    seed : seed of the replicates
    """

    draws: int = 1000
    level: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if self.draws < 10:
            raise ValueError("maps.change_interval.draws must be at least 10")
        if not 0 < self.level < 1:
            raise ValueError("maps.change_interval.level must lie between 0 and 1")


def _shots_of(stores: Sequence[str | Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [open_group(p) for p in stores]
    if not parts:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return tuple(np.concatenate([g[k][:] for g in parts]) for k in ("x", "y", "probability"))


def _replicate_cell_means(cell: np.ndarray, p: np.ndarray, n_cells: int, draws: int,
                          rng: np.random.Generator, chunk: int = 100) -> np.ndarray:
    """(draws, n_cells) cell means under a Poisson bootstrap of the shots.

    Every shot gets a Poisson(1) weight in each replicate (Hanley & MacGibbon 2006),
    which resamples shots within their cells; a cell whose shots all draw 0 keeps its
    observed mean in that replicate.
    """
    observed = np.bincount(cell, p, n_cells) / np.maximum(np.bincount(cell, None, n_cells), 1)
    out = np.empty((draws, n_cells))
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        w = rng.poisson(1.0, (k, len(p))).astype(np.float64)
        flat = (np.arange(k)[:, None] * n_cells + cell[None, :]).ravel()
        total = np.bincount(flat, (w * p[None, :]).ravel(), k * n_cells).reshape(k, n_cells)
        weight = np.bincount(flat, w.ravel(), k * n_cells).reshape(k, n_cells)
        out[start:start + k] = np.where(weight > 0, total / np.where(weight > 0, weight, 1),
                                        observed[None, :])
    return out


def area_change_interval(earlier_stores: Sequence[str | Path],
                         later_stores: Sequence[str | Path], grid: RasterGrid,
                         settings: ChangeBootstrap) -> dict[str, Any]:
    """Crevassed-area change between two years, with a bootstrap interval over shots.

    The change is Σ (later − earlier mean probability) × cell area over the cells
    mapped in both years, km²; its interval comes from resampling each year's shots
    within their cells (a Poisson bootstrap), so it says how far the shots at hand
    could move the estimate. It does not include the change in which ice a repeat
    track samples from year to year.
    """
    rng = np.random.default_rng(settings.seed)
    years = []
    for stores in (earlier_stores, later_stores):
        x, y, p = _shots_of(stores)
        row, col, inside = grid.cell_of(x, y)
        use = inside & np.isfinite(p)
        years.append(((row * grid.width + col)[use], p[use]))
    n_cells = grid.height * grid.width
    counts = [np.bincount(c, None, n_cells) for c, _ in years]
    both = (counts[0] > 0) & (counts[1] > 0)
    area_km2 = grid.cell_m**2 / 1e6
    if not both.any():
        return {"cells_in_both": 0, "area_change_km2": None, "interval_km2": None,
                "sd_km2": None, "level": settings.level, "draws": settings.draws,
                "excludes_zero": None}
    means = [np.bincount(c, p, n_cells)[both] / n[both] for (c, p), n in zip(years, counts,
                                                                           strict=True)]
    change_km2 = float((means[1] - means[0]).sum() * area_km2)
    replicates = [_replicate_cell_means(c, p, n_cells, settings.draws, rng)[:, both]
                  for c, p in years]
    draws_km2 = (replicates[1] - replicates[0]).sum(axis=1) * area_km2
    tail = 100 * (1 - settings.level) / 2
    low, high = np.percentile(draws_km2, [tail, 100 - tail])
    return {"cells_in_both": int(both.sum()), "area_change_km2": change_km2,
            "interval_km2": [float(low), float(high)], "sd_km2": float(draws_km2.std(ddof=1)),
            "level": settings.level, "draws": settings.draws,
            "excludes_zero": bool(low > 0 or high < 0),
            "shots_per_cell": [float(n[both].mean()) for n in counts]}


def change_map(earlier_tif: str | Path, later_tif: str | Path, out_tif: str | Path,
               earlier_stores: Sequence[str | Path] = (),
               later_stores: Sequence[str | Path] = (),
               interval: ChangeBootstrap | None = None) -> dict[str, Any]:
    """``change_{year1}_{year2}.tif``: later minus earlier probability, and both counts.

    With the two years' probability stores, the tags also carry the crevassed-area
    change and its bootstrap interval (:func:`area_change_interval`) under
    ``area_change``.

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
    if earlier_stores and later_stores:
        tags["area_change"] = area_change_interval(earlier_stores, later_stores, earlier.grid,
                                                   interval or ChangeBootstrap())
    write_raster(out_tif, earlier.grid, {"probability_change": diff,
                                         "shot_count_from": counts[0],
                                         "shot_count_to": counts[1]}, tags)
    return tags
