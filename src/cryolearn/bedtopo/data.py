"""Region inputs for bed topography: surface fields, BedMachine and radar on one grid.

:func:`prepare_inputs` reads BedMachine (the grid every other input is put
on), the five surface fields DeepTopoNet uses, and the radar traces; radar
traces outside the grid or without a thickness pick are counted and dropped.
The result is held in one Zarr store (``results/bedtopo/inputs.zarr``), read
back by :func:`read_inputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from cryolearn.io.grids import (
    MASK_FLOATING,
    MASK_GROUNDED,
    GridSpec,
    align_field,
    read_bedmachine,
    read_field,
)
from cryolearn.io.radar import RadarPoints, read_radar_files
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array

log = logging.getLogger(__name__)

#: DeepTopoNet's five input fields in its order (surf_SMB, surf_dhdt, surf_elv, surf_vx, surf_vy)
INPUT_FIELDS = ("smb", "dhdt", "elevation", "vx", "vy")
ORIGINAL_NAMES = {"smb": "surf_SMB", "dhdt": "surf_dhdt", "elevation": "surf_elv",
                  "vx": "surf_vx", "vy": "surf_vy"}


@dataclass
class RegionInputs:
    """Everything the bed-topography steps read, on the BedMachine grid.

    Attributes
    ----------
    grid : the grid (north up, EPSG:3413)
    fields : (5, ny, nx) surface fields in :data:`INPUT_FIELDS` order
    bedmachine : ``bed``, ``errbed``, ``surface`` (float32) and ``mask`` (int16)
    radar : traces inside the grid with a thickness pick
    lines : flight-line names; ``radar_line`` indexes them
    radar_line : (n,) line index of each trace
    counts : traces read, dropped outside the grid, dropped without a pick
    """

    grid: GridSpec
    fields: np.ndarray
    bedmachine: dict[str, np.ndarray]
    radar: RadarPoints
    lines: list[str]
    radar_line: np.ndarray
    counts: dict[str, int]

    @property
    def ice(self) -> np.ndarray:
        """Cells with ice (grounded or floating), where a bed under ice is predicted."""
        mask = self.bedmachine["mask"]
        return (mask == MASK_GROUNDED) | (mask == MASK_FLOATING)

    def radar_bed(self) -> np.ndarray:
        """Bed elevation of each trace: grid surface elevation minus radar thickness."""
        row, col, _ = self.grid.cell_of(self.radar.x, self.radar.y)
        return self.bedmachine["surface"][row, col] - self.radar.thickness


def _drop_outside(points: RadarPoints, grid: GridSpec) -> tuple[RadarPoints, int]:
    _, _, inside = grid.cell_of(points.x, points.y)
    return points.subset(inside), int((~inside).sum())


def _drop_unpicked(points: RadarPoints) -> tuple[RadarPoints, int]:
    picked = np.isfinite(points.thickness)
    return points.subset(picked), int((~picked).sum())


def load_radar(paths: Sequence[str | Path], grid: GridSpec
               ) -> tuple[RadarPoints, dict[str, int]]:
    """Radar traces on ``grid``; those outside it or without a pick are counted and dropped."""
    points = read_radar_files(paths)
    total = len(points)
    points, outside = _drop_outside(points, grid)
    points, unpicked = _drop_unpicked(points)
    if outside:
        log.warning("%d of %d radar traces fall outside the grid and were dropped", outside,
                    total)
    if unpicked:
        log.info("%d radar traces without a bed pick were dropped", unpicked)
    if not len(points):
        raise ValueError(f"no radar trace with a thickness falls inside the grid "
                         f"{grid.bounds} (read {total} from {len(paths)} files)")
    return points, {"traces_read": total, "dropped_outside_grid": outside,
                    "dropped_without_pick": unpicked, "traces_used": len(points)}


def load_fields(specs: Mapping[str, Mapping], grid: GridSpec,
                bedmachine: Mapping[str, np.ndarray]) -> np.ndarray:
    """The five input fields on ``grid``; ``elevation`` defaults to BedMachine's surface.

    Parameters
    ----------
    specs : per field name, ``path`` and optionally ``variable``, ``band``, ``crs``
    """
    missing = [name for name in INPUT_FIELDS if name != "elevation" and name not in specs]
    if missing:
        raise ValueError(f"bedtopo.fields: no file given for {missing}")
    out = []
    for name in INPUT_FIELDS:
        spec = specs.get(name)
        if name == "elevation" and not spec:
            out.append(bedmachine["surface"])
            continue
        source, values = read_field(spec["path"], variable=spec.get("variable"),
                                    band=spec.get("band", 1), crs=spec.get("crs"))
        out.append(align_field(values, source, grid, name=name, path=spec["path"]))
    return np.stack(out).astype(np.float32)


def prepare_inputs(bedmachine_path: str | Path, field_specs: Mapping[str, Mapping],
                   radar_paths: Sequence[str | Path], *,
                   bounds: Sequence[float] | None = None) -> RegionInputs:
    """Read BedMachine (cropped to ``bounds``), the surface fields and the radar onto one grid."""
    grid, bedmachine = read_bedmachine(bedmachine_path, bounds=bounds,
                                       variables=("bed", "errbed", "surface", "mask"))
    fields = load_fields(field_specs, grid, bedmachine)
    radar, counts = load_radar(radar_paths, grid)
    lines, radar_line = np.unique(radar.line.astype(str), return_inverse=True)
    return RegionInputs(grid, fields, bedmachine, radar, [str(n) for n in lines],
                        radar_line.astype(np.int32), counts)


def write_inputs(inputs: RegionInputs, path: str | Path) -> None:
    """Write the prepared inputs as one Zarr store (format 3), atomically."""
    ny, _nx = inputs.grid.shape
    with atomic_store(path) as tmp:
        group = create_group(tmp, {"crs": inputs.grid.crs, "lines": inputs.lines,
                                   "counts": inputs.counts, "fields": list(INPUT_FIELDS)})
        write_array(group, "x", inputs.grid.x, ("x",))
        write_array(group, "y", inputs.grid.y, ("y",))
        write_array(group, "fields", inputs.fields, ("field", "y", "x"), chunk_rows=1)
        for name, values in inputs.bedmachine.items():
            write_array(group, f"bedmachine_{name}", values, ("y", "x"), chunk_rows=max(1, ny))
        radar = inputs.radar
        for name in ("x", "y", "thickness", "surface"):
            write_array(group, f"radar_{name}", getattr(radar, name), ("trace",))
        write_array(group, "radar_quality", radar.quality, ("trace",))
        write_array(group, "radar_line", inputs.radar_line, ("trace",))


def read_inputs(path: str | Path) -> RegionInputs:
    """Read a store written by :func:`write_inputs`."""
    group = open_group(path)
    grid = GridSpec(group["x"][:], group["y"][:], group.attrs["crs"])
    lines = list(group.attrs["lines"])
    line_index = group["radar_line"][:]
    radar = RadarPoints(group["radar_x"][:], group["radar_y"][:], group["radar_thickness"][:],
                        group["radar_surface"][:],
                        np.asarray(lines, dtype=object)[line_index], group["radar_quality"][:])
    bedmachine = {name: group[f"bedmachine_{name}"][:]
                  for name in ("bed", "errbed", "surface", "mask")}
    return RegionInputs(grid, group["fields"][:], bedmachine, radar, lines, line_index,
                        dict(group.attrs["counts"]))


@dataclass(frozen=True)
class RadarGrid:
    """Radar traces averaged per cell of a grid.

    Attributes
    ----------
    bed : (ny, nx) mean radar bed of the cell, NaN where no trace
    line : (ny, nx) line index of the cell's first trace, -1 where none
    """

    bed: np.ndarray
    line: np.ndarray

    @property
    def has_radar(self) -> np.ndarray:
        return np.isfinite(self.bed)


def grid_radar(grid: GridSpec, x: np.ndarray, y: np.ndarray, bed: np.ndarray,
               line: np.ndarray) -> RadarGrid:
    """Average radar bed per cell of ``grid`` (traces outside it are ignored)."""
    row, col, inside = grid.cell_of(x, y)
    flat = (row * grid.shape[1] + col)[inside]
    size = grid.shape[0] * grid.shape[1]
    total = np.bincount(flat, weights=bed[inside], minlength=size)
    count = np.bincount(flat, minlength=size)
    mean = np.full(size, np.nan, dtype=np.float32)
    mean[count > 0] = (total[count > 0] / count[count > 0]).astype(np.float32)
    line_of = np.full(size, -1, dtype=np.int32)
    line_of[flat[::-1]] = line[inside][::-1]
    return RadarGrid(mean.reshape(grid.shape), line_of.reshape(grid.shape))


@dataclass(frozen=True)
class Holdout:
    """Whole flight lines held out of training, with a buffer excluded around them.

    Attributes
    ----------
    lines : indices (into ``RegionInputs.lines``) of the held-out lines
    names : their names
    buffer_m : cells within this distance of a held-out trace are excluded from
        every training target (radar and BedMachine), so that nothing near the
        held-out lines is learned from
    """

    lines: tuple[int, ...]
    names: tuple[str, ...]
    buffer_m: float

    def held_out_traces(self, inputs: RegionInputs) -> np.ndarray:
        return np.isin(inputs.radar_line, self.lines)

    def excluded_cells(self, grid: GridSpec, inputs: RegionInputs) -> np.ndarray:
        """Cells within ``buffer_m`` of any held-out trace."""
        held = self.held_out_traces(inputs)
        hit = np.zeros(grid.shape, dtype=bool)
        row, col, inside = grid.cell_of(inputs.radar.x[held], inputs.radar.y[held])
        hit[row[inside], col[inside]] = True
        if not hit.any():
            return hit
        return ndimage.distance_transform_edt(~hit) * grid.cell_m <= self.buffer_m


def choose_holdout(inputs: RegionInputs, *, share: float, buffer_m: float, seed: int,
                   lines: Sequence[str] | None = None) -> Holdout:
    """Held-out lines: those named, or a seeded random ``share`` of all lines (at least one).

    Raises
    ------
    ValueError
        when a named line is not in the radar data, or no line would be left to train on
    """
    if lines:
        unknown = sorted(set(lines) - set(inputs.lines))
        if unknown:
            raise ValueError(f"bedtopo.holdout.lines: {unknown} not among the radar lines "
                             f"({inputs.lines})")
        chosen = sorted(inputs.lines.index(name) for name in lines)
    else:
        n = len(inputs.lines)
        k = min(n - 1, max(1, round(share * n)))
        chosen = sorted(np.random.default_rng(seed).choice(n, k, replace=False).tolist())
    if len(chosen) >= len(inputs.lines):
        raise ValueError("bedtopo.holdout: every radar line is held out; none left to train on")
    return Holdout(tuple(int(i) for i in chosen), tuple(inputs.lines[i] for i in chosen),
                   float(buffer_m))


