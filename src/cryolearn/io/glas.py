"""Readers and writers of ICESat/GLAS products.

* GLAH01 (received and transmitted waveforms, 40 Hz) and GLAH06/GLAH14
  (geolocation and elevation, 40 Hz) HDF5 granules, joined shot by shot on
  ``(i_rec_ndx, i_shot_count)`` into a :class:`ShotSet`;
* the plain-text extract of real Jakobshavn shots (595 integers a line);
* writers of the same HDF5 layout, for synthetic data and tests.

Only long waveforms (544 samples, ``i_waveformType`` 1) are kept. Each shot's
samples are placed in time by a row of the sample-location table (attribute
``rec_wf_sample_location_table`` of the root group ``ANCILLARY_DATA``); rows
that are not uniform 1 ns spacing are resampled onto 0..543 ns. Positions are
projected to EPSG:3413 with :func:`rasterio.warp.transform`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from cryolearn.constants import (
    DEM_CRS,
    DIGITIZER_COUNTS,
    GLAS_FILL,
    GLAS_NULL_LOCATION_INDEX,
    GLAS_TABLE_FILL_ABOVE,
    N_LONG_SAMPLES,
    N_TRANSMIT_SAMPLES,
    VOLTS_PER_COUNT,
)
from cryolearn.io.grids import project_lonlat

__all__ = [
    "GLAH01_DATASETS",
    "GLAH06_DATASETS",
    "TABLE_ATTRIBUTE",
    "TABLE_GROUP",
    "GlasError",
    "ShotSet",
    "join_shots",
    "read_glah01",
    "read_glah06",
    "read_glah14",
    "read_glas_pair",
    "read_glas_text",
    "uniform_sample_table",
    "write_glah01",
    "write_glah06",
]

#: doubles at or above this are fill (GLAS_FILL is the largest float64)
FILL_THRESHOLD = 1e300
#: fill of GLAS int8 datasets (quality flags); read as -1
_INT8_FILL = 127
#: fill of GLAS int32 datasets; gain read as -1
_INT32_FILL = np.iinfo(np.int32).max
#: rows of the sample-location table
N_TABLE_ROWS = 5
#: received samples used for the background of the text extract
N_BACKGROUND_SAMPLES = 50
#: integer columns per line of the text extract: lat, lon, elevation, transmit, received
N_TEXT_COLUMNS = 3 + N_TRANSMIT_SAMPLES + N_LONG_SAMPLES
#: projection of the shots
SHOT_CRS = DEM_CRS
#: waveform types of i_waveformType
WAVEFORM_MISSING, WAVEFORM_LONG, WAVEFORM_SHORT = 0, 1, 2

TABLE_GROUP = "ANCILLARY_DATA"
TABLE_ATTRIBUTE = "rec_wf_sample_location_table"
_TABLE_NAME = f"{TABLE_GROUP} attribute {TABLE_ATTRIBUTE}"

#: key of the dict returned by read_glah01 -> HDF5 dataset path
GLAH01_DATASETS: dict[str, str] = {
    "rec_ndx": "Data_40HZ/Time/i_rec_ndx",
    "shot_count": "Data_40HZ/Time/i_shot_count",
    "utc_time": "Data_40HZ/Time/d_UTCTime_40",
    "rec_waveform": "Data_40HZ/Waveform/RecWaveform/r_rng_wf",
    "location_index": "Data_40HZ/Waveform/RecWaveform/i_rec_wf_location_index",
    "transmit": "Data_40HZ/Waveform/TransmitWaveform/r_tx_wf",
    "waveform_type": "Data_40HZ/Waveform/Characteristics/i_waveformType",
    "bg_mean": "Data_40HZ/Waveform/Characteristics/d_4nsBgMean",
    "bg_sdev": "Data_40HZ/Waveform/Characteristics/d_4nsBgSDEV",
    "gain": "Data_40HZ/Waveform/Characteristics/i_gainSet1064",
}
#: key of the dict returned by read_glah06 (and read_glah14) -> HDF5 dataset path
GLAH06_DATASETS: dict[str, str] = {
    "rec_ndx": "Data_40HZ/Time/i_rec_ndx",
    "shot_count": "Data_40HZ/Time/i_shot_count",
    "lat": "Data_40HZ/Geolocation/d_lat",
    "lon": "Data_40HZ/Geolocation/d_lon",
    "elev": "Data_40HZ/Elevation_Surfaces/d_elev",
    "sat_corr_flg": "Data_40HZ/Quality/sat_corr_flg",
    "elev_use_flg": "Data_40HZ/Quality/elev_use_flg",
}
#: dtype in which each dataset is read (and written)
_DTYPES: dict[str, type] = {
    "rec_ndx": np.int32,
    "shot_count": np.int32,
    "utc_time": np.float64,
    "rec_waveform": np.float32,
    "location_index": np.int32,
    "transmit": np.float32,
    "waveform_type": np.int8,
    "bg_mean": np.float64,
    "bg_sdev": np.float64,
    "gain": np.int32,
    "lat": np.float64,
    "lon": np.float64,
    "elev": np.float64,
    "sat_corr_flg": np.int8,
    "elev_use_flg": np.int8,
}
#: second dimension required of the 2-D datasets
_WIDTHS = {"rec_waveform": N_LONG_SAMPLES, "transmit": N_TRANSMIT_SAMPLES}


class GlasError(ValueError):
    """A GLAS file that cannot be used; the message names the file and the dataset."""


# --------------------------------------------------------------------------- ShotSet


@dataclass
class ShotSet:
    """GLAS shots with long waveforms, joined to their geolocation.

    All arrays have the number of shots ``n`` as first dimension.

    Attributes
    ----------
    rec_ndx : (n,) int64, GLAS record index (``i_rec_ndx``)
    shot_count : (n,) int32, shot within the record (``i_shot_count``, 1..40)
    time : (n,) float64, seconds since 2000-01-01 12:00 UTC; NaN where unknown
    waveform : (n, 544) float32, received waveform in volts at 1 ns spacing, as
        recorded (background not subtracted)
    transmit : (n, 48) float32, transmitted pulse, volts
    background_mean, background_sd : (n,) float32, background level and noise, volts
    gain : (n,) int32, 1064 nm gain setting; -1 where unknown
    lat, lon : (n,) float64, degrees; lon in -180..180
    elevation : (n,) float64, metres; NaN where fill
    x, y : (n,) float64, EPSG:3413 metres
    sat_corr_flg, elev_use_flg : (n,) int8 quality flags; -1 where unknown
    report : counts of the shots read and of those dropped, by reason
    source : the file(s) read
    """

    rec_ndx: np.ndarray
    shot_count: np.ndarray
    time: np.ndarray
    waveform: np.ndarray
    transmit: np.ndarray
    background_mean: np.ndarray
    background_sd: np.ndarray
    gain: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    elevation: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sat_corr_flg: np.ndarray
    elev_use_flg: np.ndarray
    report: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.rec_ndx)
        for name in shot_array_fields():
            value = getattr(self, name)
            if value.shape[:1] != (n,):
                raise ValueError(f"ShotSet.{name} has {value.shape[0]} rows, rec_ndx has {n}")

    def __len__(self) -> int:
        return len(self.rec_ndx)

    def subset(self, mask_or_index: np.ndarray | list[int] | int) -> ShotSet:
        """The shots selected by a boolean mask or integer indices (arrays copied).

        ``report`` and ``source`` are carried over unchanged.
        """
        index = np.atleast_1d(np.asarray(mask_or_index))
        if index.dtype == bool and index.shape != (len(self),):
            raise IndexError(f"mask of length {index.shape[0]} for {len(self)} shots")
        arrays = {name: getattr(self, name)[index] for name in shot_array_fields()}
        return ShotSet(**arrays, report=dict(self.report), source=self.source)


def shot_array_fields() -> tuple[str, ...]:
    """Names of the per-shot arrays of a :class:`ShotSet`."""
    return tuple(f.name for f in dataclasses.fields(ShotSet) if f.name not in ("report",
                                                                                 "source"))


# --------------------------------------------------------------------------- HDF5 reading


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise GlasError(f"{path}: no such GLAS file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise GlasError(
            f"{path}: not a readable HDF5 file (corrupt or truncated?): {exc}"
        ) from exc


def _read_dataset(f: h5py.File, path: Path, key: str, name: str) -> np.ndarray:
    """One dataset, checked for presence, rank and width, in its expected dtype."""
    obj = f.get(name)
    if not isinstance(obj, h5py.Dataset):
        what = "is not a dataset" if obj is not None else "is missing"
        raise GlasError(f"{path}: required dataset {name} {what}")
    ndim = 2 if key in _WIDTHS else 1
    if obj.ndim != ndim:
        raise GlasError(f"{path}: dataset {name} has {obj.ndim} dimensions, expected {ndim}")
    if key in _WIDTHS and obj.shape[1] != _WIDTHS[key]:
        raise GlasError(
            f"{path}: dataset {name} has {obj.shape[1]} samples per shot, expected {_WIDTHS[key]}"
        )
    try:
        return np.asarray(obj[()]).astype(_DTYPES[key])
    except OSError as exc:
        raise GlasError(
            f"{path}: dataset {name} cannot be read (corrupt or truncated file?): {exc}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise GlasError(f"{path}: dataset {name} has unusable type {obj.dtype}: {exc}") from exc


def _check_same_length(path: Path, data: Mapping[str, np.ndarray],
                       names: Mapping[str, str]) -> None:
    """Every per-shot array as long as ``rec_ndx``; the message names the offending one."""
    n = len(data["rec_ndx"])
    for key, name in names.items():
        if len(data[key]) != n:
            raise GlasError(
                f"{path}: dataset {name} has {len(data[key])} shots but "
                f"{names['rec_ndx']} has {n}"
            )


def _fill_to_nan(values: np.ndarray) -> np.ndarray:
    """float64 copy with fill (>= 1e300, or non-finite) as NaN."""
    values = np.array(values, dtype=np.float64)
    values[~(np.abs(values) < FILL_THRESHOLD)] = np.nan
    return values


def _read_table(f: h5py.File, path: Path) -> np.ndarray:
    group = f.get(TABLE_GROUP)
    if not isinstance(group, h5py.Group) or TABLE_ATTRIBUTE not in group.attrs:
        raise GlasError(f"{path}: required {_TABLE_NAME} is missing")
    table = np.asarray(group.attrs[TABLE_ATTRIBUTE], dtype=np.float64)
    if table.shape != (N_TABLE_ROWS, N_LONG_SAMPLES):
        raise GlasError(
            f"{path}: {_TABLE_NAME} has shape {table.shape}, "
            f"expected ({N_TABLE_ROWS}, {N_LONG_SAMPLES})"
        )
    return table


def _read_all(path: str | Path, names: Mapping[str, str], *,
              with_table: bool) -> tuple[Path, dict[str, np.ndarray], np.ndarray | None]:
    """Every dataset of ``names`` (and the sample-location table), checked."""
    path = Path(path)
    with _open(path) as f:
        try:
            data = {key: _read_dataset(f, path, key, name) for key, name in names.items()}
            table = _read_table(f, path) if with_table else None
        except (OSError, RuntimeError) as exc:  # HDF5 errors below the dataset level
            raise GlasError(
                f"{path}: not a readable HDF5 file (corrupt or truncated?): {exc}"
            ) from exc
    _check_same_length(path, data, names)
    return path, data, table


def read_glah01(path: str | Path) -> dict[str, np.ndarray]:
    """Read the 40 Hz waveform datasets of a GLAH01 granule.

    Parameters
    ----------
    path : GLAH01 HDF5 file

    Returns
    -------
    dict with the keys of :data:`GLAH01_DATASETS` (one array per dataset: ``rec_ndx``,
    ``shot_count``, ``location_index``, ``gain`` int32; ``waveform_type`` int8;
    ``utc_time``, ``bg_mean``, ``bg_sdev`` float64; ``rec_waveform`` (n, 544) and
    ``transmit`` (n, 48) float32 volts) and ``sample_location_table`` (5, 544) float64 ns.
    ``utc_time`` fill is NaN; everything else is as stored.

    Raises
    ------
    GlasError
        If the file is missing or not readable HDF5, a dataset or the table is missing,
        a waveform has the wrong number of samples, the table is not 5 x 544, or the
        per-shot datasets differ in length.
    """
    path, data, table = _read_all(path, GLAH01_DATASETS, with_table=True)
    data["utc_time"] = _fill_to_nan(data["utc_time"])
    data["sample_location_table"] = table
    return data


def read_glah06(path: str | Path) -> dict[str, np.ndarray]:
    """Read the 40 Hz geolocation of a GLAH06 (or GLAH14) granule.

    Parameters
    ----------
    path : GLAH06 or GLAH14 HDF5 file

    Returns
    -------
    dict with the keys of :data:`GLAH06_DATASETS`: ``rec_ndx``, ``shot_count`` int32;
    ``lat``, ``lon`` (degrees east, 0-360 as stored), ``elev`` (metres) float64 with fill
    (>= 1e300) as NaN; ``sat_corr_flg``, ``elev_use_flg`` int8 as stored.

    Raises
    ------
    GlasError
        If the file is missing or not readable HDF5, a dataset is missing or the
        datasets differ in length.
    """
    path, data, _ = _read_all(path, GLAH06_DATASETS, with_table=False)
    for key in ("lat", "lon", "elev"):
        data[key] = _fill_to_nan(data[key])
    return data


def read_glah14(path: str | Path) -> dict[str, np.ndarray]:
    """Read a GLAH14 granule; the 40 Hz paths are those of GLAH06 (see :func:`read_glah06`)."""
    return read_glah06(path)


# --------------------------------------------------------------------------- joining


def shot_key(rec_ndx: np.ndarray, shot_count: np.ndarray) -> np.ndarray:
    """One int64 per (rec_ndx, shot_count), ordered as the pairs are (both int32-ranged)."""
    return rec_ndx.astype(np.int64) * (1 << 32) + shot_count.astype(np.int64)


def _duplicate_check(path: Path, key: np.ndarray, names: Mapping[str, str]) -> None:
    if len(np.unique(key)) != len(key):
        raise GlasError(
            f"{path}: {names['rec_ndx']} and {names['shot_count']} repeat a "
            "(record, shot) pair; shots cannot be matched"
        )


def _row_positions(table_row: np.ndarray, path: Path, row: int) -> np.ndarray | None:
    """Fractional sample positions of 0..543 ns for one table row.

    ``None`` for a uniform 1 ns row (no resampling needed); an empty array for a
    row with fewer than two valid entries (fill).
    """
    valid = np.flatnonzero(np.isfinite(table_row) & (table_row <= GLAS_TABLE_FILL_ABOVE))
    if len(valid) == N_LONG_SAMPLES and np.allclose(table_row, np.arange(N_LONG_SAMPLES),
                                                    rtol=0, atol=1e-6):
        return None
    if len(valid) < 2:
        return np.empty(0)
    times = table_row[valid]
    if np.any(np.diff(times) <= 0):
        raise GlasError(f"{path}: {_TABLE_NAME} row {row} has sample times that do not increase")
    # position (in samples) of each 1 ns instant; np.interp clamps outside the row's span
    return np.interp(np.arange(N_LONG_SAMPLES, dtype=np.float64), times,
                     valid.astype(np.float64))


def _resample(waveforms: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of each waveform at fractional sample positions."""
    lower = np.floor(positions).astype(np.intp)
    upper = np.minimum(lower + 1, waveforms.shape[1] - 1)
    frac = positions - lower
    out = waveforms[:, lower] * (1.0 - frac) + waveforms[:, upper] * frac
    return out.astype(np.float32)


def _place_in_time(glah01: Mapping[str, np.ndarray], path: Path,
                   index: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Waveforms of the shots ``index`` on 0..543 ns, which of them have a usable row,
    and how many were resampled."""
    waveforms = np.asarray(glah01["rec_waveform"][index], dtype=np.float32)
    loc = np.asarray(glah01["location_index"][index])
    table = np.asarray(glah01["sample_location_table"], dtype=np.float64)
    null = loc == GLAS_NULL_LOCATION_INDEX
    bad = ~null & ((loc < 0) | (loc >= table.shape[0]))
    if bad.any():
        raise GlasError(
            f"{path}: {GLAH01_DATASETS['location_index']} holds {np.unique(loc[bad]).tolist()}, "
            f"not a row of the {table.shape[0]}-row {_TABLE_NAME} nor the null "
            f"{GLAS_NULL_LOCATION_INDEX}"
        )
    usable = ~null
    n_resampled = 0
    for row in np.unique(loc[usable]):
        positions = _row_positions(table[row], path, int(row))
        members = loc == row
        if positions is None:
            continue
        if positions.size == 0:
            usable &= ~members
            continue
        waveforms[members] = _resample(waveforms[members], positions)
        n_resampled += int(members.sum())
    return waveforms, usable, n_resampled


def _check_keys(data: Mapping[str, Any], names: Mapping[str, str], path: Path,
                extra: tuple[str, ...] = ()) -> None:
    for key in (*names, *extra):
        if key not in data:
            name = names.get(key, _TABLE_NAME)
            raise GlasError(f"{path}: no {name} given to the join (key {key!r})")


def _type_counts(types: np.ndarray) -> dict[str, int]:
    n_long = int(np.sum(types == WAVEFORM_LONG))
    n_short = int(np.sum(types == WAVEFORM_SHORT))
    n_missing = int(np.sum(types == WAVEFORM_MISSING))
    return {"n_long": n_long, "n_short": n_short, "n_missing_type": n_missing,
            "n_other_type": len(types) - n_long - n_short - n_missing}


def _wrap_lon(lon: np.ndarray) -> np.ndarray:
    """Longitude (any convention, e.g. 0-360 °E) in -180..180."""
    return (lon + 180.0) % 360.0 - 180.0


def _flags(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values).astype(np.int8)
    out[out == _INT8_FILL] = -1
    return out


def join_shots(glah01: Mapping[str, np.ndarray], glah06: Mapping[str, np.ndarray], *,
               glah01_path: str | Path, glah06_path: str | Path) -> ShotSet:
    """Join GLAH01 waveforms to GLAH06/GLAH14 geolocation on (i_rec_ndx, i_shot_count).

    Keeps long waveforms (type 1) with a usable sample-location row, a GLAH06 record
    and a geolocation; resamples rows that are not uniform 1 ns spacing onto
    0..543 ns; converts longitude to -180..180 and projects to EPSG:3413. Shots are
    ordered by (rec_ndx, shot_count).

    Parameters
    ----------
    glah01 : as returned by :func:`read_glah01`
    glah06 : as returned by :func:`read_glah06` (or :func:`read_glah14`)
    glah01_path, glah06_path : the files they came from, for messages and ``source``

    Returns
    -------
    ShotSet whose ``report`` counts every GLAH01 shot once: ``n_glah01`` = ``n_short``
    + ``n_missing_type`` + ``n_other_type`` + ``n_null_location`` + ``n_unmatched`` +
    ``n_fill_geolocation`` + ``n_kept``; ``n_long`` counts type-1 shots,
    ``n_resampled`` the kept or dropped long shots whose row was resampled.

    Raises
    ------
    GlasError
        If no GLAH01 shot has a GLAH06 record, the GLAH01 holds no long waveform,
        no long waveform has a usable sample location, every matched shot has fill
        geolocation, or the inputs are malformed.
    """
    path01, path06 = Path(glah01_path), Path(glah06_path)
    _check_keys(glah01, GLAH01_DATASETS, path01, extra=("sample_location_table",))
    _check_keys(glah06, GLAH06_DATASETS, path06)
    _check_same_length(path01, glah01, GLAH01_DATASETS)
    _check_same_length(path06, glah06, GLAH06_DATASETS)

    key01 = shot_key(np.asarray(glah01["rec_ndx"]), np.asarray(glah01["shot_count"]))
    key06 = shot_key(np.asarray(glah06["rec_ndx"]), np.asarray(glah06["shot_count"]))
    _duplicate_check(path01, key01, GLAH01_DATASETS)
    _duplicate_check(path06, key06, GLAH06_DATASETS)
    order06 = np.argsort(key06, kind="stable")
    sorted06 = key06[order06]
    pos = np.clip(np.searchsorted(sorted06, key01), 0, max(len(sorted06) - 1, 0))
    matched = (sorted06[pos] == key01) if len(sorted06) else np.zeros(len(key01), bool)
    if not matched.any():
        raise GlasError(
            f"{path01}: none of its {len(key01)} shots has a record in {path06} "
            f"(no common {GLAH01_DATASETS['rec_ndx']}, {GLAH01_DATASETS['shot_count']}); "
            "are the two granules from the same orbit and time?"
        )

    report: dict[str, int] = {"n_glah01": len(key01),
                              **_type_counts(np.asarray(glah01["waveform_type"]))}
    if report["n_long"] == 0:
        raise GlasError(
            f"{path01}: {GLAH01_DATASETS['waveform_type']} holds no long waveforms: "
            f"{report['n_short']} short, {report['n_missing_type']} missing"
            + (f", {report['n_other_type']} of other types" if report["n_other_type"] else "")
        )

    order01 = np.argsort(key01, kind="stable")
    long01 = order01[np.asarray(glah01["waveform_type"])[order01] == WAVEFORM_LONG]
    waveforms, usable, report["n_resampled"] = _place_in_time(glah01, path01, long01)
    report["n_null_location"] = int((~usable).sum())
    if not usable.any():
        raise GlasError(
            f"{path01}: no long waveform has a usable sample location "
            f"({GLAH01_DATASETS['location_index']} null or its {_TABLE_NAME} row fill)"
        )

    has_record = matched[long01]
    report["n_unmatched"] = int((usable & ~has_record).sum())
    keep = usable & has_record
    rows06 = order06[pos[long01]]
    lat = _fill_to_nan(np.asarray(glah06["lat"])[rows06])
    lon = _fill_to_nan(np.asarray(glah06["lon"])[rows06])
    located = np.isfinite(lat) & np.isfinite(lon)
    report["n_fill_geolocation"] = int((keep & ~located).sum())
    if not (keep & located).any():
        which = [GLAH06_DATASETS[k] for k, v in (("lat", lat), ("lon", lon))
                 if not np.isfinite(v[keep]).any()] or [GLAH06_DATASETS["lat"],
                                                        GLAH06_DATASETS["lon"]]
        raise GlasError(
            f"{path06}: every one of the {int(keep.sum())} matched shots has fill geolocation "
            f"in {' and '.join(which)}"
        )
    keep &= located
    report["n_kept"] = int(keep.sum())

    sel01, sel06 = long01[keep], rows06[keep]
    lat, lon = lat[keep], _wrap_lon(lon[keep])
    x, y = project_lonlat(lon, lat, SHOT_CRS)
    gain = np.asarray(glah01["gain"])[sel01].astype(np.int32)
    gain[(gain < 0) | (gain == _INT32_FILL)] = -1
    return ShotSet(
        rec_ndx=np.asarray(glah01["rec_ndx"])[sel01].astype(np.int64),
        shot_count=np.asarray(glah01["shot_count"])[sel01].astype(np.int32),
        time=_fill_to_nan(np.asarray(glah01["utc_time"])[sel01]),
        waveform=waveforms[keep],
        transmit=np.asarray(glah01["transmit"])[sel01].astype(np.float32),
        background_mean=np.asarray(glah01["bg_mean"])[sel01].astype(np.float32),
        background_sd=np.asarray(glah01["bg_sdev"])[sel01].astype(np.float32),
        gain=gain,
        lat=lat,
        lon=lon,
        elevation=_fill_to_nan(np.asarray(glah06["elev"])[sel06]),
        x=x,
        y=y,
        sat_corr_flg=_flags(np.asarray(glah06["sat_corr_flg"])[sel06]),
        elev_use_flg=_flags(np.asarray(glah06["elev_use_flg"])[sel06]),
        report=report,
        source=f"GLAH01 {path01}; GLAH06 {path06}",
    )


def read_glas_pair(glah01_path: str | Path, glah06_path: str | Path) -> ShotSet:
    """Read a GLAH01 granule and its GLAH06 (or GLAH14) granule and join them.

    See :func:`read_glah01`, :func:`read_glah06` and :func:`join_shots`.

    Raises
    ------
    GlasError
        If either file is unreadable (missing, truncated, not HDF5) or malformed, or
        the join leaves nothing (see :func:`join_shots`).
    """
    return join_shots(read_glah01(glah01_path), read_glah06(glah06_path),
                      glah01_path=glah01_path, glah06_path=glah06_path)


# --------------------------------------------------------------------------- text extract


def _parse_text_line(path: Path, number: int, line: str) -> np.ndarray:
    parts = line.split()
    if len(parts) != N_TEXT_COLUMNS:
        raise GlasError(
            f"{path}: line {number} has {len(parts)} columns, expected {N_TEXT_COLUMNS} "
            f"(lat, lon, elevation, {N_TRANSMIT_SAMPLES} transmit and {N_LONG_SAMPLES} "
            "received counts)"
        )
    try:
        values = np.array(parts, dtype=np.int64)
    except ValueError as exc:
        raise GlasError(f"{path}: line {number} holds a value that is not an integer "
                        f"({exc})") from exc
    counts = values[3:]
    outside = (counts < 0) | (counts > DIGITIZER_COUNTS)
    if outside.any():
        column = 3 + int(np.flatnonzero(outside)[0])
        raise GlasError(
            f"{path}: line {number}, column {column + 1} holds {values[column]} counts, "
            f"outside the digitizer's 0-{DIGITIZER_COUNTS}"
        )
    return values


def read_glas_text(path: str | Path) -> ShotSet:
    """Read the plain-text GLAS extract (one shot a line, 595 integers).

    Columns: latitude x 1e6, longitude x 1e6 (0-360 °E), elevation in mm, 48 transmit
    counts, 544 received counts (0-255). Counts become volts (``VOLTS_PER_COUNT``);
    the background is the median and standard deviation of the first 50 received
    samples. Time is unknown (NaN), gain and flags -1; ``rec_ndx`` is the shot's
    line index // 40 and ``shot_count`` line index % 40 + 1 (blank lines are skipped
    and not counted).

    Raises
    ------
    GlasError
        If the file is missing or empty, a line has the wrong number of columns or a
        non-integer, or a count lies outside 0-255.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise GlasError(f"{path}: unreadable GLAS text extract ({exc})") from exc
    rows = [_parse_text_line(path, number, line)
            for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise GlasError(f"{path}: the GLAS text extract holds no shot")
    values = np.vstack(rows)
    n = len(values)
    transmit = (values[:, 3:3 + N_TRANSMIT_SAMPLES] * VOLTS_PER_COUNT).astype(np.float32)
    received = values[:, 3 + N_TRANSMIT_SAMPLES:] * VOLTS_PER_COUNT
    background = received[:, :N_BACKGROUND_SAMPLES]
    lat = values[:, 0] / 1e6
    lon = _wrap_lon(values[:, 1] / 1e6)
    x, y = project_lonlat(lon, lat, SHOT_CRS)
    line_index = np.arange(n)
    report = {"n_glah01": n, "n_long": n, "n_short": 0, "n_missing_type": 0, "n_other_type": 0,
              "n_null_location": 0, "n_unmatched": 0, "n_fill_geolocation": 0,
              "n_resampled": 0, "n_kept": n}
    return ShotSet(
        rec_ndx=(line_index // 40).astype(np.int64),
        shot_count=(line_index % 40 + 1).astype(np.int32),
        time=np.full(n, np.nan),
        waveform=received.astype(np.float32),
        transmit=transmit,
        background_mean=np.median(background, axis=1).astype(np.float32),
        background_sd=np.std(background, axis=1).astype(np.float32),
        gain=np.full(n, -1, dtype=np.int32),
        lat=lat,
        lon=lon,
        elevation=values[:, 2] / 1000.0,
        x=x,
        y=y,
        sat_corr_flg=np.full(n, -1, dtype=np.int8),
        elev_use_flg=np.full(n, -1, dtype=np.int8),
        report=report,
        source=str(path),
    )


# --------------------------------------------------------------------------- writing


def uniform_sample_table() -> np.ndarray:
    """A plausible 5 x 544 sample-location table (ns from the record's first sample).

    Row 0: uniform 1 ns spacing, 0..543 ns. Row 1: 1 ns spacing for the first 352
    samples (0..351 ns), then 4 ns spacing (355..1119 ns), as for a record whose
    later samples are compressed. Rows 2-4: fill (``GLAS_FILL``).
    """
    table = np.full((N_TABLE_ROWS, N_LONG_SAMPLES), GLAS_FILL, dtype=np.float64)
    table[0] = np.arange(N_LONG_SAMPLES, dtype=np.float64)
    n_fine = 352
    table[1, :n_fine] = np.arange(n_fine, dtype=np.float64)
    table[1, n_fine:] = (n_fine - 1) + 4.0 * np.arange(1, N_LONG_SAMPLES - n_fine + 1)
    return table


def _to_fill(values: Any) -> np.ndarray:
    """float64 copy with NaN written as GLAS_FILL."""
    values = np.array(values, dtype=np.float64)
    values[np.isnan(values)] = GLAS_FILL
    return values


def _write_datasets(path: Path, data: Mapping[str, Any], names: Mapping[str, str],
                    attrs: Mapping[str, Any] | None,
                    table: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, name in names.items():
            array = np.asarray(data[key]).astype(_DTYPES[key])
            if array.size:
                f.create_dataset(name, data=array, compression="gzip", chunks=True)
            else:
                f.create_dataset(name, data=array)
        if table is not None:
            f.create_group(TABLE_GROUP).attrs[TABLE_ATTRIBUTE] = np.asarray(table,
                                                                            dtype=np.float64)
        for attr, value in (attrs or {}).items():
            f.attrs[attr] = value
    return path


def write_glah01(path: str | Path, *, rec_ndx: Any, shot_count: Any, utc_time: Any,
                 rec_waveform: Any, location_index: Any, sample_location_table: Any,
                 transmit: Any, waveform_type: Any, bg_mean: Any, bg_sdev: Any, gain: Any,
                 attrs: Mapping[str, Any] | None = None) -> Path:
    """Write a GLAH01-layout HDF5 file that :func:`read_glah01` reads.

    Arrays are written as given (no checks, so that tests can write malformed
    files), in the product's dtypes: ``r_rng_wf``, ``r_tx_wf`` float32; ``i_*`` int32
    except ``i_waveformType`` int8; ``d_*`` float64 with NaN written as fill. Datasets
    are gzip-compressed and chunked; ``attrs`` go on the root group.

    Parameters
    ----------
    path : file to write (overwritten)
    rec_ndx, shot_count : (n,) record index and shot within the record
    utc_time : (n,) seconds since 2000-01-01 12:00 UTC
    rec_waveform : (n, 544) received waveform, volts
    location_index : (n,) row of the sample-location table, or 127 for none
    sample_location_table : (5, 544) ns; see :func:`uniform_sample_table`
    transmit : (n, 48) transmitted pulse, volts
    waveform_type : (n,) 0 missing, 1 long, 2 short
    bg_mean, bg_sdev : (n,) background mean and standard deviation, volts
    gain : (n,) 1064 nm gain setting
    attrs : root attributes (e.g. ``{"short_name": "GLAH01"}``)

    Returns
    -------
    the path written
    """
    data = {"rec_ndx": rec_ndx, "shot_count": shot_count, "utc_time": _to_fill(utc_time),
            "rec_waveform": rec_waveform, "location_index": location_index,
            "transmit": transmit, "waveform_type": waveform_type,
            "bg_mean": _to_fill(bg_mean), "bg_sdev": _to_fill(bg_sdev), "gain": gain}
    return _write_datasets(Path(path), data, GLAH01_DATASETS, attrs,
                           table=np.asarray(sample_location_table))


def write_glah06(path: str | Path, *, rec_ndx: Any, shot_count: Any, lat: Any, lon: Any,
                 elev: Any, sat_corr_flg: Any, elev_use_flg: Any,
                 attrs: Mapping[str, Any] | None = None) -> Path:
    """Write a GLAH06-layout HDF5 file that :func:`read_glah06` reads.

    Arrays are written as given, without checks: ``i_*`` int32, ``d_*`` float64 (NaN
    written as ``GLAS_FILL``), flags int8; gzip-compressed, chunked; ``attrs`` on the root.

    Parameters
    ----------
    path : file to write (overwritten)
    rec_ndx, shot_count : (n,) record index and shot within the record
    lat : (n,) degrees north
    lon : (n,) degrees east, expected 0-360 as in the product (written as given)
    elev : (n,) metres
    sat_corr_flg, elev_use_flg : (n,) quality flags
    attrs : root attributes

    Returns
    -------
    the path written
    """
    data = {"rec_ndx": rec_ndx, "shot_count": shot_count, "lat": _to_fill(lat),
            "lon": _to_fill(lon), "elev": _to_fill(elev), "sat_corr_flg": sat_corr_flg,
            "elev_use_flg": elev_use_flg}
    return _write_datasets(Path(path), data, GLAH06_DATASETS, attrs)
