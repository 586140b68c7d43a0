"""Synthetic Operation IceBridge flights: lines of overlapping IODMS3 DEM frames.

A flight flies a straight line over the :class:`~cryolearn.synth.world.SyntheticWorld`
in a given year. Each frame is a north-up float32 GeoTIFF in EPSG:3413 with
nodata -32767, covering the bounding box of a rectangular image footprint that
is rotated to the flight track (so the corners are nodata, as in the real
product), with a pixel size that differs slightly from frame to frame
(0.4486 m, 0.4524 m, ...), and photogrammetric noise. A uint8 truth raster of
surface classes is written beside each frame, in a separate folder.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import date as Date
from pathlib import Path

import numba
import numpy as np
from rasterio.transform import Affine
from tqdm import tqdm

from cryolearn.classes import SURFACE_CLASSES
from cryolearn.constants import DEM_CRS, DEM_NODATA
from cryolearn.io.raster import write_geotiff
from cryolearn.synth.world import SyntheticWorld, WorldParams

log = logging.getLogger(__name__)

TRUTH_NODATA = 255
#: aircraft ground speed used to stamp frame times, m/s
_GROUND_SPEED_M_S = 130.0
_ROWS_PER_BLOCK = 256
#: columns of a strip of a block of rows, in which the world is evaluated (about 60 m)
_STRIP_COLUMNS = 128


@dataclass(frozen=True)
class FlightSpec:
    """Geometry and acquisition of one synthetic flight line.

    Attributes
    ----------
    name : flight name, used as the wildcard value and folder name
    date : acquisition date, ISO ``YYYY-MM-DD``
    start_x_m, start_y_m : start of the line, EPSG:3413 metres
    track_deg : direction of travel, degrees clockwise from grid north
    n_frames : number of DEM frames
    frame_length_m, frame_width_m : image footprint along and across track
    overlap : along-track overlap of consecutive frames, fraction
    pixel_sizes_m : pixel sizes, used in turn frame by frame
    noise_m : standard deviation of photogrammetric noise
    start_time : UTC time of the first frame, ``HH:MM:SS``
    """

    name: str
    date: str
    start_x_m: float
    start_y_m: float
    track_deg: float = 90.0
    n_frames: int = 6
    frame_length_m: float = 420.0
    frame_width_m: float = 300.0
    overlap: float = 0.3
    pixel_sizes_m: tuple[float, ...] = field(default=(0.4486, 0.4524, 0.4501, 0.4539))
    noise_m: float = 0.12
    start_time: str = "14:00:00"

    @classmethod
    def from_dict(cls, values: dict) -> FlightSpec:
        """Build a spec from a config mapping."""
        values = dict(values)
        if "pixel_sizes_m" in values:
            values["pixel_sizes_m"] = tuple(values["pixel_sizes_m"])
        return cls(**values)

    @property
    def decimal_year(self) -> float:
        """Acquisition date as a decimal year."""
        d = Date.fromisoformat(self.date)
        start = Date(d.year, 1, 1)
        days = (Date(d.year + 1, 1, 1) - start).days
        return d.year + (d - start).days / days

    @property
    def direction(self) -> tuple[float, float]:
        """Unit vector of travel (dx, dy) in grid coordinates."""
        a = math.radians(self.track_deg)
        return math.sin(a), math.cos(a)

    def frame_centre(self, index: int) -> tuple[float, float]:
        """Centre of frame ``index`` in EPSG:3413 metres."""
        step = self.frame_length_m * (1.0 - self.overlap)
        s = index * step + 0.5 * self.frame_length_m
        dx, dy = self.direction
        return self.start_x_m + s * dx, self.start_y_m + s * dy

    def frame_name(self, index: int) -> str:
        """IODMS3-style file name of frame ``index``."""
        hh, mm, ss = (int(v) for v in self.start_time.split(":"))
        step_s = self.frame_length_m * (1.0 - self.overlap) / _GROUND_SPEED_M_S
        t = hh * 3600 + mm * 60 + ss + index * step_s
        h, rem = divmod(t, 3600)
        m, s = divmod(rem, 60)
        stamp = f"{int(h):02d}{int(m):02d}{int(s):02d}{int(100 * (s % 1)):02d}"
        return f"IODMS3_{self.date.replace('-', '')}_{stamp}_{index:05d}_DEM.tif"


def flight_configs(synth_config: dict) -> list[dict]:
    """Flight mappings of a ``synth`` config section, each merged over ``flight_defaults``."""
    defaults = synth_config.get("flight_defaults", {}) or {}
    return [{**defaults, **flight} for flight in synth_config.get("flights", [])]


def frame_paths(spec: FlightSpec, flights_dir: str | Path) -> list[Path]:
    """Paths of the DEM frames that :func:`write_flight` writes for ``spec``."""
    folder = Path(flights_dir) / spec.name
    return [folder / spec.frame_name(i) for i in range(spec.n_frames)]


def truth_path_for(frame_path: str | Path, truth_dir: str | Path) -> Path:
    """Truth raster path of a DEM frame: ``{truth_dir}/{flight}/{stem}_class.tif``."""
    frame_path = Path(frame_path)
    return Path(truth_dir) / frame_path.parent.name / f"{frame_path.stem}_class.tif"


def _frame_grid(spec: FlightSpec, index: int) -> tuple[Affine, int, int, np.ndarray]:
    """North-up grid covering the rotated footprint of one frame.

    Returns the transform, width, height and the footprint corners (4, 2).
    """
    pixel = spec.pixel_sizes_m[index % len(spec.pixel_sizes_m)]
    cx, cy = spec.frame_centre(index)
    dx, dy = spec.direction
    half_l, half_w = 0.5 * spec.frame_length_m, 0.5 * spec.frame_width_m
    corners = np.array(
        [
            (cx + sa * half_l * dx + sc * half_w * dy, cy + sa * half_l * dy - sc * half_w * dx)
            for sa, sc in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
    )
    x0 = math.floor(corners[:, 0].min() * 100) / 100
    y1 = math.ceil(corners[:, 1].max() * 100) / 100
    width = math.ceil((corners[:, 0].max() - x0) / pixel)
    height = math.ceil((y1 - corners[:, 1].min()) / pixel)
    return Affine(pixel, 0.0, x0, 0.0, -pixel, y1), width, height, corners


def _inside_footprint(
    x: np.ndarray, y: np.ndarray, spec: FlightSpec, index: int
) -> np.ndarray:
    """Whether points lie in frame ``index``'s rotated footprint: the array form, the
    reference of :func:`_points_inside` (``tests/synth/test_world.py``)."""
    cx, cy = spec.frame_centre(index)
    dx, dy = spec.direction
    along = (x - cx) * dx + (y - cy) * dy
    across = (x - cx) * dy - (y - cy) * dx
    return (np.abs(along) <= 0.5 * spec.frame_length_m) & (
        np.abs(across) <= 0.5 * spec.frame_width_m
    )


@numba.njit(inline="always")
def _inside(i: int, j: int, first_row: int, grid: tuple[float, ...],
            frame: tuple[float, ...]) -> tuple[bool, float, float]:
    """Whether pixel (first_row + i, j) of a north-up grid lies in a frame's rotated
    footprint (as :func:`_inside_footprint` decides), and its centre."""
    a, b, c, d, e, f = grid
    cx, cy, dx, dy, half_length, half_width = frame
    row = (first_row + i) + 0.5
    col = j + 0.5
    x = col * a + row * b + c
    y = col * d + row * e + f
    along = (x - cx) * dx + (y - cy) * dy
    across = (x - cx) * dy - (y - cy) * dx
    return abs(along) <= half_length and abs(across) <= half_width, x, y


@numba.njit(cache=True)
def _points_inside(first_row: int, n_rows: int, width: int, grid: tuple[float, ...],
                   frame: tuple[float, ...], strip: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pixel centres of rows ``first_row`` … of a north-up grid (``grid`` its affine
    a, b, c, d, e, f) that lie in a frame's rotated footprint (``frame``: centre x, y,
    direction dx, dy, half length, half width), strip by strip of ``strip`` columns,
    where neighbouring points are close in both directions: each one's place among the
    points in row-major order, its flat index in the rows, x and y."""
    row_start = np.zeros(n_rows + 1, np.int64)
    for i in range(n_rows):
        count = 0
        for j in range(width):
            count += _inside(i, j, first_row, grid, frame)[0]
        row_start[i + 1] = row_start[i] + count
    n = row_start[n_rows]
    rank = np.empty(n, np.int64)
    flat = np.empty(n, np.int64)
    xs = np.empty(n)
    ys = np.empty(n)
    placed = row_start[:n_rows].copy()
    m = 0
    for j0 in range(0, width, strip):
        for i in range(n_rows):
            for j in range(j0, min(width, j0 + strip)):
                inside, x, y = _inside(i, j, first_row, grid, frame)
                if inside:
                    rank[m] = placed[i]
                    placed[i] += 1
                    flat[m] = i * width + j
                    xs[m] = x
                    ys[m] = y
                    m += 1
    return rank, flat, xs, ys


def render_frame(
    world: SyntheticWorld, spec: FlightSpec, index: int
) -> tuple[np.ndarray, np.ndarray, Affine]:
    """Elevation (float32, nodata -32767) and truth class (uint8) of one frame.

    Photogrammetric noise is seeded by the world seed, the flight name and the
    frame index, so a frame is reproducible on its own.
    """
    transform, width, height, _ = _frame_grid(spec, index)
    elevation = np.full((height, width), DEM_NODATA, dtype=np.float32)
    truth = np.full((height, width), TRUTH_NODATA, dtype=np.uint8)
    name_key = int.from_bytes(spec.name.encode()[:8].ljust(8, b"\0"), "little")
    rng = np.random.default_rng([world.params.seed, name_key, index])
    grid = tuple(float(v) for v in transform[:6])
    frame = (*spec.frame_centre(index), *spec.direction, 0.5 * spec.frame_length_m,
             0.5 * spec.frame_width_m)
    for r0 in range(0, height, _ROWS_PER_BLOCK):
        n_rows = min(height, r0 + _ROWS_PER_BLOCK) - r0
        # the world evaluates points strip by strip, where its smooth fields keep their
        # lattice cells over many points (a point's value does not depend on the
        # others); the noise is drawn in row-major order
        rank, flat, x, y = _points_inside(r0, n_rows, width, grid, frame, _STRIP_COLUMNS)
        if not len(flat):
            continue
        z, cls = world.evaluate(x, y, spec.decimal_year)
        noise = rng.normal(0.0, spec.noise_m, z.shape)
        elevation[r0:r0 + n_rows].reshape(-1)[flat] = (z + noise[rank]).astype(np.float32)
        truth[r0:r0 + n_rows].reshape(-1)[flat] = cls
    return elevation, truth, transform


def _provenance(world: SyntheticWorld, spec: FlightSpec, index: int) -> dict[str, str]:
    return {
        "PRODUCT": "IODMS3 (synthetic, cryolearn)",
        "CRYOLEARN_WORLD": json.dumps(asdict(world.params), sort_keys=True),
        "CRYOLEARN_FLIGHT": json.dumps(asdict(spec), sort_keys=True),
        "CRYOLEARN_FRAME_INDEX": str(index),
        "CRYOLEARN_SEED": str(world.params.seed),
    }


def frame_index(frame_path: str | Path) -> int:
    """Frame index encoded in an IODMS3-style file name (``..._00003_DEM.tif`` -> 3)."""
    stem = Path(frame_path).name
    try:
        return int(stem.split("_")[-2])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{frame_path}: not an IODMS3-style frame name") from exc


def write_frame(
    world: SyntheticWorld, spec: FlightSpec, index: int, dem_path: str | Path,
    truth_path: str | Path,
) -> None:
    """Render one frame and write it and its truth raster (each atomically)."""
    elevation, truth, transform = render_frame(world, spec, index)
    tags = _provenance(world, spec, index)
    # Zstandard at its fastest level, with the floating-point predictor: a frame
    # written in a quarter of LZW's time and 40 % smaller (bench/README.md)
    write_geotiff(dem_path, [elevation], transform=transform, crs=DEM_CRS,
                  nodata=DEM_NODATA, tags=tags, compress="zstd",
                  options={"zstd_level": 1, "predictor": 3})
    classes = {"CLASS_NAMES": json.dumps(list(SURFACE_CLASSES))}
    write_geotiff(truth_path, [truth], transform=transform, crs=DEM_CRS,
                  nodata=TRUTH_NODATA, tags={**tags, **classes}, compress="zstd")
    log.info("wrote %s (%d x %d px)", dem_path, elevation.shape[1], elevation.shape[0])


def _as_objects(
    world_params: WorldParams | dict, spec: FlightSpec | dict
) -> tuple[SyntheticWorld, FlightSpec]:
    if isinstance(world_params, dict):
        world_params = WorldParams.from_dict(world_params)
    if isinstance(spec, dict):
        spec = FlightSpec.from_dict(spec)
    return SyntheticWorld(world_params), spec


def write_frames(
    world_params: WorldParams | dict,
    spec: FlightSpec | dict,
    dem_paths: list[str | Path],
    truth_paths: list[str | Path],
    progress: bool = True,
) -> None:
    """Write the named frames of one flight (index taken from each file name)."""
    world, spec = _as_objects(world_params, spec)
    pairs = list(zip(dem_paths, truth_paths, strict=True))
    for dem_path, truth_path in tqdm(pairs, desc=f"flight {spec.name}", unit="frame",
                                     disable=not progress):
        write_frame(world, spec, frame_index(dem_path), dem_path, truth_path)


def write_flight(
    world_params: WorldParams | dict,
    spec: FlightSpec | dict,
    flights_dir: str | Path,
    truth_dir: str | Path,
    progress: bool = True,
) -> list[Path]:
    """Write all DEM frames of one flight and their truth rasters.

    Parameters
    ----------
    world_params : world parameters (or their config mapping)
    spec : the flight (or its config mapping)
    flights_dir : frames go to ``{flights_dir}/{flight}/IODMS3_*_DEM.tif``
    truth_dir : truth goes to ``{truth_dir}/{flight}/IODMS3_*_DEM_class.tif``
    progress : show a progress bar

    Returns
    -------
    list of the frame paths written
    """
    world, spec = _as_objects(world_params, spec)
    paths = frame_paths(spec, flights_dir)
    write_frames(world.params, spec, paths, [truth_path_for(p, truth_dir) for p in paths],
                 progress)
    return paths
