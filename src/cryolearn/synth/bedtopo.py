"""A synthetic outlet-glacier region for bed topography, written in the real formats.

The region imitates the setting DeepTopoNet was tested on (Upernavik Isstrøm,
west Greenland; Tama et al. 2025): ice flowing west to the coast through deep
glacial troughs cut into rough highlands. Everything a user would download is
written in its real layout, and the truth is kept apart:

* ``BedMachineGreenland-synthetic.nc``: a BedMachine-like product (NetCDF-4,
  EPSG:3413, ``y`` decreasing) whose bed is the true bed, sharp near radar lines
  and smoothed and biased away from them, with an ``errbed`` that grows with
  distance from the nearest line (the structure of BedMachine's own error,
  Morlighem et al. 2017);
* ``radar/<frame>.csv``: CReSIS L2 CSV flight lines in a survey pattern
  (along the trough centrelines, cross-flow transects, two long interior
  lines), measuring ice thickness with noise and occasional missing picks;
  transects run past the grid edge, as real ones do;
* ``fields/``: surface mass balance on a coarser 1 km NetCDF grid (as regional
  climate models deliver it), and dh/dt and the velocity components as GeoTIFFs;
* the truth (``bed``, ``surface``, ``thickness``) as NetCDF in the truth folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.warp import transform as warp_transform
from scipy import ndimage

from cryolearn.io.grids import (
    GRID_CRS,
    MASK_GROUNDED,
    MASK_LAND,
    GridSpec,
    distance_to_radar,
    write_grid_netcdf,
)
from cryolearn.io.radar import write_cresis_csv
from cryolearn.io.raster import write_geotiff
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

SECONDS_PER_YEAR = 365.25 * 86400
RHO_G = 917.0 * 9.81
GLEN_A = 3.5e-25  # Pa^-3 s^-1, ice at -10 °C (Cuffey & Paterson 2010, table 3.4)

BEDMACHINE_FILE = "BedMachineGreenland-synthetic.nc"
FIELD_FILES = {"smb": "fields/smb_1km.nc", "dhdt": "fields/dhdt.tif", "vx": "fields/vx.tif",
               "vy": "fields/vy.tif"}
TRUTH_FILE = "bed_truth.nc"


@dataclass(frozen=True)
class RegionSpec:
    """Parameters of the synthetic region (config ``synth.bedtopo``)."""

    size_px: int = 600
    cell_m: float = 150.0
    x_min: float = -330_000.0
    y_max: float = -1_790_000.0
    seed: int = 20140426
    n_troughs: int = 4
    trough_depth_m: float = 1000.0
    trough_width_m: float = 2500.0
    highland_relief_m: float = 180.0
    interior_surface_m: float = 1700.0
    margin_surface_m: float = 150.0
    ela_m: float = 1300.0
    smb_gradient: float = 0.003
    max_sliding_m_yr: float = 4000.0
    radar_spacing_m: float = 60.0
    cross_line_spacing_m: float = 9000.0
    thickness_noise_m: float = 10.0
    thickness_noise_relative: float = 0.01
    missing_pick_share: float = 0.03
    bedmachine_near_smooth_m: float = 150.0
    bedmachine_far_smooth_m: float = 3000.0
    bedmachine_decay_m: float = 4000.0
    bedmachine_error_near_m: float = 15.0
    bedmachine_error_far_m: float = 150.0
    bedmachine_error_corr_m: float = 3000.0
    date: str = "20140426"
    profile_length_m: float = 90_000.0

    @classmethod
    def from_dict(cls, values: dict) -> RegionSpec:
        return settings_from(cls, values, "synth.bedtopo")

    @property
    def grid(self) -> GridSpec:
        n, c = self.size_px, self.cell_m
        return GridSpec(self.x_min + c * (np.arange(n) + 0.5),
                        self.y_max - c * (np.arange(n) + 0.5))


@dataclass
class Region:
    """The true fields of a region and its observations (before writing)."""

    grid: GridSpec
    bed: np.ndarray
    surface: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    smb: np.ndarray
    dhdt: np.ndarray
    trough: np.ndarray
    lines: list[dict]


def fractal_field(shape: tuple[int, int], cell_m: float, rng: np.random.Generator, *,
                  beta: float = 3.0, longest_m: float = 20_000.0) -> np.ndarray:
    """Unit-variance Gaussian field with power spectrum ∝ k^-beta (flat below 1/longest_m)."""
    ky = np.fft.fftfreq(shape[0], d=cell_m)[:, None]
    kx = np.fft.rfftfreq(shape[1], d=cell_m)[None, :]
    k = np.hypot(kx, ky)
    amplitude = np.maximum(k, 1.0 / longest_m) ** (-beta / 2)
    amplitude[0, 0] = 0.0
    noise = rng.normal(size=(shape[0], shape[1] // 2 + 1)) + 1j * rng.normal(
        size=(shape[0], shape[1] // 2 + 1))
    out = np.fft.irfft2(noise * amplitude, s=shape)
    return (out - out.mean()) / out.std()


def _trough_centrelines(spec: RegionSpec, rng: np.random.Generator) -> list[dict]:
    """Meandering centrelines from the coast (west) inland, evenly spread north to south."""
    n = spec.n_troughs
    rows = (np.arange(n) + 0.5) / n + rng.uniform(-0.25, 0.25, n) / n
    return [{"v0": float(v), "reach": float(rng.uniform(0.55, 0.95)),
             "amplitude": float(rng.uniform(0.02, 0.06)),
             "wavelength": float(rng.uniform(0.4, 0.9)), "phase": float(rng.uniform(0, 2 * np.pi)),
             "width": float(spec.trough_width_m * rng.uniform(0.7, 1.4)),
             "depth": float(spec.trough_depth_m * rng.uniform(0.6, 1.0))} for v in rows]


def _centre_row(trough: dict, u: np.ndarray) -> np.ndarray:
    return trough["v0"] + trough["amplitude"] * np.sin(2 * np.pi * u / trough["wavelength"]
                                                       + trough["phase"])


def _true_bed(spec: RegionSpec, troughs: list[dict], rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Bed elevation and a 0..1 trough indicator (1 on a trough floor)."""
    n, size_m = spec.size_px, spec.size_px * spec.cell_m
    v, u = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
    highlands = (spec.highland_relief_m * fractal_field((n, n), spec.cell_m, rng)
                 + 0.2 * spec.highland_relief_m * fractal_field((n, n), spec.cell_m, rng,
                                                                 beta=2.0, longest_m=3000.0))
    bed = -50.0 + 650.0 * u + highlands
    indicator = np.zeros((n, n))
    for trough in troughs:
        distance_m = np.abs(v - _centre_row(trough, u)) * size_m
        along = np.clip(1.0 - u / trough["reach"], 0.0, 1.0) ** 0.6
        shape = np.exp(-(distance_m / trough["width"]) ** 3) * along
        bed -= trough["depth"] * shape * (1.0 + 0.3 * (1 - u))
        indicator = np.maximum(indicator, shape)
    return bed, indicator


def _surface(spec: RegionSpec, bed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ice-sheet profile rising inland, carrying a damped imprint of the bed.

    The profile is set in metres from the margin (``profile_length_m`` to the
    interior elevation), so a smaller region is the lower part of the same
    glacier, with realistic slopes.
    """
    n = spec.size_px
    u = np.minimum((np.arange(n) + 0.5) * spec.cell_m / spec.profile_length_m, 1.0)
    profile = spec.margin_surface_m + (spec.interior_surface_m - spec.margin_surface_m) * np.sqrt(
        0.02 + 0.98 * u)
    anomaly = bed - ndimage.gaussian_filter(bed, 12_000 / spec.cell_m)
    imprint = 0.2 * ndimage.gaussian_filter(anomaly, 3000 / spec.cell_m)
    surface = profile[None, :] + imprint + 2.0 * fractal_field((n, n), spec.cell_m, rng,
                                                               beta=2.0, longest_m=2000.0)
    return np.maximum(surface, bed)


def _velocity(spec: RegionSpec, bed: np.ndarray, surface: np.ndarray, trough: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Deformation (shallow ice, Glen n = 3) plus sliding concentrated in the troughs."""
    n = spec.size_px
    smooth = ndimage.gaussian_filter(surface, 2000 / spec.cell_m)
    dsdy, dsdx = np.gradient(smooth, -spec.cell_m, spec.cell_m)
    slope = np.hypot(dsdx, dsdy) + 1e-6
    thickness = np.maximum(surface - bed, 0.0)
    deformation = 0.5 * GLEN_A * RHO_G**3 * thickness**4 * slope**3 * SECONDS_PER_YEAR
    u = (np.arange(n) + 0.5) / n
    sliding = spec.max_sliding_m_yr * ndimage.gaussian_filter(trough, 800 / spec.cell_m) * (
        np.exp(-u / 0.3)[None, :])
    speed = deformation + sliding
    return -speed * dsdx / slope, -speed * dsdy / slope


def _smb_and_dhdt(spec: RegionSpec, surface: np.ndarray, speed: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SMB from an elevation gradient around the ELA; dh/dt thinning where ice flows fast."""
    n = spec.size_px
    smb = np.clip(spec.smb_gradient * (surface - spec.ela_m), -4.0, 0.6)
    smb += 0.05 * fractal_field((n, n), spec.cell_m, rng)
    u = (np.arange(n) + 0.5) / n
    dhdt = (-(0.3 + 6.0 * speed / speed.max()) * np.exp(-u / 0.35)[None, :] + 0.05
            + 0.08 * fractal_field((n, n), spec.cell_m, rng, beta=2.0, longest_m=5000.0))
    return smb, dhdt


def _line(name: str, x0: float, y0: float, x1: float, y1: float, spacing: float) -> dict:
    length = float(np.hypot(x1 - x0, y1 - y0))
    t = np.linspace(0.0, 1.0, max(2, int(length / spacing) + 1))
    return {"name": name, "x": x0 + t * (x1 - x0), "y": y0 + t * (y1 - y0)}


def _survey_lines(spec: RegionSpec, troughs: list[dict], rng: np.random.Generator) -> list[dict]:
    """Centreline flights up each trough, cross-flow transects, two long interior lines."""
    grid = spec.grid
    x0, y0, _x1, y1 = grid.bounds
    size_m = spec.size_px * spec.cell_m
    lines, frame = [], 1

    def name() -> str:
        return f"{spec.date}01{frame:03d}"

    for trough in troughs:
        u = np.linspace(0.0, trough["reach"] * 0.95, 400)
        x = x0 + u * size_m
        y = y1 - _centre_row(trough, u) * size_m
        length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        at = np.arange(0.0, length[-1], spec.radar_spacing_m)
        lines.append({"name": name(), "x": np.interp(at, length, x), "y": np.interp(at, length, y)})
        frame += 1
    overshoot = 2000.0
    for xc in np.arange(x0 + spec.cross_line_spacing_m / 2, x0 + 0.6 * size_m,
                        spec.cross_line_spacing_m):
        xc = xc + rng.uniform(-0.1, 0.1) * spec.cross_line_spacing_m
        lines.append(_line(name(), xc, y1 + overshoot, xc + rng.uniform(-1500, 1500),
                           y0 - overshoot, spec.radar_spacing_m))
        frame += 1
    for start, end in (((0.55, 1.02), (1.02, 0.3)), ((0.7, -0.02), (1.02, 0.75))):
        lines.append(_line(name(), x0 + start[0] * size_m, y0 + start[1] * size_m,
                           x0 + end[0] * size_m, y0 + end[1] * size_m, spec.radar_spacing_m))
        frame += 1
    return lines


def _sample(values: np.ndarray, grid: GridSpec, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of a north-up grid at points (nearest edge value outside)."""
    col = (x - grid.x[0]) / grid.cell_m
    row = (grid.y[0] - y) / grid.cell_m
    return ndimage.map_coordinates(values, [row, col], order=1, mode="nearest")


def make_region(spec: RegionSpec) -> Region:
    """The true region: bed, surface, velocity, SMB, dh/dt and the survey lines."""
    rng = np.random.default_rng(spec.seed)
    troughs = _trough_centrelines(spec, rng)
    bed, trough = _true_bed(spec, troughs, rng)
    surface = _surface(spec, bed, rng)
    ice_free = surface - bed < 20.0
    surface[ice_free] = bed[ice_free]
    vx, vy = _velocity(spec, bed, surface, trough)
    vx[ice_free] = 0.0
    vy[ice_free] = 0.0
    smb, dhdt = _smb_and_dhdt(spec, surface, np.hypot(vx, vy), rng)
    lines = _survey_lines(spec, troughs, rng)
    return Region(spec.grid, bed, surface, vx, vy, smb, dhdt, trough, lines)


def bedmachine_like(spec: RegionSpec, region: Region, rng: np.random.Generator
                    ) -> dict[str, np.ndarray]:
    """A BedMachine-like product: sharp near radar, smoothed and biased away from it."""
    distance = distance_to_radar(region.grid, np.concatenate([ln["x"] for ln in region.lines]),
                                 np.concatenate([ln["y"] for ln in region.lines]))
    weight = np.exp(-distance / spec.bedmachine_decay_m)
    near = ndimage.gaussian_filter(region.bed, spec.bedmachine_near_smooth_m / spec.cell_m)
    far = ndimage.gaussian_filter(region.bed, spec.bedmachine_far_smooth_m / spec.cell_m)
    errbed = (spec.bedmachine_error_near_m
              + (spec.bedmachine_error_far_m - spec.bedmachine_error_near_m) * (1 - weight))
    correlated = ndimage.gaussian_filter(rng.normal(size=region.grid.shape),
                                         spec.bedmachine_error_corr_m / spec.cell_m)
    correlated /= correlated.std()
    bed = weight * near + (1 - weight) * far + errbed * correlated
    bed = np.minimum(bed, region.surface)
    thickness = region.surface - bed
    ice = region.surface - region.bed >= 20.0
    mask = np.where(ice, MASK_GROUNDED, MASK_LAND).astype(np.int8)
    bed = np.where(ice, bed, region.surface)
    speed = np.hypot(region.vx, region.vy)
    source = np.where(~ice, 1, np.where(speed > 100.0, 2, 3)).astype(np.int8)
    return {"bed": bed.astype(np.float32), "surface": region.surface.astype(np.float32),
            "thickness": np.where(ice, thickness, 0).astype(np.float32),
            "errbed": np.where(ice, errbed, 0).astype(np.float32), "mask": mask,
            "source": source}


def _radar_traces(spec: RegionSpec, region: Region, line: dict, rng: np.random.Generator
                  ) -> dict[str, np.ndarray]:
    x, y = line["x"], line["y"]
    surface = _sample(region.surface, region.grid, x, y)
    thickness = np.maximum(surface - _sample(region.bed, region.grid, x, y), 0.0)
    noise_sd = spec.thickness_noise_m + spec.thickness_noise_relative * thickness
    measured = np.maximum(thickness + rng.normal(size=len(x)) * noise_sd, 0.0)
    missing = rng.random(len(x)) < spec.missing_pick_share
    measured[missing] = np.nan
    quality = np.where(rng.random(len(x)) < 0.2, 2, 1)
    lon, lat = warp_transform(GRID_CRS, "EPSG:4326", x.tolist(), y.tolist())
    seconds = 50_000.0 + rng.uniform(0, 20_000) + np.arange(len(x)) * spec.radar_spacing_m / 140
    return {"lat": np.asarray(lat), "lon": np.asarray(lon), "seconds_of_day": seconds,
            "thickness": measured, "surface": surface + rng.normal(size=len(x)),
            "aircraft": surface + 500.0 + rng.normal(size=len(x)) * 5, "quality": quality}


def _coarse_grid(spec: RegionSpec, cell_m: float, margin_m: float) -> GridSpec:
    x0, y0, x1, y1 = spec.grid.bounds
    return GridSpec.from_bounds((x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m),
                                cell_m)


def _smb_on_coarse_grid(spec: RegionSpec, region: Region) -> tuple[GridSpec, np.ndarray]:
    """SMB block-averaged onto a 1 km grid reaching 3 km past the region (edge-padded)."""
    coarse = _coarse_grid(spec, 1000.0, 3000.0)
    padded_grid = _coarse_grid(spec, spec.cell_m, 3000.0)
    pad = round(3000.0 / spec.cell_m)
    padded = np.pad(region.smb, pad, mode="edge")
    smoothed = ndimage.uniform_filter(padded, size=round(1000.0 / spec.cell_m))
    xx, yy = np.meshgrid(coarse.x, coarse.y)
    return coarse, _sample(smoothed, padded_grid, xx.ravel(), yy.ravel()).reshape(coarse.shape)


def write_region(spec: RegionSpec, out: str | Path, truth: str | Path) -> dict[str, Path]:
    """Write the region in real formats under ``out`` and its truth under ``truth``.

    Returns
    -------
    the written paths by role: ``bedmachine``, ``radar`` (folder), ``smb``,
    ``dhdt``, ``vx``, ``vy``, ``truth``
    """
    out, truth = Path(out), Path(truth)
    region = make_region(spec)
    rng = np.random.default_rng([spec.seed, 1])
    grid = region.grid
    product = bedmachine_like(spec, region, rng)
    paths = {"bedmachine": out / BEDMACHINE_FILE, "radar": out / "radar",
             **{name: out / rel for name, rel in FIELD_FILES.items()},
             "truth": truth / TRUTH_FILE}
    write_grid_netcdf(paths["bedmachine"], grid, product,
                      attrs={"title": "synthetic BedMachine-like product (cryolearn)",
                             "Conventions": "CF-1.7"},
                      units={"bed": "meters", "surface": "meters", "thickness": "meters",
                             "errbed": "meters"})
    for line in region.lines:
        traces = _radar_traces(spec, region, line, rng)
        write_cresis_csv(paths["radar"] / f"Data_{line['name']}.csv", frame=line["name"], **traces)
    coarse, smb = _smb_on_coarse_grid(spec, region)
    write_grid_netcdf(paths["smb"], coarse, {"smb": smb.astype(np.float32)},
                      units={"smb": "m ice eq. per year"})
    for name in ("dhdt", "vx", "vy"):
        write_geotiff(paths[name], [getattr(region, name).astype(np.float32)],
                      transform=grid.transform, crs=GRID_CRS, nodata=np.nan,
                      names=[name])
    write_grid_netcdf(paths["truth"], grid,
                      {"bed": region.bed.astype(np.float32),
                       "surface": region.surface.astype(np.float32),
                       "thickness": (region.surface - region.bed).astype(np.float32),
                       "trough": region.trough.astype(np.float32)},
                      attrs={"title": "truth of the synthetic bed-topography region"})
    log.info("wrote the region (%d × %d cells, %d radar lines) to %s", *grid.shape,
             len(region.lines), out)
    return paths
