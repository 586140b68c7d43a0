"""Airborne radar ice thickness: CReSIS L2 CSV and the GreenlandRSR text layout.

Two layouts are read:

* **CReSIS CSV** (``LAT, LON, UTCTIMESOD, THICK, ELEVATION, FRAME, SURFACE,
  BOTTOM, QUALITY``): the records of CReSIS's ``csv`` products, one line per
  trace; ``THICK`` ice thickness (m), ``SURFACE`` and ``BOTTOM`` the surface and
  bed elevations (m, WGS-84), ``ELEVATION`` the aircraft's, ``FRAME`` the frame
  id ``YYYYMMDDSSFFF``, ``QUALITY`` of the bed pick (1 good, 2 moderate,
  3 derived); -9999 marks a missing value.
* **GreenlandRSR text** (Culberg et al.; columns ``lon``, ``lat``, ``h0`` range
  from aircraft to surface, ``h1`` ice thickness, and radar statistics): no
  elevations, the frame is the file name.

Both are projected to EPSG:3413 and become :class:`RadarPoints`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cryolearn.io.grids import project_lonlat

CRESIS_COLUMNS = ("LAT", "LON", "UTCTIMESOD", "THICK", "ELEVATION", "FRAME", "SURFACE",
                  "BOTTOM", "QUALITY")
RSR_COLUMNS = ("lon", "lat", "h0", "h1")
MISSING = -9999.0


class RadarError(ValueError):
    """A radar file that cannot be read; the message names the file and the problem."""


@dataclass
class RadarPoints:
    """Radar traces of one or more files, projected to EPSG:3413.

    Attributes
    ----------
    x, y : position (m, EPSG:3413)
    thickness : ice thickness (m), NaN where the bed was not picked
    surface : surface elevation (m), NaN where the layout has none
    line : flight-line (frame) name of each trace
    quality : bed-pick quality (1 good, 2 moderate, 3 derived; 0 unknown)
    """

    x: np.ndarray
    y: np.ndarray
    thickness: np.ndarray
    surface: np.ndarray
    line: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, keep: np.ndarray) -> RadarPoints:
        return RadarPoints(self.x[keep], self.y[keep], self.thickness[keep], self.surface[keep],
                           self.line[keep], self.quality[keep])

    @classmethod
    def concatenate(cls, parts: Sequence[RadarPoints]) -> RadarPoints:
        fields = ("x", "y", "thickness", "surface", "line", "quality")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def _header(path: Path) -> list[str]:
    if not path.exists():
        raise RadarError(f"{path}: no such file")
    with open(path, newline="") as fh:
        first = fh.readline()
    return [name.strip() for name in first.split(",")]


def _columns(path: Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    header = _header(path)
    missing = [n for n in names if n not in header]
    if missing:
        raise RadarError(f"{path}: column(s) {missing} missing (header: {header})")
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2,
                           usecols=[header.index(n) for n in names], dtype=np.float64)
    except ValueError as exc:
        raise RadarError(f"{path}: unreadable number ({exc})") from exc
    return {n: table[:, i] for i, n in enumerate(names)}


def _missing_to_nan(values: np.ndarray) -> np.ndarray:
    out = values.astype(np.float64).copy()
    out[(out <= MISSING + 0.5) | ~np.isfinite(out)] = np.nan
    return out


def _check_coordinates(path: Path, lon: np.ndarray, lat: np.ndarray) -> None:
    bad = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 360))
    if bad.any():
        raise RadarError(f"{path}: {int(bad.sum())} traces with impossible coordinates "
                         f"(first at data line {int(np.argmax(bad)) + 1})")


def _check_thickness(path: Path, thickness: np.ndarray) -> None:
    negative = thickness < 0
    if negative.any():
        raise RadarError(f"{path}: {int(negative.sum())} traces with negative ice thickness "
                         f"(first at data line {int(np.argmax(negative)) + 1}: "
                         f"{thickness[negative][0]:.1f} m)")


def read_cresis_csv(path: str | Path) -> RadarPoints:
    """Read a CReSIS L2 CSV file; missing thickness (-9999) becomes NaN.

    Raises
    ------
    RadarError
        naming the file: missing columns, unreadable numbers, impossible
        coordinates, negative thickness
    """
    path = Path(path)
    cols = _columns(path, CRESIS_COLUMNS)
    lon = (cols["LON"] + 180.0) % 360.0 - 180.0
    _check_coordinates(path, cols["LON"], cols["LAT"])
    thickness = _missing_to_nan(cols["THICK"])
    _check_thickness(path, thickness)
    x, y = project_lonlat(lon, cols["LAT"])
    frames = np.array([str(int(f)) for f in cols["FRAME"]], dtype=object)
    return RadarPoints(x, y, thickness, _missing_to_nan(cols["SURFACE"]), frames,
                       cols["QUALITY"].astype(np.int8))


def read_rsr_text(path: str | Path) -> RadarPoints:
    """Read a GreenlandRSR ``*_rsr.txt`` file (``lon``, ``lat``, ``h1`` ice thickness).

    The layout carries no elevations (``surface`` is NaN) and no quality flag
    (0); the flight line is the file name without ``_rsr``.
    """
    path = Path(path)
    cols = _columns(path, RSR_COLUMNS)
    _check_coordinates(path, cols["lon"], cols["lat"])
    thickness = _missing_to_nan(cols["h1"])
    _check_thickness(path, thickness)
    x, y = project_lonlat((cols["lon"] + 180.0) % 360.0 - 180.0, cols["lat"])
    line = path.stem.removesuffix("_rsr")
    n = len(x)
    return RadarPoints(x, y, thickness, np.full(n, np.nan), np.full(n, line, dtype=object),
                       np.zeros(n, dtype=np.int8))


def read_radar(path: str | Path) -> RadarPoints:
    """Read a radar file in either layout, chosen by its header."""
    path = Path(path)
    header = set(_header(path))
    if set(CRESIS_COLUMNS) <= header:
        return read_cresis_csv(path)
    if set(RSR_COLUMNS) <= header:
        return read_rsr_text(path)
    raise RadarError(f"{path}: neither a CReSIS CSV (columns {list(CRESIS_COLUMNS)}) nor a "
                     f"GreenlandRSR file (columns {list(RSR_COLUMNS)}); header: {sorted(header)}")


def read_radar_files(paths: Sequence[str | Path]) -> RadarPoints:
    """All traces of several radar files."""
    if not paths:
        raise RadarError("no radar files given")
    return RadarPoints.concatenate([read_radar(p) for p in paths])


def write_cresis_csv(path: str | Path, *, lat: np.ndarray, lon: np.ndarray,
                     seconds_of_day: np.ndarray, thickness: np.ndarray, aircraft: np.ndarray,
                     frame: str, surface: np.ndarray, quality: np.ndarray) -> None:
    """Write one frame as a CReSIS L2 CSV (NaN thickness → -9999), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    thick = np.where(np.isfinite(thickness), thickness, MISSING)
    bottom = np.where(np.isfinite(thickness), surface - thickness, MISSING)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CRESIS_COLUMNS)
            for i in range(len(lat)):
                writer.writerow([f"{lat[i]:.7f}", f"{lon[i]:.7f}", f"{seconds_of_day[i]:.4f}",
                                 f"{thick[i]:.2f}", f"{aircraft[i]:.4f}", frame,
                                 f"{surface[i]:.4f}", f"{bottom[i]:.4f}", int(quality[i])])
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
