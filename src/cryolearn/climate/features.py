"""Daily climate fields → the scaled features every method clusters.

DSC's preprocessing (public code): missing values (sea-surface temperature over
land) replaced by the mean, every column min-max scaled to [0, 1], the frames
zero-padded to 48 × 48 for the network. Here a column is one variable at one
cell; a column that is missing on every day (land) takes the variable's mean,
so it is constant and scales to 0.

Like for like: every method, the baselines included, clusters the same scaled
table (days × variables·cells), and every score is computed on it. The
networks see the table reshaped to frames and zero-padded; padding adds
constant columns, which change no Euclidean or cosine distance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cryolearn.io.files import write_netcdf_atomic


@dataclass
class ClimateFeatures:
    """Daily fields and their scaled version.

    Attributes
    ----------
    fields : (days, variables, ny, nx) float32, physical units, NaN where missing
    scaled : (days, variables, ny, nx) float32 in [0, 1], no NaN
    dates : the days (or the file's own time values when they are not dates)
    variables, latitude, longitude : the axes
    """

    fields: np.ndarray
    scaled: np.ndarray
    dates: np.ndarray
    variables: list[str]
    latitude: np.ndarray
    longitude: np.ndarray

    @property
    def table(self) -> np.ndarray:
        """(days, variables·cells) float32: the like-for-like features."""
        return self.scaled.reshape(len(self.scaled), -1)

    def anomalies(self) -> np.ndarray:
        """Fields minus each cell's seasonal cycle (mean and two annual harmonics, fitted
        by least squares; the plain mean when the days are not dates or span < 60 days)."""
        values = self.fields.reshape(len(self.fields), -1).astype(np.float64)
        design = _seasonal_design(self.dates, len(values))
        filled = np.where(np.isnan(values), np.nanmean(values, axis=0, keepdims=True), values)
        filled = np.nan_to_num(filled)
        coefficients, *_ = np.linalg.lstsq(design, filled, rcond=None)
        residual = values - design @ coefficients
        return residual.reshape(self.fields.shape).astype(np.float32)


def _seasonal_design(dates: np.ndarray, n: int) -> np.ndarray:
    if not np.issubdtype(np.asarray(dates).dtype, np.datetime64) or n < 60:
        return np.ones((n, 1))
    day = pd.DatetimeIndex(dates).day_of_year.to_numpy(dtype=np.float64)
    phase = 2 * np.pi * day / 365.25
    return np.column_stack([np.ones(n), np.cos(phase), np.sin(phase), np.cos(2 * phase),
                            np.sin(2 * phase)])


def fill_missing(fields: np.ndarray) -> np.ndarray:
    """NaN → the column's mean over days, or the variable's mean for all-missing columns."""
    filled = fields.astype(np.float64, copy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled below
        column_mean = np.nanmean(filled, axis=0)
        variable_mean = np.nanmean(filled, axis=(0, 2, 3))
    if np.isnan(variable_mean).any():
        raise ValueError("a variable has no valid value at all")
    column_mean = np.where(np.isnan(column_mean), variable_mean[:, None, None], column_mean)
    return np.where(np.isnan(filled), column_mean[None], filled)


def min_max_columns(values: np.ndarray) -> np.ndarray:
    """Scale every column (axis 0 is the samples) to [0, 1]; constant columns to 0."""
    low, high = values.min(axis=0), values.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return ((values - low) / span).astype(np.float32)


def climate_features(ds: xr.Dataset, variables: list[str]) -> ClimateFeatures:
    """Scale the daily fields of ``ds`` (from :func:`cryolearn.io.reanalysis.read_reanalysis`)."""
    fields = np.stack([ds[name].transpose("time", "latitude", "longitude").values
                       for name in variables], axis=1).astype(np.float32)
    if len(fields) < 2:
        raise ValueError(f"{len(fields)} day(s): too few to cluster")
    return ClimateFeatures(fields, min_max_columns(fill_missing(fields)), ds["time"].values,
                           list(variables), ds["latitude"].values, ds["longitude"].values)


def pad_frames(scaled: np.ndarray, multiple: int = 16) -> np.ndarray:
    """Zero-pad (days, variables, ny, nx) frames to multiples of ``multiple`` cells,
    split evenly between both sides (41 → 48 as in DSC)."""
    ny, nx = scaled.shape[-2:]
    pad_y, pad_x = (-ny) % multiple, (-nx) % multiple
    widths = ((0, 0), (0, 0), (pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2))
    return np.pad(scaled, widths)


def write_features(features: ClimateFeatures, path: str | Path) -> None:
    """Store the daily and scaled fields as NetCDF (one rule owns this file)."""
    dims = ("time", "variable", "latitude", "longitude")
    ds = xr.Dataset({"fields": (dims, features.fields), "scaled": (dims, features.scaled)},
                    coords={"time": features.dates, "variable": features.variables,
                            "latitude": features.latitude, "longitude": features.longitude},
                    attrs={"description": "daily fields (physical units) and their min-max "
                                          "scaled version (cryolearn.climate.features)"})
    encoding = {name: {"zlib": True, "complevel": 4} for name in ("fields", "scaled")}
    write_netcdf_atomic(ds, path, encoding)


def read_features(path: str | Path) -> ClimateFeatures:
    """Read what :func:`write_features` wrote."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ClimateFeatures(ds["fields"].values, ds["scaled"].values, ds["time"].values,
                               [str(v) for v in ds["variable"].values], ds["latitude"].values,
                               ds["longitude"].values)
