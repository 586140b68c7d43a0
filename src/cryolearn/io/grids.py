"""Gridded fields: BedMachine Greenland NetCDF, surface fields (NetCDF or GeoTIFF), alignment.

Every grid is held north up: ``x`` (cell-centre eastings) increasing along
columns, ``y`` (cell-centre northings) decreasing along rows, as in a GeoTIFF.
BedMachine Greenland (Morlighem et al. 2017, NSIDC IDBMG4) is a NetCDF-4 file
on a 150 m polar-stereographic grid (EPSG:3413) whose ``y`` decreases; a field
on another grid is resampled onto the BedMachine grid (bilinear, through GDAL's
warper) or refused with a message that names the file and what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject
from rasterio.warp import transform as warp_transform
from scipy import ndimage

from cryolearn.io.files import write_netcdf_atomic

log = logging.getLogger(__name__)

#: the CRS of BedMachine Greenland and of every bed-topography grid of cryolearn
GRID_CRS = "EPSG:3413"

#: variables of a BedMachine Greenland file that cryolearn reads
BEDMACHINE_VARIABLES = ("bed", "surface", "thickness", "errbed", "mask", "source")

#: BedMachine ``mask`` codes
MASK_OCEAN, MASK_LAND, MASK_GROUNDED, MASK_FLOATING, MASK_NON_GREENLAND = 0, 1, 2, 3, 4


class GridError(ValueError):
    """A gridded file that cannot be read or aligned; the message names the file."""


@dataclass(frozen=True)
class GridSpec:
    """A regular north-up grid of cell centres.

    Attributes
    ----------
    x : cell-centre eastings (m), increasing
    y : cell-centre northings (m), decreasing
    crs : coordinate reference system, e.g. ``EPSG:3413``
    """

    x: np.ndarray
    y: np.ndarray
    crs: str = GRID_CRS

    @property
    def cell_m(self) -> float:
        return float(self.x[1] - self.x[0]) if len(self.x) > 1 else float(self.y[0] - self.y[1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.y), len(self.x)

    @property
    def transform(self) -> Affine:
        half = self.cell_m / 2
        return Affine(self.cell_m, 0.0, float(self.x[0]) - half,
                      0.0, -self.cell_m, float(self.y[0]) + half)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the cell edges."""
        half = self.cell_m / 2
        return (float(self.x[0]) - half, float(self.y[-1]) - half,
                float(self.x[-1]) + half, float(self.y[0]) + half)

    def refined(self, factor: int) -> GridSpec:
        """The grid whose cells split each of ours into ``factor`` × ``factor``."""
        if factor == 1:
            return self
        cell = self.cell_m / factor
        x0, _, _, y1 = self.bounds
        nrow, ncol = self.shape
        return GridSpec(x0 + cell * (np.arange(ncol * factor) + 0.5),
                        y1 - cell * (np.arange(nrow * factor) + 0.5), self.crs)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of each point, and whether it falls inside the grid."""
        x0, _, _, y1 = self.bounds
        col = np.floor((np.asarray(x) - x0) / self.cell_m).astype(np.int64)
        row = np.floor((y1 - np.asarray(y)) / self.cell_m).astype(np.int64)
        inside = (row >= 0) & (row < self.shape[0]) & (col >= 0) & (col < self.shape[1])
        return row, col, inside

    @classmethod
    def from_bounds(cls, bounds: Sequence[float], cell_m: float, crs: str = GRID_CRS) -> GridSpec:
        """Cells of ``cell_m`` covering ``(x_min, y_min, x_max, y_max)``."""
        x_min, y_min, x_max, y_max = bounds
        ncol = round((x_max - x_min) / cell_m)
        nrow = round((y_max - y_min) / cell_m)
        return cls(x_min + cell_m * (np.arange(ncol) + 0.5),
                   y_max - cell_m * (np.arange(nrow) + 0.5), crs)


def _regular_axis(values: np.ndarray, name: str, path: Path) -> None:
    steps = np.diff(values)
    if len(values) < 2 or not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-6 * abs(steps[0])):
        raise GridError(f"{path}: coordinate '{name}' is not a regular axis")


def _crs_of_netcdf(ds: xr.Dataset, variable: str | None, path: Path) -> str | None:
    """The CRS a NetCDF file declares: CF grid mapping (``crs_wkt``/``spatial_ref``) or proj4."""
    candidates = []
    if variable is not None and "grid_mapping" in ds[variable].attrs:
        candidates.append(ds[variable].attrs["grid_mapping"])
    candidates += ["mapping", "polar_stereographic", "crs", "spatial_ref"]
    for name in candidates:
        if name in ds.variables:
            attrs = ds[name].attrs
            for key in ("crs_wkt", "spatial_ref", "proj4text", "proj4"):
                if key in attrs:
                    return CRS.from_user_input(str(attrs[key])).to_string()
            if _is_bedmachine_stereographic(attrs):
                return GRID_CRS
    for key in ("proj4", "spatial_ref", "crs"):
        if key in ds.attrs:
            text = str(ds.attrs[key]).replace("+init=", "")
            return CRS.from_user_input(text).to_string()
    return None


def _is_bedmachine_stereographic(attrs: dict) -> bool:
    """CF attributes of NSIDC's north polar stereographic (70 °N, 45 °W), i.e. EPSG:3413."""
    return (attrs.get("grid_mapping_name") == "polar_stereographic"
            and float(attrs.get("standard_parallel", np.nan)) == 70.0
            and float(attrs.get("straight_vertical_longitude_from_pole", np.nan)) == -45.0)


def _open_netcdf(path: Path) -> xr.Dataset:
    if not path.exists():
        raise GridError(f"{path}: no such file")
    try:
        return xr.open_dataset(path, mask_and_scale=True)
    except (OSError, ValueError) as exc:
        raise GridError(f"{path}: not a readable NetCDF file ({exc})") from exc


def _north_up(ds: xr.Dataset, path: Path) -> xr.Dataset:
    for name in ("x", "y"):
        if name not in ds.coords and name not in ds.variables:
            raise GridError(f"{path}: coordinate '{name}' missing")
        _regular_axis(np.asarray(ds[name].values, dtype=np.float64), name, path)
    if ds["x"].values[1] < ds["x"].values[0]:
        ds = ds.isel(x=slice(None, None, -1))
    if ds["y"].values[1] > ds["y"].values[0]:
        ds = ds.isel(y=slice(None, None, -1))
    return ds


def _crop(ds: xr.Dataset, bounds: Sequence[float] | None, path: Path) -> xr.Dataset:
    if bounds is None:
        return ds
    x_min, y_min, x_max, y_max = bounds
    cropped = ds.sel(x=slice(x_min, x_max), y=slice(y_max, y_min))
    if cropped.sizes["x"] < 2 or cropped.sizes["y"] < 2:
        raise GridError(f"{path}: bounds {list(bounds)} select fewer than 2 × 2 cells of the grid")
    return cropped


def read_bedmachine(path: str | Path, *, bounds: Sequence[float] | None = None,
                    variables: Sequence[str] = BEDMACHINE_VARIABLES
                    ) -> tuple[GridSpec, dict[str, np.ndarray]]:
    """Read (a window of) a BedMachine Greenland NetCDF file.

    Parameters
    ----------
    path : the NetCDF file (``x``, ``y`` and the variables, EPSG:3413)
    bounds : ``(x_min, y_min, x_max, y_max)`` in metres; only cells whose
        centres fall inside are read (the whole grid when None)
    variables : which variables to return

    Returns
    -------
    the grid and a mapping of variable name to a float32 (``mask``, ``source``:
    int16) north-up array

    Raises
    ------
    GridError
        naming the file: missing file, variable or coordinate, a CRS other than
        EPSG:3413 or none, an irregular axis, bounds outside the grid
    """
    path = Path(path)
    ds = _open_netcdf(path)
    try:
        missing = [v for v in variables if v not in ds.variables]
        if missing:
            raise GridError(f"{path}: BedMachine variable(s) {missing} missing "
                            f"(the file has {sorted(ds.data_vars)})")
        crs = _crs_of_netcdf(ds, variables[0] if variables else None, path)
        if crs is None:
            raise GridError(f"{path}: no coordinate reference system (no grid mapping "
                            "variable and no proj4 attribute); BedMachine is EPSG:3413")
        if CRS.from_user_input(crs) != CRS.from_user_input(GRID_CRS):
            raise GridError(f"{path}: grid is in {crs}, BedMachine Greenland is {GRID_CRS}")
        ds = _crop(_north_up(ds, path), bounds, path)
        grid = GridSpec(ds["x"].values.astype(np.float64), ds["y"].values.astype(np.float64))
        out = {}
        for name in variables:
            values = ds[name].transpose("y", "x").values
            out[name] = (values.astype(np.int16) if name in ("mask", "source")
                         else values.astype(np.float32))
        return grid, out
    finally:
        ds.close()


def read_bed(path: str | Path) -> np.ndarray:
    """The ``bed`` variable of a BedMachine-layout NetCDF file (a product or a prediction)."""
    return read_bedmachine(path, variables=("bed",))[1]["bed"]


def project_lonlat(lon: np.ndarray, lat: np.ndarray, crs: str = GRID_CRS
                   ) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude and latitude (degrees) to ``crs`` coordinates (m)."""
    if len(lon) == 0:
        return np.empty(0), np.empty(0)
    x, y = warp_transform("EPSG:4326", crs, np.asarray(lon).tolist(), np.asarray(lat).tolist())
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _read_geotiff_field(path: Path, band: int) -> tuple[GridSpec, np.ndarray, str | None]:
    with rasterio.open(path) as src:
        if band > src.count:
            raise GridError(f"{path}: band {band} missing (the file has {src.count})")
        values = src.read(band).astype(np.float32)
        if src.nodata is not None and not np.isnan(src.nodata):
            values[values == src.nodata] = np.nan
        t = src.transform
        if t.b != 0 or t.d != 0 or t.e >= 0:
            raise GridError(f"{path}: rotated or south-up rasters are not supported")
        if not np.isclose(t.a, -t.e):
            raise GridError(f"{path}: cells are not square ({t.a} × {-t.e} m)")
        x = t.c + t.a * (np.arange(src.width) + 0.5)
        y = t.f + t.e * (np.arange(src.height) + 0.5)
        crs = src.crs.to_string() if src.crs else None
    return GridSpec(x, y, crs or ""), values, crs


def _read_netcdf_field(path: Path, variable: str | None) -> tuple[GridSpec, np.ndarray, str | None]:
    ds = _open_netcdf(path)
    try:
        if variable is None:
            names = [v for v in ds.data_vars if set(ds[v].dims) == {"x", "y"}]
            if len(names) != 1:
                raise GridError(f"{path}: name the variable to read; (x, y) variables: {names}")
            variable = names[0]
        if variable not in ds.variables:
            raise GridError(f"{path}: variable '{variable}' missing "
                            f"(the file has {sorted(ds.data_vars)})")
        crs = _crs_of_netcdf(ds, variable, path)
        ds = _north_up(ds, path)
        values = ds[variable].squeeze(drop=True)
        if set(values.dims) != {"x", "y"}:
            raise GridError(f"{path}: variable '{variable}' has dimensions {values.dims}, "
                            "expected (y, x)")
        grid = GridSpec(ds["x"].values.astype(np.float64), ds["y"].values.astype(np.float64),
                        crs or "")
        return grid, values.transpose("y", "x").values.astype(np.float32), crs
    finally:
        ds.close()


def read_field(path: str | Path, *, variable: str | None = None, band: int = 1,
               crs: str | None = None) -> tuple[GridSpec, np.ndarray]:
    """Read one gridded surface field (SMB, dh/dt, a velocity component, elevation).

    Parameters
    ----------
    path : a GeoTIFF (``.tif``/``.tiff``) or a NetCDF file
    variable : the NetCDF variable (may be omitted when the file has one (y, x) variable)
    band : the GeoTIFF band
    crs : the CRS to assume when the file declares none

    Raises
    ------
    GridError
        naming the file: missing file, variable or band; no CRS and none assumed
    """
    path = Path(path)
    if not path.exists():
        raise GridError(f"{path}: no such file")
    if path.suffix.lower() in (".tif", ".tiff"):
        grid, values, declared = _read_geotiff_field(path, band)
    else:
        grid, values, declared = _read_netcdf_field(path, variable)
    if declared is None:
        if crs is None:
            raise GridError(f"{path}: no coordinate reference system in the file; "
                            "give one (bedtopo.fields.<name>.crs)")
        declared = crs
    return GridSpec(grid.x, grid.y, declared), values


def align_field(values: np.ndarray, source: GridSpec, target: GridSpec, *, name: str,
                path: str | Path) -> np.ndarray:
    """``values`` on ``target``: sliced when the grids coincide, else resampled bilinearly.

    A field on another CRS or resolution is warped onto the target (GDAL,
    bilinear); one that does not cover every target cell is refused.

    Raises
    ------
    GridError
        naming the file and the field, when the field leaves target cells uncovered
    """
    same_crs = CRS.from_user_input(source.crs) == CRS.from_user_input(target.crs)
    if same_crs and np.isclose(source.cell_m, target.cell_m):
        col0 = (target.x[0] - source.x[0]) / source.cell_m
        row0 = (source.y[0] - target.y[0]) / source.cell_m
        if np.isclose(col0, round(col0)) and np.isclose(row0, round(row0)):
            r, c = round(row0), round(col0)
            nrow, ncol = target.shape
            if r >= 0 and c >= 0 and r + nrow <= source.shape[0] and c + ncol <= source.shape[1]:
                out = values[r:r + nrow, c:c + ncol].astype(np.float32)
                return _check_covered(out, name, path)
    log.info("%s (%s): resampling from %s at %.0f m onto %s at %.0f m", name, path,
             source.crs, source.cell_m, target.crs, target.cell_m)
    out = np.full(target.shape, np.nan, dtype=np.float32)
    reproject(np.ascontiguousarray(values, dtype=np.float32), out,
              src_transform=source.transform, src_crs=source.crs, src_nodata=np.nan,
              dst_transform=target.transform, dst_crs=target.crs, dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    return _check_covered(out, name, path)


def _check_covered(values: np.ndarray, name: str, path: str | Path) -> np.ndarray:
    gaps = int(np.isnan(values).sum())
    if gaps:
        raise GridError(f"{path}: field '{name}' leaves {gaps} of {values.size} cells of the "
                        "grid without data (it does not cover the region, or has nodata)")
    return values


def write_grid_netcdf(path: str | Path, grid: GridSpec, variables: dict[str, np.ndarray], *,
                      attrs: dict[str, str] | None = None,
                      units: dict[str, str] | None = None) -> None:
    """Write north-up variables on ``grid`` as NetCDF-4 with a CF grid mapping, atomically.

    The layout is BedMachine's: ``x`` and ``y`` coordinates (``y`` decreasing),
    a ``mapping`` variable with the polar stereographic parameters and WKT,
    and a global ``proj4`` attribute.
    """
    crs = CRS.from_user_input(grid.crs)
    mapping = xr.DataArray(np.int8(0), attrs={"crs_wkt": crs.to_wkt(),
                                              "spatial_ref": crs.to_wkt()})
    if crs == CRS.from_user_input(GRID_CRS):
        mapping.attrs.update(grid_mapping_name="polar_stereographic",
                             latitude_of_projection_origin=90.0, standard_parallel=70.0,
                             straight_vertical_longitude_from_pole=-45.0,
                             false_easting=0.0, false_northing=0.0)
    data = {}
    for name, values in variables.items():
        data[name] = xr.DataArray(values, dims=("y", "x"),
                                  attrs={"grid_mapping": "mapping",
                                         **({"units": units[name]} if units and name in units
                                            else {})})
    ds = xr.Dataset({**data, "mapping": mapping},
                    coords={"x": ("x", grid.x, {"units": "m",
                                                "standard_name": "projection_x_coordinate"}),
                            "y": ("y", grid.y, {"units": "m",
                                                "standard_name": "projection_y_coordinate"})},
                    attrs={"proj4": crs.to_proj4() if crs.to_epsg() is None
                           else f"+init=epsg:{crs.to_epsg()}", **(attrs or {})})
    write_netcdf_atomic(ds, path, {name: {"zlib": True, "complevel": 4} for name in variables})


def distance_to_radar(grid: GridSpec, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance (m) from each cell centre to the nearest cell holding a trace."""
    hit = np.zeros(grid.shape, dtype=bool)
    row, col, inside = grid.cell_of(x, y)
    hit[row[inside], col[inside]] = True
    return ndimage.distance_transform_edt(~hit) * grid.cell_m
