"""Readers and writers of ICESat/GLAS products.

* GLAH01 (received and transmitted waveforms, 40 Hz) and GLAH06/GLAH14
  (geolocation and elevation, 40 Hz) HDF5 granules, joined shot by shot on
  ``(i_rec_ndx, i_shot_count)`` into a :class:`ShotSet`;
* the plain-text extract of real Jakobshavn shots (595 integers a line);
* writers of the same HDF5 layout, for synthetic data and tests.

The product's conventions (GLAH01 release 33/34), as the reader applies them:

* ``RecWaveform/i_rec_wf_location_index`` is 1-based: values 1-5 select rows 0-4
  of the ``ANCILLARY_DATA`` attribute ``rec_wf_sample_location_table``; 127 is none.
* That table is 5 x 544 float64 nanoseconds: for each telemetered sample, the delta
  time to add to ``RecWaveform/i_RespEndTime``. Rows start at 0 and decrease. One
  row steps 1 ns through sample 391, then 4 ns (-390, -391, -393.5, -397.5, ...,
  -997.5 at sample 543): each later sample is the mean of 4 ns of record, stamped
  at its centre. Two rows hold 200 valid entries (short waveforms); entries above
  1e10 are fill.
* ``RecWaveform/r_rng_wf`` keeps the telemetered order, which is time-reversed:
  sample 0 is the latest return, the farthest from the spacecraft.
  ``TransmitWaveform/r_tx_wf`` (48 samples) is in time order.
* ``r_rng_wf`` is in volts, on the 256 levels of the ``ANCILLARY_DATA`` attribute
  ``volt_table_1`` (-0.195 V at count 0 to 1.446 V at count 255, saturation);
  ``d_4nsBgMean`` and ``d_4nsBgSDEV`` are volts.
* GLAH06/GLAH14 ``d_lat``, ``d_lon`` are degrees, longitude 0-360 °E, fill
  1.7976931348623157e308.

Sources: NSIDC, "GLAS Altimetry Product Usage Guidance" and the GLAH01 data
dictionary; carbonplan/trace, which processed the whole archive
(``carbonplan_trace/v1/glas_extract.py``: ``table[i_rec_wf_location_index - 1]``,
127 as null, fill above 1e10; ``glas_preprocess.py`` and ``glas_height_metrics.py``:
bin 0 at ``i_RespEndTime``, the bottom of the waveform; the notebook
``example_glas_processing.ipynb``, which prints row 4 as ``[-390, -391, -393.5,
-397.5]`` around sample 391 of ``GLAH01_033_2107_003_0241_4_02_0001.H5`` and checks
``r_rng_wf`` against ``volt_table_1``; ``data/volt_table.csv``).

The reader returns every long waveform (544 samples, ``i_waveformType`` 1) in time
order, earliest first, on the uniform 1 ns grid of the 544 ns that end at
``i_RespEndTime``; rows with 4 ns steps are resampled onto that grid (linearly) and
counted, and the earlier part of their record, before that window, is left out.
Positions are projected to EPSG:3413 with :func:`rasterio.warp.transform`.
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
    N_SHORT_SAMPLES,
    N_TRANSMIT_SAMPLES,
    VOLT_TABLE_FIRST_V,
    VOLT_TABLE_STEPS_V,
)
from cryolearn.io.grids import project_lonlat

__all__ = [
    "GLAH01_DATASETS",
    "GLAH06_DATASETS",
    "TABLE_ATTRIBUTE",
    "TABLE_GROUP",
    "GlasError",
    "ShotSet",
    "check_sample_table",
    "check_volt_table",
    "counts_to_volts",
    "join_shots",
    "product_sample_table",
    "product_volt_table",
    "read_glah01",
    "read_glah06",
    "read_glah14",
    "read_glas_pair",
    "read_glas_text",
    "time_order",
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
#: received samples, the earliest in time, used for the background of the text extract
N_BACKGROUND_SAMPLES = 50
#: samples of the compressed table row at 1 ns (0..391), and the 4 ns step after them
N_FINE_SAMPLES = 392
COMPRESSED_STEP_NS = 4.0
#: the 1 ns grid of the output waveforms: ns before i_RespEndTime, earliest first
OUTPUT_TIMES_NS = np.arange(-(N_LONG_SAMPLES - 1), 1, dtype=np.float64)
#: the 1-based row numbers of i_rec_wf_location_index
FIRST_ROW_NUMBER = 1
#: integer columns per line of the text extract: lat, lon, elevation, transmit, received
N_TEXT_COLUMNS = 3 + N_TRANSMIT_SAMPLES + N_LONG_SAMPLES
#: projection of the shots
SHOT_CRS = DEM_CRS
#: waveform types of i_waveformType
WAVEFORM_MISSING, WAVEFORM_LONG, WAVEFORM_SHORT = 0, 1, 2

TABLE_GROUP = "ANCILLARY_DATA"
TABLE_ATTRIBUTE = "rec_wf_sample_location_table"
VOLT_TABLE_ATTRIBUTE = "volt_table_1"
_TABLE_NAME = f"{TABLE_GROUP} attribute {TABLE_ATTRIBUTE}"
_VOLT_TABLE_NAME = f"{TABLE_GROUP} attribute {VOLT_TABLE_ATTRIBUTE}"

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
#: dtypes written where the product's differ from those read
_WRITE_DTYPES: dict[str, type] = {"location_index": np.int8}
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
    waveform : (n, 544) float32, received waveform in volts on a 1 ns grid in time
        order, earliest first, ending at ``i_RespEndTime`` (background not subtracted)
    transmit : (n, 48) float32, transmitted pulse, volts
    background_mean, background_sd : (n,) float32, background level and noise, volts
    gain : (n,) int32, 1064 nm gain setting; -1 where unknown
    lat, lon : (n,) float64, degrees; lon in -180..180
    elevation : (n,) float64, metres; NaN where fill
    x, y : (n,) float64, EPSG:3413 metres
    sat_corr_flg, elev_use_flg : (n,) int8 quality flags; -1 where unknown
    saturated : (n,) bool, a telemetered sample at the top level of ``volt_table_1``
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
    saturated: np.ndarray
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


def _valid_entries(table: np.ndarray) -> np.ndarray:
    """Entries of a sample-location table that are not fill (finite, at most 1e10)."""
    return np.isfinite(table) & (table <= GLAS_TABLE_FILL_ABOVE)


def check_sample_table(table: np.ndarray, path: str | Path) -> np.ndarray:
    """The sample-location table as float64, checked: 5 x 544, each row decreasing.

    Raises
    ------
    GlasError
        naming the file, the attribute and the row, for a table of the wrong shape or
        a row whose valid entries do not strictly decrease (the product's rows start
        at 0 ns and go back in time sample by sample).
    """
    table = np.asarray(table, dtype=np.float64)
    if table.shape != (N_TABLE_ROWS, N_LONG_SAMPLES):
        raise GlasError(
            f"{path}: {_TABLE_NAME} has shape {table.shape}, "
            f"expected ({N_TABLE_ROWS}, {N_LONG_SAMPLES})"
        )
    for row, values in enumerate(table):
        samples = np.flatnonzero(_valid_entries(values))
        later = np.flatnonzero(np.diff(values[samples]) >= 0)
        if len(later):
            before, sample = samples[later[0]], samples[later[0] + 1]
            raise GlasError(
                f"{path}: {_TABLE_NAME} row {row} is not monotonic: sample {sample} holds "
                f"{values[sample]:g} ns after {values[before]:g}"
                " ns (rows must decrease from 0 ns, sample 0 being the latest)"
            )
    return table


def product_volt_table() -> np.ndarray:
    """The product's ``volt_table_1``: volts of the 256 digitizer counts (see constants)."""
    steps = np.empty(DIGITIZER_COUNTS, dtype=np.float64)
    first = 1
    for last, step in VOLT_TABLE_STEPS_V:
        steps[first - 1:last] = step
        first = last + 1
    return np.round(VOLT_TABLE_FIRST_V + np.concatenate([[0.0], np.cumsum(steps)]), 6)


def check_volt_table(table: np.ndarray, path: str | Path) -> np.ndarray:
    """A ``volt_table_1`` as float64, checked: 256 volt levels that increase.

    Raises
    ------
    GlasError
        naming the file and the attribute, for a table of the wrong length or one
        whose levels do not increase.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.shape != (DIGITIZER_COUNTS + 1,):
        raise GlasError(
            f"{path}: {_VOLT_TABLE_NAME} has shape {table.shape}, expected "
            f"({DIGITIZER_COUNTS + 1},): one volt level per count of the 8-bit digitizer"
        )
    if not np.all(np.diff(table) > 0):
        count = int(np.argmax(np.diff(table) <= 0)) + 1
        raise GlasError(
            f"{path}: {_VOLT_TABLE_NAME} does not increase: count {count} is "
            f"{table[count]:g} V after {table[count - 1]:g} V"
        )
    return table


def counts_to_volts(counts: np.ndarray, volt_table: np.ndarray | None = None) -> np.ndarray:
    """Digitizer counts (0-255; fractional counts between levels) as volts of the table."""
    table = product_volt_table() if volt_table is None else volt_table
    return np.interp(counts, np.arange(len(table), dtype=np.float64), table)


def _read_table(f: h5py.File, path: Path) -> np.ndarray:
    group = f.get(TABLE_GROUP)
    if not isinstance(group, h5py.Group) or TABLE_ATTRIBUTE not in group.attrs:
        raise GlasError(f"{path}: required {_TABLE_NAME} is missing")
    return check_sample_table(group.attrs[TABLE_ATTRIBUTE], path)


def _read_volt_table(f: h5py.File, path: Path) -> np.ndarray | None:
    group = f.get(TABLE_GROUP)
    if not isinstance(group, h5py.Group) or VOLT_TABLE_ATTRIBUTE not in group.attrs:
        return None
    return check_volt_table(group.attrs[VOLT_TABLE_ATTRIBUTE], path)


def _read_all(path: str | Path, names: Mapping[str, str], *,
              with_table: bool) -> tuple[Path, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every dataset of ``names`` (and the GLAH01 tables), checked."""
    path = Path(path)
    with _open(path) as f:
        try:
            data = {key: _read_dataset(f, path, key, name) for key, name in names.items()}
            tables: dict[str, np.ndarray] = {}
            if with_table:
                tables["sample_location_table"] = _read_table(f, path)
                volts = _read_volt_table(f, path)
                if volts is not None:
                    tables["volt_table"] = volts
        except (OSError, RuntimeError) as exc:  # HDF5 errors below the dataset level
            raise GlasError(
                f"{path}: not a readable HDF5 file (corrupt or truncated?): {exc}"
            ) from exc
    _check_same_length(path, data, names)
    return path, data, tables


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
    ``transmit`` (n, 48) float32 volts, ``rec_waveform`` in the telemetered order,
    latest sample first), ``sample_location_table`` (5, 544) float64 ns and, when the
    file has it, ``volt_table`` (256,) float64 volts (``volt_table_1``).
    ``utc_time`` fill is NaN; everything else is as stored.

    Raises
    ------
    GlasError
        If the file is missing or not readable HDF5, a dataset or the table is missing,
        a waveform has the wrong number of samples, the table is not 5 x 544 or a row
        of it is not monotonic, ``volt_table_1`` is not 256 increasing levels, or the
        per-shot datasets differ in length.
    """
    path, data, tables = _read_all(path, GLAH01_DATASETS, with_table=True)
    data["utc_time"] = _fill_to_nan(data["utc_time"])
    data.update(tables)
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


def _is_uniform(table_row: np.ndarray) -> bool:
    return bool(np.array_equal(table_row, -np.arange(N_LONG_SAMPLES, dtype=np.float64)))


def time_order(telemetered: np.ndarray, table_row: np.ndarray) -> np.ndarray | None:
    """Telemetered waveforms of one table row on the 1 ns output grid, earliest first.

    Parameters
    ----------
    telemetered : (n, 544) waveforms as ``r_rng_wf`` stores them, latest sample first
    table_row : (544,) ns to add to ``i_RespEndTime`` for each sample (0, -1, ...)

    Returns
    -------
    (n, 544) float32 at :data:`OUTPUT_TIMES_NS` (-543..0 ns), exactly the reversed
    samples for a uniform 1 ns row and linearly interpolated otherwise; ``None`` when
    the row's valid entries do not reach back 543 ns (a short-waveform row, or fill).
    """
    valid = _valid_entries(table_row)
    times = table_row[valid]
    if len(times) < 2 or times.min() > OUTPUT_TIMES_NS[0] or times.max() < 0.0:
        return None
    waveforms = np.asarray(telemetered, dtype=np.float32)
    if _is_uniform(table_row):
        return np.ascontiguousarray(waveforms[:, ::-1])
    ascending, values = times[::-1], waveforms[:, valid][:, ::-1]
    upper = np.clip(np.searchsorted(ascending, OUTPUT_TIMES_NS), 1, len(ascending) - 1)
    lower = upper - 1
    frac = (OUTPUT_TIMES_NS - ascending[lower]) / (ascending[upper] - ascending[lower])
    return (values[:, lower] * (1.0 - frac) + values[:, upper] * frac).astype(np.float32)


def _place_in_time(glah01: Mapping[str, np.ndarray], path: Path,
                   index: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Waveforms of the shots ``index`` on the 1 ns grid in time order, which of them
    have a usable row, and counts of null rows, short rows and resampled shots."""
    telemetered = np.asarray(glah01["rec_waveform"][index], dtype=np.float32)
    loc = np.asarray(glah01["location_index"][index]).astype(np.int64)
    table = np.asarray(glah01["sample_location_table"], dtype=np.float64)
    null = loc == GLAS_NULL_LOCATION_INDEX
    bad = ~null & ((loc < FIRST_ROW_NUMBER) | (loc >= FIRST_ROW_NUMBER + table.shape[0]))
    if bad.any():
        raise GlasError(
            f"{path}: {GLAH01_DATASETS['location_index']} holds {np.unique(loc[bad]).tolist()}, "
            f"neither a row number {FIRST_ROW_NUMBER}-{table.shape[0]} (1-based) of the "
            f"{_TABLE_NAME} nor the null {GLAS_NULL_LOCATION_INDEX}"
        )
    waveforms = np.zeros_like(telemetered)
    usable = ~null
    counts = {"n_null_location": int(null.sum()), "n_short_location_row": 0, "n_resampled": 0}
    for number in np.unique(loc[usable]):
        members = loc == number
        row = table[number - FIRST_ROW_NUMBER]
        placed = time_order(telemetered[members], row)
        if placed is None:
            usable &= ~members
            counts["n_short_location_row"] += int(members.sum())
            continue
        waveforms[members] = placed
        if not _is_uniform(row):
            counts["n_resampled"] += int(members.sum())
    return waveforms, usable, counts


def _saturated(telemetered: np.ndarray, volt_table: np.ndarray | None) -> np.ndarray:
    """Shots with a telemetered sample at the top level of the volt table."""
    table = product_volt_table() if volt_table is None else volt_table
    top_step = table[-1] - table[-2]
    return np.any(np.asarray(telemetered) >= table[-1] - 0.5 * top_step, axis=1)


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
    and a geolocation; puts each waveform in time order on the 1 ns grid of the 544 ns
    ending at ``i_RespEndTime`` (rows with 4 ns steps resampled, see :func:`time_order`);
    flags saturation at the top level of ``volt_table_1`` (the product's table when the
    file has none); converts longitude to -180..180 and projects to EPSG:3413. Shots
    are ordered by (rec_ndx, shot_count).

    Parameters
    ----------
    glah01 : as returned by :func:`read_glah01`
    glah06 : as returned by :func:`read_glah06` (or :func:`read_glah14`)
    glah01_path, glah06_path : the files they came from, for messages and ``source``

    Returns
    -------
    ShotSet whose ``report`` counts every GLAH01 shot once: ``n_glah01`` = ``n_short``
    + ``n_missing_type`` + ``n_other_type`` + ``n_null_location`` +
    ``n_short_location_row`` + ``n_unmatched`` + ``n_fill_geolocation`` + ``n_kept``;
    ``n_long`` counts type-1 shots, ``n_short_location_row`` the long ones whose row
    does not span 544 ns, ``n_resampled`` the kept or dropped long shots whose row
    (4 ns steps) was resampled onto 1 ns.

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
    check_sample_table(glah01["sample_location_table"], path01)
    if glah01.get("volt_table") is not None:
        check_volt_table(glah01["volt_table"], path01)
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
    waveforms, usable, location_counts = _place_in_time(glah01, path01, long01)
    report.update(location_counts)
    if not usable.any():
        raise GlasError(
            f"{path01}: no long waveform has a usable sample location: "
            f"{location_counts['n_null_location']} have the null "
            f"{GLAS_NULL_LOCATION_INDEX} in {GLAH01_DATASETS['location_index']}, "
            f"{location_counts['n_short_location_row']} a {_TABLE_NAME} row that does not "
            f"span {N_LONG_SAMPLES} ns"
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
        saturated=_saturated(np.asarray(glah01["rec_waveform"])[sel01],
                             glah01.get("volt_table")),
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
    counts (time order), 544 received counts (0-255) in the telemetered order of
    ``r_rng_wf``, latest first. The extract is a dump of a GLA01 granule and carries no
    sample-location table; its received samples are taken as the uniform 1 ns row and
    reversed into time order. The evidence for that order, measured on the real
    Jakobshavn extract (106 shots): in file order the returns rise over 46 samples and
    fall over 35.5 (medians, 25 % of peak to peak), the reverse of a surface return in
    time; the file's last samples hold white noise (lag-1 autocorrelation 0.14) and
    its first samples a slow tail (0.68), as the quiet record before a return and the
    scattered energy after it would; and the transmit pulse, in time order, rises
    faster than it falls, as the reversed returns do. No step in the noise at sample
    391 shows a compressed row, so the uniform row is taken.

    Counts become volts through the product's ``volt_table_1``
    (:func:`product_volt_table`); a count of 255 is saturation. The background is the
    median and standard deviation of the 50 earliest received samples. Time is unknown
    (NaN), gain and flags -1; ``rec_ndx`` is the shot's line index // 40 and
    ``shot_count`` line index % 40 + 1 (blank lines are skipped and not counted).

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
    volts = product_volt_table()
    transmit = volts[values[:, 3:3 + N_TRANSMIT_SAMPLES]].astype(np.float32)
    telemetered = values[:, 3 + N_TRANSMIT_SAMPLES:]
    received = volts[telemetered[:, ::-1]]
    background = received[:, :N_BACKGROUND_SAMPLES]
    lat = values[:, 0] / 1e6
    lon = _wrap_lon(values[:, 1] / 1e6)
    x, y = project_lonlat(lon, lat, SHOT_CRS)
    line_index = np.arange(n)
    report = {"n_glah01": n, "n_long": n, "n_short": 0, "n_missing_type": 0, "n_other_type": 0,
              "n_null_location": 0, "n_short_location_row": 0, "n_unmatched": 0,
              "n_fill_geolocation": 0, "n_resampled": 0, "n_kept": n}
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
        saturated=np.any(telemetered >= DIGITIZER_COUNTS, axis=1),
        report=report,
        source=str(path),
    )


# --------------------------------------------------------------------------- writing


#: 1-based row numbers of :func:`product_sample_table`, by kind of row
SHORT_ROW_NUMBERS = (1, 3)
UNIFORM_ROW_NUMBERS = (2, 4)
#: the uniform row the synthetic campaigns write
UNIFORM_ROW_NUMBER = UNIFORM_ROW_NUMBERS[-1]
COMPRESSED_ROW_NUMBER = 5


def product_sample_table() -> np.ndarray:
    """A 5 x 544 ``rec_wf_sample_location_table`` in the product's conventions (ns).

    Rows 0 and 2 (location index 1 and 3): short waveforms, 0, -1, ..., -199 ns, then
    fill (``GLAS_FILL``). Row 4 (index 5): 1 ns steps through sample 391, then the
    mean of each 4 ns stamped at its centre (-393.5, -397.5, ..., -997.5 ns), as
    printed from a real granule. Rows 1 and 3 (index 2 and 4): uniform 1 ns, 0 to
    -543 ns; no source prints these two rows, so their values are our assumption.
    """
    table = np.full((N_TABLE_ROWS, N_LONG_SAMPLES), GLAS_FILL, dtype=np.float64)
    fine = -np.arange(N_LONG_SAMPLES, dtype=np.float64)
    for number in SHORT_ROW_NUMBERS:
        table[number - FIRST_ROW_NUMBER, :N_SHORT_SAMPLES] = fine[:N_SHORT_SAMPLES]
    for number in UNIFORM_ROW_NUMBERS:
        table[number - FIRST_ROW_NUMBER] = fine
    compressed = table[COMPRESSED_ROW_NUMBER - FIRST_ROW_NUMBER]
    compressed[:N_FINE_SAMPLES] = fine[:N_FINE_SAMPLES]
    first_centre = -(N_FINE_SAMPLES + (COMPRESSED_STEP_NS - 1) / 2)
    compressed[N_FINE_SAMPLES:] = first_centre - COMPRESSED_STEP_NS * np.arange(
        N_LONG_SAMPLES - N_FINE_SAMPLES)
    return table


def _to_fill(values: Any) -> np.ndarray:
    """float64 copy with NaN written as GLAS_FILL."""
    values = np.array(values, dtype=np.float64)
    values[np.isnan(values)] = GLAS_FILL
    return values


def _write_datasets(path: Path, data: Mapping[str, Any], names: Mapping[str, str],
                    attrs: Mapping[str, Any] | None,
                    ancillary: Mapping[str, np.ndarray] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, name in names.items():
            array = np.asarray(data[key]).astype(_WRITE_DTYPES.get(key, _DTYPES[key]))
            if array.size:
                f.create_dataset(name, data=array, compression="gzip", chunks=True)
            else:
                f.create_dataset(name, data=array)
        if ancillary:
            group = f.create_group(TABLE_GROUP)
            for attribute, values in ancillary.items():
                group.attrs[attribute] = np.asarray(values, dtype=np.float64)
        for attr, value in (attrs or {}).items():
            f.attrs[attr] = value
    return path


def write_glah01(path: str | Path, *, rec_ndx: Any, shot_count: Any, utc_time: Any,
                 rec_waveform: Any, location_index: Any, sample_location_table: Any,
                 transmit: Any, waveform_type: Any, bg_mean: Any, bg_sdev: Any, gain: Any,
                 volt_table: Any = "product",
                 attrs: Mapping[str, Any] | None = None) -> Path:
    """Write a GLAH01-layout HDF5 file in the product's conventions (module doc).

    Arrays are written as given (no checks, so that tests can write malformed
    files), in the product's dtypes: ``r_rng_wf``, ``r_tx_wf`` float32; ``i_*`` int32
    except ``i_waveformType`` and ``i_rec_wf_location_index`` int8; ``d_*`` float64
    with NaN written as fill. Datasets are gzip-compressed and chunked; the tables go
    on the ``ANCILLARY_DATA`` group, ``attrs`` on the root group.

    Parameters
    ----------
    path : file to write (overwritten)
    rec_ndx, shot_count : (n,) record index and shot within the record
    utc_time : (n,) seconds since 2000-01-01 12:00 UTC
    rec_waveform : (n, 544) received waveform, volts, in the telemetered order
        (latest sample first)
    location_index : (n,) 1-based row of the sample-location table, or 127 for none
    sample_location_table : (5, 544) ns; see :func:`product_sample_table`
    transmit : (n, 48) transmitted pulse, volts
    waveform_type : (n,) 0 missing, 1 long, 2 short
    bg_mean, bg_sdev : (n,) background mean and standard deviation, volts
    gain : (n,) 1064 nm gain setting
    volt_table : (256,) ``volt_table_1``; ``"product"`` writes :func:`product_volt_table`,
        ``None`` writes none
    attrs : root attributes (e.g. ``{"short_name": "GLAH01"}``)

    Returns
    -------
    the path written
    """
    data = {"rec_ndx": rec_ndx, "shot_count": shot_count, "utc_time": _to_fill(utc_time),
            "rec_waveform": rec_waveform, "location_index": location_index,
            "transmit": transmit, "waveform_type": waveform_type,
            "bg_mean": _to_fill(bg_mean), "bg_sdev": _to_fill(bg_sdev), "gain": gain}
    ancillary = {TABLE_ATTRIBUTE: np.asarray(sample_location_table)}
    if isinstance(volt_table, str) and volt_table == "product":
        ancillary[VOLT_TABLE_ATTRIBUTE] = product_volt_table()
    elif volt_table is not None:
        ancillary[VOLT_TABLE_ATTRIBUTE] = np.asarray(volt_table)
    return _write_datasets(Path(path), data, GLAH01_DATASETS, attrs, ancillary)


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
