"""Reader for ERA5-style reanalysis NetCDF: variables on a latitude-longitude grid in time.

Handles the layouts ECMWF's data stores deliver:

* the time axis named ``time`` (ERA5 before 2024) or ``valid_time`` (the new
  CDS), or any name given; an axis of plain numbers (e.g. months) is kept as
  it is, since it cannot be averaged to days;
* packed ``int16`` with ``scale_factor``/``add_offset`` (decoded by xarray);
* latitude decreasing (north first) or increasing, longitude in −180…180 or
  0…360;
* variables split over several files (one per variable or per month);
* pressure-level data, one level chosen.

Hourly (or 3-, 6-hourly) steps are averaged to calendar days (UTC); a day with
fewer steps than the others (a period cut mid-day) is dropped with a warning,
so every daily value is a mean over the same hours.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

log = logging.getLogger(__name__)

TIME_NAMES = ("time", "valid_time")
LAT_NAMES = ("latitude", "lat")
LON_NAMES = ("longitude", "lon")
LEVEL_NAMES = ("level", "pressure_level", "isobaricInhPa")


class ReanalysisError(ValueError):
    """A reanalysis file that cannot be read as asked: names the file and the problem."""


def _dim(ds: xr.Dataset, candidates: Sequence[str], what: str, path: Path) -> str:
    for name in candidates:
        if name in ds.dims:
            return name
    raise ReanalysisError(f"{path}: no {what} dimension (looked for {list(candidates)}; "
                          f"the file has {sorted(map(str, ds.dims))})")


def signed_longitude(values: np.ndarray) -> np.ndarray:
    """Longitudes in degrees east mapped to (−180, 180] (0…360 files and regions alike)."""
    return np.where(values > 180.0, values - 360.0, values)


def _standard_axes(ds: xr.Dataset, path: Path, time_dim: str | None) -> xr.Dataset:
    """Rename the axes to time, latitude, longitude; longitude to −180…180, both increasing."""
    time = time_dim or _dim(ds, TIME_NAMES, "time", path)
    if time not in ds.dims:
        raise ReanalysisError(f"{path}: no dimension '{time}' (time_dim); the file has "
                              f"{sorted(map(str, ds.dims))}")
    lat = _dim(ds, LAT_NAMES, "latitude", path)
    lon = _dim(ds, LON_NAMES, "longitude", path)
    ds = ds.rename({time: "time", lat: "latitude", lon: "longitude"})
    ds = ds.assign_coords(longitude=signed_longitude(ds["longitude"].values))
    return ds.sortby("longitude").sortby("latitude")


def _select_level(values: xr.DataArray, level: float | None, name: str,
                  path: Path) -> xr.DataArray:
    dims = [d for d in LEVEL_NAMES if d in values.dims]
    if not dims:
        return values
    levels = values[dims[0]].values
    if level is None:
        if len(levels) == 1:
            return values.isel({dims[0]: 0}, drop=True)
        raise ReanalysisError(f"{path}: '{name}' has levels {levels.tolist()}; choose one "
                              "(climate.data.level)")
    if level not in levels:
        raise ReanalysisError(f"{path}: '{name}' has no level {level}; it has "
                              f"{levels.tolist()}")
    return values.sel({dims[0]: level}, drop=True)


def _crop(values: xr.DataArray, lat_range: Sequence[float], lon_range: Sequence[float],
          name: str, path: Path) -> xr.DataArray:
    (south, north), (west, east) = sorted(lat_range), sorted(lon_range)
    lat, lon = values["latitude"].values, values["longitude"].values
    tolerance = 1e-6
    if (south < lat.min() - tolerance or north > lat.max() + tolerance
            or west < lon.min() - tolerance or east > lon.max() + tolerance):
        raise ReanalysisError(
            f"{path}: '{name}' covers latitude {lat.min():g}…{lat.max():g}, longitude "
            f"{lon.min():g}…{lon.max():g}; the region {south:g}…{north:g} °N, "
            f"{west:g}…{east:g} °E is not inside it")
    return values.sel(latitude=slice(south - tolerance, north + tolerance),
                      longitude=slice(west - tolerance, east + tolerance))


def _open(path: Path) -> xr.Dataset:
    if not path.exists():
        raise ReanalysisError(f"{path}: no such file")
    try:
        return xr.open_dataset(path)
    except (OSError, ValueError) as error:
        raise ReanalysisError(f"{path}: not a readable NetCDF file ({error})") from error


def _variable_pieces(paths: Sequence[Path], variables: Sequence[str], *, lat_range, lon_range,
                     level, time_dim) -> dict[str, list[xr.DataArray]]:
    pieces: dict[str, list[xr.DataArray]] = {name: [] for name in variables}
    for path in paths:
        ds = _standard_axes(_open(path), path, time_dim)
        for name in variables:
            if name in ds.data_vars:
                values = _select_level(ds[name], level, name, path)
                pieces[name].append(_crop(values, lat_range, lon_range, name, path).load())
        ds.close()
    missing = [name for name, found in pieces.items() if not found]
    if missing:
        raise ReanalysisError(f"{', '.join(map(str, paths))}: no variable {missing} in any file "
                              f"(asked for {list(variables)})")
    return pieces


def _join_in_time(pieces: list[xr.DataArray], name: str) -> xr.DataArray:
    values = xr.concat(pieces, dim="time") if len(pieces) > 1 else pieces[0]
    values = values.sortby("time")
    _, first = np.unique(values["time"].values, return_index=True)
    if len(first) < values.sizes["time"]:
        log.warning("%s: %d repeated time steps dropped", name, values.sizes["time"] - len(first))
        values = values.isel(time=np.sort(first))
    return values


def _daily_means(ds: xr.Dataset) -> xr.Dataset:
    """Average sub-daily steps to UTC days, dropping days with fewer steps than the most."""
    day = ds["time"].dt.floor("D").rename("day")
    counts = ds["time"].groupby(day).count()
    full = int(counts.max())
    partial = counts["day"].values[counts.values < full]
    daily = ds.groupby(day).mean("time", keep_attrs=True).rename({"day": "time"})
    if len(partial):
        log.warning("dropping %d day(s) with fewer than %d steps: %s", len(partial), full,
                    [str(np.datetime_as_string(d, unit="D")) for d in partial])
        daily = daily.sel(time=~np.isin(daily["time"].values, partial))
    daily.attrs["steps_per_day"] = full
    return daily


def read_reanalysis(paths: str | Path | Sequence[str | Path], variables: Sequence[str], *,
                    lat_range: Sequence[float], lon_range: Sequence[float],
                    period: Sequence[str] | None = None, level: float | None = None,
                    time_dim: str | None = None, daily: bool = True) -> xr.Dataset:
    """Variables of one or more reanalysis files over a region and period, as daily means.

    Parameters
    ----------
    paths : NetCDF file(s); variables may be spread over them, and time too
    variables : short names (ERA5's: ``sst``, ``t2m``, ``sp``, ``sshf``, ``slhf``,
        ``u10``, ``v10``)
    lat_range, lon_range : the region in degrees (longitude in −180…180 or 0…360)
    period : first and last day (inclusive, ``YYYY-MM-DD``), or None for all
    level : the pressure level of pressure-level variables
    time_dim : the time axis's name, when it is neither ``time`` nor ``valid_time``
    daily : average sub-daily steps to days (only for a datetime axis)

    Returns
    -------
    Dataset with dims (time, latitude, longitude), latitude and longitude
    increasing, one float32 variable per name, attributes kept.
    """
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    lon_range = list(signed_longitude(np.asarray(lon_range, dtype=np.float64)))
    if lon_range[0] > lon_range[1]:
        raise ReanalysisError(f"{paths[0]}: a region across the antimeridian "
                              f"({lon_range}) is not supported")
    pieces = _variable_pieces(paths, variables, lat_range=lat_range, lon_range=lon_range,
                              level=level, time_dim=time_dim)
    try:
        ds = xr.merge([_join_in_time(pieces[name], name).rename(name) for name in variables],
                      join="exact", combine_attrs="drop_conflicts", compat="no_conflicts")
    except ValueError as error:
        raise ReanalysisError(f"{', '.join(map(str, paths))}: the variables are not on one "
                              f"grid and time axis ({error})") from error
    is_datetime = np.issubdtype(ds["time"].dtype, np.datetime64)
    if period is not None:
        if not is_datetime:
            raise ReanalysisError(f"{paths[0]}: the time axis holds {ds['time'].dtype} values, "
                                  "not dates; a period cannot be chosen")
        ds = ds.sel(time=slice(np.datetime64(period[0]),
                               np.datetime64(period[1]) + np.timedelta64(1, "D")
                               - np.timedelta64(1, "ns")))
        if ds.sizes["time"] == 0:
            raise ReanalysisError(f"{', '.join(map(str, paths))}: no time step in {period}")
    if daily and is_datetime:
        ds = _daily_means(ds)
    elif daily:
        log.info("time axis of %s is not dates: steps kept as they are", paths[0])
    return ds.astype(np.float32)
