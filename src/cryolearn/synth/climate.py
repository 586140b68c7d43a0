"""A synthetic ERA5-like year of the subtropical North Atlantic, driven by hidden regimes.

DSC's region (33–43 °N, 23–33 °W, the Azores; Faruque et al. 2023) with its
seven single-level variables, written as ERA5 delivers them (NetCDF, short
names, SI units, latitude decreasing, sub-daily steps). The weather of each day
is set by a hidden regime, and the truth is kept apart:

* the regimes follow a persistent Markov chain (a regime lasts
  1 / (1 − persistence) days on average);
* each regime is a surface-pressure anomaly of one or two smooth highs or
  lows; its winds are geostrophic (turned and slowed by friction), its air
  temperature anomaly follows the meridional wind (warm advection in southerly
  flow) plus a pattern of its own, and its sea-surface temperature anomaly is
  a damped copy of the air's;
* the day's fields relax towards the active regime with a time scale of about
  a day (transitions are not instantaneous) on top of a seasonal cycle, a
  meridional gradient and spatially smooth AR(1) noise;
* the turbulent heat fluxes follow from the day's fields by bulk formulae
  (ERA5's sign: positive downward, accumulated over each hour in J m⁻²), so
  they are coherent with wind, sea and air temperatures;
* a few island cells have no sea-surface temperature (NaN, as ERA5 over land).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from cryolearn.io.files import write_netcdf_atomic, write_text_atomic
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

VARIABLES = ("sst", "t2m", "sp", "sshf", "slhf", "u10", "v10")
UNITS = {"sst": "K", "t2m": "K", "sp": "Pa", "sshf": "J m**-2", "slhf": "J m**-2",
         "u10": "m s**-1", "v10": "m s**-1"}
LONG_NAMES = {"sst": "Sea surface temperature", "t2m": "2 metre temperature",
              "sp": "Surface pressure", "sshf": "Surface sensible heat flux",
              "slhf": "Surface latent heat flux", "u10": "10 metre U wind component",
              "v10": "10 metre V wind component"}
DATA_FILE = "era5_single_levels_synthetic.nc"
TRUTH_FILE = "regimes.csv"
PATTERNS_FILE = "regime_patterns.nc"

RHO_AIR = 1.2  # kg m-3
CP_AIR = 1005.0  # J kg-1 K-1
LATENT_HEAT = 2.5e6  # J kg-1
TRANSFER_COEFFICIENT = 1.2e-3  # bulk C_H ≈ C_E over the open ocean (Large & Yeager 2009)
OMEGA = 7.292e-5  # s-1
METRES_PER_DEGREE = 111_195.0
SECONDS_PER_STEP_ACCUMULATION = 3600.0  # ERA5 fluxes are accumulated over the hour


@dataclass(frozen=True)
class ClimateSpec:
    """Parameters of the synthetic climate (config ``synth.climate``)."""

    seed: int = 2021
    start: str = "2021-01-01"
    days: int = 365
    steps_per_day: int = 4
    lat_range: tuple[float, float] = (33.0, 43.0)
    lon_range: tuple[float, float] = (-33.0, -23.0)
    resolution_deg: float = 0.25
    n_regimes: int = 7
    persistence: float = 0.85
    relaxation_days: float = 1.0
    pressure_anomaly_pa: float = 1000.0
    pattern_scale_deg: float = 3.0
    noise: float = 0.5
    noise_memory: float = 0.7
    islands: int = 3

    @classmethod
    def from_dict(cls, values: dict) -> ClimateSpec:
        """From the config section, refusing unknown keys."""
        return settings_from(cls, values, "synth.climate")


@dataclass
class SyntheticClimate:
    """Daily-resolved truth and the sub-daily fields written to disk."""

    fields: xr.Dataset
    regimes: np.ndarray
    dates: pd.DatetimeIndex
    patterns: xr.Dataset


def _axes(spec: ClimateSpec) -> tuple[np.ndarray, np.ndarray]:
    (south, north), (west, east) = spec.lat_range, spec.lon_range
    step = spec.resolution_deg
    latitude = np.round(np.arange(north, south - step / 2, -step), 6)
    longitude = np.round(np.arange(west, east + step / 2, step), 6)
    return latitude, longitude


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_cells: float
                  ) -> np.ndarray:
    """Unit-variance Gaussian-filtered white noise over the last two axes."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape),
                                    sigma=(0,) * (len(shape) - 2) + (sigma_cells, sigma_cells),
                                    mode="wrap")
    return field / field.std(axis=(-2, -1), keepdims=True)


def transition_matrix(n_regimes: int, persistence: float, rng: np.random.Generator
                      ) -> np.ndarray:
    """A Markov chain that stays with probability ``persistence`` and otherwise moves
    to another regime with random (Dirichlet) preferences."""
    moves = rng.dirichlet(np.ones(n_regimes - 1), size=n_regimes)
    matrix = np.zeros((n_regimes, n_regimes))
    for regime in range(n_regimes):
        others = [r for r in range(n_regimes) if r != regime]
        matrix[regime, others] = (1.0 - persistence) * moves[regime]
        matrix[regime, regime] = persistence
    return matrix


def regime_sequence(days: int, matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Daily regimes from the chain, starting in a random regime; every regime visited."""
    n = len(matrix)
    for _ in range(100):
        sequence = np.empty(days, dtype=np.int64)
        sequence[0] = rng.integers(n)
        for day in range(1, days):
            sequence[day] = rng.choice(n, p=matrix[sequence[day - 1]])
        if len(np.unique(sequence)) == n or days < 10 * n:
            return sequence
    raise RuntimeError("the regime chain never visits every regime; raise synth.climate.days")


def _pressure_pattern(spec: ClimateSpec, lat: np.ndarray, lon: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """One or two Gaussian highs/lows, centred anywhere in or near the region (Pa)."""
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    pattern = np.zeros_like(lat2)
    for _ in range(rng.integers(1, 3)):
        centre_lat = rng.uniform(lat.min() - 2, lat.max() + 2)
        centre_lon = rng.uniform(lon.min() - 2, lon.max() + 2)
        scale = spec.pattern_scale_deg * rng.uniform(0.7, 1.5)
        sign = rng.choice([-1.0, 1.0])
        distance2 = (lat2 - centre_lat) ** 2 + ((lon2 - centre_lon) * np.cos(np.radians(38))) ** 2
        pattern += sign * rng.uniform(0.6, 1.0) * np.exp(-distance2 / (2 * scale**2))
    return spec.pressure_anomaly_pa * pattern / max(np.abs(pattern).max(), 1e-9)


def geostrophic_wind(pressure_pa: np.ndarray, lat: np.ndarray, resolution_deg: float,
                     friction: float = 0.7, turning_deg: float = 20.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """10 m wind of a pressure field: geostrophic, slowed by ``friction`` and turned
    towards low pressure by ``turning_deg`` (the surface Ekman layer)."""
    coriolis = 2 * OMEGA * np.sin(np.radians(lat))[:, None]
    dy = -resolution_deg * METRES_PER_DEGREE  # rows run north to south
    dx = resolution_deg * METRES_PER_DEGREE * np.cos(np.radians(lat))[:, None]
    dp_drow, dp_dcol = np.gradient(pressure_pa, axis=(-2, -1))
    u = -dp_drow / dy / (RHO_AIR * coriolis)
    v = dp_dcol / dx / (RHO_AIR * coriolis)
    angle = np.radians(turning_deg)
    return (friction * (u * np.cos(angle) - v * np.sin(angle)),
            friction * (u * np.sin(angle) + v * np.cos(angle)))


def regime_patterns(spec: ClimateSpec, lat: np.ndarray, lon: np.ndarray,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """(n_regimes, ny, nx) anomalies of sp, u10, v10, t2m and sst for every regime."""
    sp = np.stack([_pressure_pattern(spec, lat, lon, rng) for _ in range(spec.n_regimes)])
    u10, v10 = geostrophic_wind(sp, lat, spec.resolution_deg)
    own = _smooth_noise(rng, sp.shape, sigma_cells=spec.pattern_scale_deg / spec.resolution_deg)
    t2m = 0.3 * v10 + 1.0 * own  # warm advection in southerly flow
    sst = 0.3 * t2m
    return {"sp": sp, "u10": u10, "v10": v10, "t2m": t2m, "sst": sst}


def _relaxed(values: np.ndarray, steps_per_day: int, relaxation_days: float) -> np.ndarray:
    """Exponential relaxation along the first axis towards the forcing ``values``."""
    weight = 1.0 - np.exp(-1.0 / (steps_per_day * relaxation_days))
    out = np.empty_like(values)
    out[0] = values[0]
    for step in range(1, len(values)):
        out[step] = out[step - 1] + weight * (values[step] - out[step - 1])
    return out


def _ar1_noise(rng: np.random.Generator, shape: tuple[int, ...], memory: float,
               sigma_cells: float) -> np.ndarray:
    innovations = _smooth_noise(rng, shape, sigma_cells)
    noise = np.empty(shape)
    noise[0] = innovations[0]
    scale = np.sqrt(1 - memory**2)
    for step in range(1, shape[0]):
        noise[step] = memory * noise[step - 1] + scale * innovations[step]
    return noise


def saturation_humidity(temperature_k: np.ndarray, pressure_pa: np.ndarray) -> np.ndarray:
    """Saturation specific humidity (kg/kg) by Bolton's (1980) vapour pressure."""
    celsius = temperature_k - 273.15
    vapour = 611.2 * np.exp(17.67 * celsius / (celsius + 243.5))
    return 0.622 * vapour / (pressure_pa - 0.378 * vapour)


def bulk_fluxes(sst: np.ndarray, t2m: np.ndarray, sp: np.ndarray, u10: np.ndarray,
                v10: np.ndarray, relative_humidity: float = 0.78
                ) -> tuple[np.ndarray, np.ndarray]:
    """Sensible and latent heat fluxes (W m⁻², positive downward, ERA5's sign)."""
    speed = np.hypot(u10, v10) + 1.0  # gustiness keeps calm-wind fluxes finite
    sea = np.where(np.isnan(sst), t2m, sst)
    sensible = -RHO_AIR * CP_AIR * TRANSFER_COEFFICIENT * speed * (sea - t2m)
    humidity_gap = (saturation_humidity(sea, sp)
                    - relative_humidity * saturation_humidity(t2m, sp))
    latent = -RHO_AIR * LATENT_HEAT * TRANSFER_COEFFICIENT * speed * humidity_gap
    return sensible, latent


def _islands(spec: ClimateSpec, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    land = np.zeros(shape, dtype=bool)
    for _ in range(spec.islands):
        row, col = rng.integers(2, shape[0] - 3), rng.integers(2, shape[1] - 3)
        land[row:row + rng.integers(1, 3), col:col + rng.integers(1, 4)] = True
    return land


def make_climate(spec: ClimateSpec) -> SyntheticClimate:
    """The synthetic climate of ``spec`` (deterministic in ``spec.seed``)."""
    rng = np.random.default_rng(spec.seed)
    lat, lon = _axes(spec)
    shape = (len(lat), len(lon))
    regimes = regime_sequence(spec.days, transition_matrix(spec.n_regimes, spec.persistence, rng),
                              rng)
    patterns = regime_patterns(spec, lat, lon, rng)
    steps = spec.days * spec.steps_per_day
    step_regime = np.repeat(regimes, spec.steps_per_day)
    hours = np.arange(steps) * 24.0 / spec.steps_per_day
    day_of_year = hours / 24.0 + pd.Timestamp(spec.start).day_of_year - 1
    season = np.cos(2 * np.pi * (day_of_year - 230.0) / 365.25)[:, None, None]
    diurnal = np.cos(2 * np.pi * (hours % 24 - 15.0) / 24.0)[:, None, None]
    south = (lat.max() - lat)[None, :, None]
    sigma = spec.pattern_scale_deg / spec.resolution_deg

    fields = {}
    for name, base, seasonal, noise_scale in (
            ("sp", 101_900.0 + 0.0 * south, 400.0, 500.0),
            ("u10", -1.5 + 0.0 * south, 1.0, 2.0),
            ("v10", -1.0 + 0.0 * south, 0.5, 2.0),
            ("t2m", 289.5 + 0.5 * south, 3.0, 1.0),
            ("sst", 290.0 + 0.5 * south, 2.5, 0.3)):
        forcing = _relaxed(patterns[name][step_regime], spec.steps_per_day, spec.relaxation_days)
        noise = _ar1_noise(rng, (steps, *shape), spec.noise_memory ** (1 / spec.steps_per_day),
                           sigma)
        fields[name] = base + seasonal * season + forcing + spec.noise * noise_scale * noise
    fields["t2m"] = fields["t2m"] + 0.3 * diurnal
    sensible, latent = bulk_fluxes(fields["sst"], fields["t2m"], fields["sp"], fields["u10"],
                                   fields["v10"])
    fields["sshf"] = sensible * SECONDS_PER_STEP_ACCUMULATION
    fields["slhf"] = latent * SECONDS_PER_STEP_ACCUMULATION
    fields["sst"] = np.where(_islands(spec, shape, rng)[None], np.nan, fields["sst"])

    time = pd.Timestamp(spec.start) + pd.to_timedelta(hours, unit="h")
    ds = xr.Dataset(
        {name: (("time", "latitude", "longitude"), fields[name].astype(np.float32),
                {"units": UNITS[name], "long_name": LONG_NAMES[name]}) for name in VARIABLES},
        coords={"time": time,
                "latitude": ("latitude", lat.astype(np.float32),
                             {"units": "degrees_north", "long_name": "latitude"}),
                "longitude": ("longitude", lon.astype(np.float32),
                              {"units": "degrees_east", "long_name": "longitude"})},
        attrs={"Conventions": "CF-1.6",
               "source": "cryolearn.synth.climate (synthetic; ERA5 single-levels layout)"})
    truth_patterns = xr.Dataset(
        {name: (("regime", "latitude", "longitude"), patterns[name].astype(np.float32))
         for name in patterns},
        coords={"regime": np.arange(spec.n_regimes), "latitude": lat, "longitude": lon})
    dates = pd.date_range(spec.start, periods=spec.days, freq="D")
    return SyntheticClimate(ds, regimes, dates, truth_patterns)


def write_climate(spec: ClimateSpec, out_dir: str | Path, truth_dir: str | Path) -> Path:
    """Write the fields (ERA5 layout) to ``out_dir`` and the regimes to ``truth_dir``."""
    climate = make_climate(spec)
    out = Path(out_dir) / DATA_FILE
    encoding = {name: {"zlib": True, "complevel": 4, "dtype": "float32"} for name in VARIABLES}
    write_netcdf_atomic(climate.fields, out, encoding)
    truth = Path(truth_dir)
    table = pd.DataFrame({"date": climate.dates.strftime("%Y-%m-%d"), "regime": climate.regimes})
    write_text_atomic(truth / TRUTH_FILE, table.to_csv(index=False))
    write_netcdf_atomic(climate.patterns, truth / PATTERNS_FILE)
    counts = np.bincount(climate.regimes, minlength=spec.n_regimes)
    log.info("wrote %s: %d days × %d steps, regimes visited %s (days each)", out, spec.days,
             spec.steps_per_day, counts.tolist())
    return out


def read_truth_regimes(truth_dir: str | Path) -> pd.Series:
    """The true regime of each day, indexed by date."""
    path = Path(truth_dir) / TRUTH_FILE
    table = pd.read_csv(path, parse_dates=["date"])
    return table.set_index("date")["regime"]
