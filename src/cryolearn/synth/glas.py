"""Synthetic ICESat/GLAS campaigns over the synthetic world, written as GLAH01/GLAH06.

Every shot is the forward model of the true surface under its footprint in the
campaign's year, degraded the way the instrument degrades real returns:

* the laser's own pulse width and energy (three lasers, energy falling with age);
* atmosphere: clear shots lose little, cloudy records lose most of their energy
  and gain a forward-scattering tail (multiple scattering lengthens paths); the
  product's cloud flag (``elev_use_flg``) is a test of the apparent reflectance,
  which misses thin clouds and flags some clear shots (:func:`cloud_flags`);
* an automatic gain control that sets the gain of each one-second record from
  the returns of the previous one, so a cloud edge leaves weak or saturated
  shots, and noise grows with gain;
* a range gate placed by an onboard tracker, so the surface sits at a different
  sample in every shot;
* an 8-bit digitizer: background level, noise, quantisation, saturation at 255;
* the product's telemetry (see :mod:`cryolearn.io.glas`): samples written latest
  first, as volts of ``volt_table_1``, each shot on a row of the sample-location
  table: the uniform 1 ns row, or, for shots whose return lies in the last 392 ns,
  the compressed row, whose earlier samples are 4 ns means.

The instrument works in volts and digitizes to the nearest level of the product's
``volt_table_1``: a background of about 30 counts, as in the real Jakobshavn shots,
and the noise (0.0075-0.0113 V at the reference gain) and flat-surface peak (1.05 V)
of the earlier calibration, which assumed a linear 1.2 V full scale: 1.1-1.7 counts
of noise, against 0.93 counts before the real returns (the instrument is not yet
calibrated against the real shots in time order).

Truth per shot (footprint-weighted surface-class shares) goes to a separate
Zarr store.

The forward model is passed in as a callable so that ``synth`` stays below the
pipeline (``cryolearn.crevasse``) in the package's layering.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rasterio.warp import transform as transform_points
from tqdm import tqdm

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES, SURFACE_CLASSES
from cryolearn.constants import (
    DEM_CRS,
    DIGITIZER_COUNTS,
    GLAS_NULL_LOCATION_INDEX,
    N_LONG_SAMPLES,
    N_SHORT_SAMPLES,
    N_TRANSMIT_SAMPLES,
    SHOT_RATE_HZ,
    SHOT_SPACING_M,
    TILE_PIXEL_M,
    TILE_SIZE_PX,
)
from cryolearn.footprint import footprint_weights
from cryolearn.io.glas import (
    COMPRESSED_ROW_NUMBER,
    COMPRESSED_STEP_NS,
    N_FINE_SAMPLES,
    SHORT_ROW_NUMBERS,
    UNIFORM_ROW_NUMBER,
    counts_to_volts,
    product_sample_table,
    product_volt_table,
    shot_key,
    write_glah01,
    write_glah06,
)
from cryolearn.io.zarrstore import atomic_store, create_group, write_array
from cryolearn.signal import exponential_tail, fractional_shift
from cryolearn.synth.truth import (
    OPEN_CREVASSE_DEPTH_M,
    footprint_class_fractions,
    footprint_open_crevasse_share,
    footprint_relief,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams

log = logging.getLogger(__name__)

#: ``forward(tiles, pulse_fwhm_ns) -> (n, 544) waveforms``, energy per 1 ns bin
ForwardModel = Callable[[np.ndarray, float], np.ndarray]

_J2000 = datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class GroundTrack:
    """A repeat ground track: a straight segment over the world (EPSG:3413 metres)."""

    name: str
    centre_x_m: float
    centre_y_m: float
    azimuth_deg: float
    length_m: float

    @classmethod
    def from_dict(cls, values: dict) -> GroundTrack:
        """Build a track from a config mapping."""
        return cls(**values)


@dataclass(frozen=True)
class Laser:
    """One of the three GLAS lasers: pulse width, energy when new, and its decline."""

    pulse_fwhm_ns: float
    energy_mj: float
    first_year: float
    energy_decline_per_year: float

    def energy_in(self, year: float) -> float:
        """Output energy (mJ) in a given decimal year."""
        age = max(0.0, year - self.first_year)
        return self.energy_mj * float(np.exp(-self.energy_decline_per_year * age))


@dataclass(frozen=True)
class Instrument:
    """How the synthetic instrument degrades returns: levels in 8-bit digitizer counts
    (``*_counts``) or volts (``*_v``)."""

    baseline_counts: float = 30.0
    baseline_jitter_counts: float = 1.0
    noise_v: tuple[float, float] = (0.0075, 0.0113)
    noise_gain_exponent: float = 0.5
    flat_peak_v: float = 1.05
    reference_energy_mj: float = 50.0
    reference_gain: int = 13
    reflectance: tuple[float, float] = (0.8, 1.0)
    cloud_share: float = 0.15
    cloud_transmission: tuple[float, float] = (0.1, 0.7)
    scatter_tau_ns: tuple[float, float] = (4.0, 30.0)
    scatter_share: tuple[float, float] = (0.2, 0.6)
    gate_offset_ns: tuple[float, float] = (110.0, 30.0)
    gate_walk_ns: float = 6.0
    gate_limits_ns: tuple[float, float] = (40.0, 320.0)
    transmit_peak_counts: float = 160.0
    short_share: float = 0.02
    missing_share: float = 0.005
    unmatched_share: float = 0.01
    compressed_share: float = 0.5
    compressed_guard_ns: float = 8.0
    flag_reflectance: float = 0.5
    flag_reflectance_sd: float = 0.2

    @classmethod
    def from_dict(cls, values: dict) -> Instrument:
        """Build from a config mapping; lists become tuples."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@dataclass(frozen=True)
class Campaign:
    """One GLAS campaign: its name (e.g. ``L3A``), start date and laser."""

    name: str
    start: date
    laser: Laser

    @property
    def decimal_year(self) -> float:
        """Start of the campaign as a decimal year."""
        first = date(self.start.year, 1, 1)
        days = (date(self.start.year + 1, 1, 1) - first).days
        return self.start.year + (self.start - first).days / days


@dataclass
class CampaignShots:
    """Everything the generator draws for one campaign (arrays of one row per shot).

    ``counts`` is the 1 ns record in time order, earliest first, as the reader
    returns it; ``telemetered`` the same shot as the product stores it (latest
    sample first, on the table row of ``location_index``, compressed where that row
    is); both are 8-bit digitizer counts.
    """

    campaign: str
    track: np.ndarray
    x: np.ndarray
    y: np.ndarray
    time: np.ndarray
    rec_ndx: np.ndarray
    shot_count: np.ndarray
    counts: np.ndarray
    telemetered: np.ndarray
    location_index: np.ndarray
    transmit_counts: np.ndarray
    background_counts: np.ndarray
    noise_v: np.ndarray
    gain: np.ndarray
    elevation: np.ndarray
    waveform_type: np.ndarray
    saturated: np.ndarray
    cloudy: np.ndarray
    cloud_flag: np.ndarray
    trunk_weight: np.ndarray
    gate_offset_ns: np.ndarray
    class_fraction: np.ndarray
    clean: np.ndarray
    open_crevasse_fraction: np.ndarray
    relief_m: np.ndarray
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)


def laser_for(campaign: str, lasers: dict[str, Laser]) -> Laser:
    """The laser that flew a campaign: ``L2A`` was laser 2, and so on."""
    key = campaign[:2]
    if key not in lasers:
        raise ValueError(f"campaign {campaign!r}: no laser {key!r} among {sorted(lasers)}")
    return lasers[key]


def campaign_seed(seed: int, campaign: str) -> int:
    """A stable per-campaign seed, so campaigns can be generated in any order."""
    digest = hashlib.sha256(f"{seed}:{campaign}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def shot_positions(
    track: GroundTrack, rng: np.random.Generator, spacing_m: float, repeat_sd_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Shot centres along one pass of a repeat track.

    A pass repeats the reference track within ``repeat_sd_m`` across track, and
    its first shot falls at a random phase of the along-track spacing.
    """
    az = np.radians(track.azimuth_deg)
    along = np.array([np.sin(az), np.cos(az)])
    across = np.array([np.cos(az), -np.sin(az)])
    offset = rng.normal(0.0, repeat_sd_m)
    phase = rng.uniform(0.0, spacing_m)
    s = np.arange(-track.length_m / 2 + phase, track.length_m / 2, spacing_m)
    x = track.centre_x_m + offset * across[0] + s * along[0]
    y = track.centre_y_m + offset * across[1] + s * along[1]
    return x, y


class Footprints(NamedTuple):
    """The true surface under each of n shots."""

    heights: np.ndarray  #: (n, size, size) float32, metres, mean removed
    classes: np.ndarray  #: (n, size, size) uint8 class codes
    elevation: np.ndarray  #: (n,) the elevation GLAS reports (:func:`centroid_elevation`)
    open_crevasse_fraction: np.ndarray  #: (n,) footprint share over open crevasses
    relief_m: np.ndarray  #: (n,) footprint-weighted height sd about the footprint's plane


def render_footprints(
    world: SyntheticWorld, x: np.ndarray, y: np.ndarray, year: float,
    size_px: int = TILE_SIZE_PX, pixel_m: float = TILE_PIXEL_M,
) -> Footprints:
    """The true surface under each shot (see :class:`Footprints`)."""
    c = (np.arange(size_px) + 0.5 - size_px / 2) * pixel_m
    dx, dy = np.meshgrid(c, -c)
    px = np.asarray(x)[:, None, None] + dx[None]
    py = np.asarray(y)[:, None, None] + dy[None]
    z, cls, depth = world.evaluate(px, py, year, crevasse_depth=True)
    relative = z - z.mean(axis=(1, 2), keepdims=True)
    return Footprints(relative.astype(np.float32), cls, centroid_elevation(z, pixel_m),
                      footprint_open_crevasse_share(depth, pixel_m=pixel_m),
                      footprint_relief(relative, pixel_m))


def centroid_elevation(heights: np.ndarray, pixel_m: float = TILE_PIXEL_M) -> np.ndarray:
    """The elevation of each footprint as GLAS derives it: at the return's centroid.

    Over ice sheets the GLAS elevation (GLAH05 standard parameterisation, GLAH06
    ``d_elev``) is the range to the centroid of the received waveform between signal
    begin and end (Brenner et al., GLAS ATBD "Derivation of range and range
    distributions from laser pulse waveform analysis", v5.0, 2011; Zwally et al.
    2002). A footprint returns each patch of surface with the energy of its
    footprint weight, at its height's two-way delay, through a symmetric pulse; the
    waveform's centroid is then the footprint-weighted mean height of the surface,
    not the height at the footprint's centre (which, in a crevasse, is its floor).

    Parameters
    ----------
    heights : (n, size, size) absolute surface heights under each footprint, metres
    pixel_m : pixel size of the tiles

    Returns
    -------
    (n,) float64, metres
    """
    return np.einsum("nij,ij->n", np.asarray(heights, np.float64),
                     footprint_weights(heights.shape[1], pixel_m))


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _gate_offsets(rng: np.random.Generator, n: int, inst: Instrument) -> np.ndarray:
    """Surface position in the record: a tracker that wanders slowly plus jitter."""
    mean, sd = inst.gate_offset_ns
    walk = np.cumsum(rng.normal(0.0, inst.gate_walk_ns, n))
    walk -= walk.mean()
    offsets = rng.normal(mean, sd) + walk + rng.normal(0.0, 1.5, n)
    return np.clip(offsets, *inst.gate_limits_ns)


def _record_gains(strength: np.ndarray, rec: np.ndarray, track: np.ndarray,
                  inst: Instrument) -> np.ndarray:
    """Automatic gain control: each record's gain answers the previous record's returns.

    ``strength`` is each return's peak relative to a clear flat surface's at the
    reference energy; the gain keeps the next record's peaks near ``flat_peak_v``,
    as the GLAS receiver's gain is set from the peak amplitudes of recent returns to
    hold them within the digitizer's range (Abshire et al. 2005, section 4).
    """
    gains = np.empty(len(strength), dtype=np.int32)
    previous, previous_track = 1.0, None
    for r in np.unique(rec):
        sel = rec == r
        mean = max(float(strength[sel].mean()), 1e-3)
        if track[sel][0] != previous_track:
            # the receiver runs all orbit: a pass starts with the gain of the ice before it
            previous = mean
        gains[sel] = int(np.clip(round(inst.reference_gain / previous), 1, 250))
        previous, previous_track = mean, track[sel][-1]
    return gains


def _transmit_pulses(rng: np.random.Generator, n: int, fwhm_ns: float, energy_ratio: float,
                     inst: Instrument, baseline: np.ndarray) -> np.ndarray:
    """Recorded transmit pulses (counts): Gaussian, peak 20 samples in, energy-scaled."""
    sigma = fwhm_ns / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    t = np.arange(N_TRANSMIT_SAMPLES)[None, :]
    centre = 20.0 + rng.normal(0.0, 0.2, (n, 1))
    peak = inst.transmit_peak_counts * energy_ratio * rng.uniform(0.95, 1.05, (n, 1))
    pulse = baseline[:, None] + peak * np.exp(-0.5 * ((t - centre) / sigma) ** 2)
    pulse += rng.normal(0.0, 1.0, pulse.shape)
    return np.clip(np.round(pulse), 0, DIGITIZER_COUNTS)


def simulate_campaign(
    world: SyntheticWorld,
    campaign: Campaign,
    tracks: list[GroundTrack],
    forward: ForwardModel,
    *,
    instrument: Instrument | None = None,
    seed: int = 0,
    spacing_m: float = SHOT_SPACING_M,
    repeat_sd_m: float = 100.0,
    batch_shots: int = 16,
    progress: bool = False,
) -> CampaignShots:
    """Fly one synthetic campaign: every track once, every shot degraded as in the module doc.

    Parameters
    ----------
    world : the surface
    campaign : name, date and laser
    tracks : the repeat ground tracks flown, in order
    forward : forward model, ``forward(tiles, pulse_fwhm_ns)`` → (n, 544) energy per bin
    instrument : degradation parameters
    seed : the generator's seed (combined with the campaign name)
    spacing_m : along-track shot spacing
    repeat_sd_m : across-track scatter of a pass about the reference track
    batch_shots : shots rendered at a time (memory: about 1 MB per shot)

    Returns
    -------
    CampaignShots, with digitizer counts and the clean waveforms
    """
    inst = instrument or Instrument()
    rng = np.random.default_rng(campaign_seed(seed, campaign.name))
    year = campaign.decimal_year
    xs, ys, track_id, times = [], [], [], []
    pass_start = _seconds_since_j2000(campaign.start) + 3600.0
    for k, track in enumerate(tracks):
        x, y = shot_positions(track, rng, spacing_m, repeat_sd_m)
        xs.append(x)
        ys.append(y)
        track_id.append(np.full(len(x), k, dtype=np.int32))
        times.append(pass_start + np.arange(len(x)) / SHOT_RATE_HZ)
        pass_start += 5400.0 * (1 + rng.integers(0, 14))  # a later orbit
    x, y = np.concatenate(xs), np.concatenate(ys)
    n = len(x)
    if n == 0:
        raise ValueError(f"campaign {campaign.name}: the tracks hold no shots")
    rec_ndx, shot_count = _record_numbers(np.concatenate(track_id))

    clean = np.empty((n, N_LONG_SAMPLES), dtype=np.float32)
    fractions = np.empty((n, len(SURFACE_CLASSES)), dtype=np.float64)
    elevation, open_share, relief = (np.empty(n, dtype=np.float64) for _ in range(3))
    for sl in tqdm(list(_batches(n, batch_shots)), desc=f"flying {campaign.name}", unit="batch",
                   disable=not progress):
        surface = render_footprints(world, x[sl], y[sl], year)
        clean[sl] = forward(surface.heights, campaign.laser.pulse_fwhm_ns)
        fractions[sl] = footprint_class_fractions(surface.classes)
        elevation[sl], open_share[sl], relief[sl] = (surface.elevation,
                                                    surface.open_crevasse_fraction,
                                                    surface.relief_m)
    flat_peak = float(forward(np.zeros((1, 8, 8), np.float32), campaign.laser.pulse_fwhm_ns).max())

    energy_ratio = campaign.laser.energy_in(year) / inst.reference_energy_mj
    cloudy_record = rng.random(rec_ndx.max() + 1) < inst.cloud_share
    cloudy = cloudy_record[rec_ndx]
    transmission = np.where(cloudy, rng.uniform(*inst.cloud_transmission, n),
                            rng.uniform(0.85, 1.0, n))
    strength = energy_ratio * transmission * rng.uniform(*inst.reflectance, n)
    signal = exponential_tail(
        clean, rng.uniform(*inst.scatter_tau_ns, n),
        np.where(cloudy, rng.uniform(*inst.scatter_share, n), 0.0),
    )
    # a broad return spreads its energy: its peak is this share of a flat surface's
    shape = signal.max(axis=1) / flat_peak
    cloud_flag = cloud_flags(rng, strength / energy_ratio, inst)
    gain = _record_gains(strength * shape, rec_ndx, np.concatenate(track_id), inst)
    gain_ratio = gain / inst.reference_gain
    gate = _gate_offsets(rng, n, inst)
    signal = fractional_shift(signal, gate)
    peak_v = inst.flat_peak_v * strength * gain_ratio / flat_peak
    background = inst.baseline_counts + rng.normal(0.0, inst.baseline_jitter_counts, n)
    noise_sd = (rng.uniform(*inst.noise_v, n)
                * np.clip(gain_ratio, 0.25, 16.0) ** inst.noise_gain_exponent)
    background_v = counts_to_volts(background)
    analogue = (background_v[:, None] + signal * peak_v[:, None]
                + rng.normal(0.0, 1.0, signal.shape) * noise_sd[:, None])
    counts = digitize(analogue)

    kind = rng.random(n)
    waveform_type = np.where(kind < inst.missing_share, 0,
                             np.where(kind < inst.missing_share + inst.short_share, 2, 1))
    transmit = _transmit_pulses(rng, n, campaign.laser.pulse_fwhm_ns, energy_ratio, inst,
                                background)
    location_index = _location_rows(rng, signal, waveform_type, inst)
    telemetered = telemeter(analogue, counts, location_index, rng, background_v, noise_sd)
    return CampaignShots(
        campaign=campaign.name, track=np.concatenate(track_id), x=x, y=y,
        time=np.concatenate(times), rec_ndx=rec_ndx, shot_count=shot_count, counts=counts,
        telemetered=telemetered, location_index=location_index, transmit_counts=transmit,
        background_counts=background, noise_v=noise_sd, gain=gain,
        elevation=np.asarray(elevation, dtype=np.float64),
        waveform_type=waveform_type.astype(np.int8),
        saturated=(telemetered >= DIGITIZER_COUNTS).any(axis=1), cloudy=cloudy,
        cloud_flag=cloud_flag, trunk_weight=world.trunk_weight(x, y),
        gate_offset_ns=gate, class_fraction=fractions, clean=clean,
        open_crevasse_fraction=open_share, relief_m=relief,
        attrs={"campaign": campaign.name, "year": year, "seed": seed,
               "pulse_fwhm_ns": campaign.laser.pulse_fwhm_ns,
               "laser_energy_mj": campaign.laser.energy_in(year),
               "tracks": [t.name for t in tracks], "unmatched_share": inst.unmatched_share},
    )


def cloud_flags(rng: np.random.Generator, reflectance: np.ndarray, inst: Instrument
                ) -> np.ndarray:
    """The product's cloud flag, from the apparent surface reflectance as GLAS sees it.

    Clouds attenuate the 1064 nm return, so a low apparent reflectance (received over
    transmitted energy) flags a shot as cloudy (Yang, Marshak & Palm 2010, "Comparison
    of cloud detection methods for GLAS"). Like the real test it is imperfect: thin
    clouds that pass most of the light go unflagged, and the reflectance estimate's own
    scatter (``flag_reflectance_sd``) flags some clear shots. With the demo's clear
    transmission (0.85-1), cloud transmission (0.1-0.7) and surface reflectance
    (0.8-1), a threshold of 0.5 with a scatter of 0.2 misses about 23 % of cloudy
    shots and flags about 3 % of clear ones (measured on 200,000 draws); the
    campaign's log and its truth store's ``cloud_flag`` attribute give the rates drawn.

    Parameters
    ----------
    rng : the campaign's generator
    reflectance : (n,) true apparent reflectance (transmission × surface reflectance)
    inst : ``flag_reflectance`` (the threshold) and ``flag_reflectance_sd``
    """
    estimate = reflectance * (1.0 + rng.normal(0.0, inst.flag_reflectance_sd, len(reflectance)))
    return estimate < inst.flag_reflectance


def flag_rates(cloudy: np.ndarray, flag: np.ndarray) -> dict[str, float]:
    """How the cloud flag errs: the share of cloudy shots it misses and of clear ones it flags."""
    cloudy, flag = np.asarray(cloudy, bool), np.asarray(flag, bool)
    return {"missed_cloudy_share": float((~flag[cloudy]).mean()) if cloudy.any() else 0.0,
            "flagged_clear_share": float(flag[~cloudy].mean()) if (~cloudy).any() else 0.0}


def digitize(analogue_v: np.ndarray) -> np.ndarray:
    """8-bit digitizer counts of analogue volts: the nearest level of ``volt_table_1``,
    clipped at count 0 and at saturation (count 255)."""
    levels = product_volt_table()
    counts = np.interp(analogue_v, levels, np.arange(len(levels), dtype=np.float64))
    return np.clip(np.round(counts), 0, DIGITIZER_COUNTS).astype(np.float32)


def _location_rows(rng: np.random.Generator, signal: np.ndarray, waveform_type: np.ndarray,
                   inst: Instrument) -> np.ndarray:
    """1-based row of the sample-location table for each shot (127 for a missing one).

    Long shots whose return starts at least ``compressed_guard_ns`` inside the last
    392 ns (the compressed row's 1 ns part) take the compressed row with probability
    ``compressed_share``, the others the uniform row; short shots a short row.
    """
    n, n_samples = signal.shape
    peak = signal.max(axis=1, keepdims=True)
    lit = signal > 1e-3 * np.maximum(peak, 1e-12)
    start = np.where(lit.any(axis=1), np.argmax(lit, axis=1), n_samples)
    in_fine_part = start >= n_samples - N_FINE_SAMPLES + inst.compressed_guard_ns
    compressed = in_fine_part & (rng.random(n) < inst.compressed_share)
    rows = np.where(compressed, COMPRESSED_ROW_NUMBER, UNIFORM_ROW_NUMBER)
    rows = np.where(waveform_type == 2, rng.choice(SHORT_ROW_NUMBERS, n), rows)
    return np.where(waveform_type == 0, GLAS_NULL_LOCATION_INDEX, rows).astype(np.int8)


def telemeter(analogue_v: np.ndarray, counts: np.ndarray, location_index: np.ndarray,
              rng: np.random.Generator, background_v: np.ndarray,
              noise_v: np.ndarray) -> np.ndarray:
    """Digitizer counts as the product stores them: latest first, compressed where asked.

    Parameters
    ----------
    analogue_v : (n, 544) analogue volts of the 1 ns record, earliest first, ending at
        the response end time
    counts : (n, 544) the same record digitized (:func:`digitize`)
    location_index : (n,) 1-based table row of each shot (see :func:`_location_rows`)
    rng : draws the noise of the record before ``analogue_v`` that a compressed row reaches
    background_v, noise_v : (n,) background level and noise sd of each shot, volts

    Returns
    -------
    (n, 544) float32 counts in the telemetered order. For the compressed row, samples
    0..391 are the last 392 ns and each later sample the quantised mean of 4 ns, going
    back about 998 ns (see :func:`cryolearn.io.glas.product_sample_table`).
    """
    n_samples = analogue_v.shape[1]
    out = counts[:, ::-1].copy()
    compressed = np.flatnonzero(location_index == COMPRESSED_ROW_NUMBER)
    if len(compressed):
        step = int(COMPRESSED_STEP_NS)
        n_coarse = n_samples - N_FINE_SAMPLES
        n_before = N_FINE_SAMPLES + step * n_coarse - n_samples
        before = (background_v[compressed, None] + noise_v[compressed, None]
                  * rng.normal(0.0, 1.0, (len(compressed), n_before)))
        record = np.concatenate([before, analogue_v[compressed]], axis=1)
        coarse = record[:, :step * n_coarse].reshape(len(compressed), n_coarse, step).mean(2)
        out[compressed, N_FINE_SAMPLES:] = digitize(coarse)[:, ::-1]
    return np.ascontiguousarray(out)


def _record_numbers(track_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-second records of 40 shots; each pass starts a new record."""
    rec = np.empty(len(track_id), dtype=np.int64)
    shot = np.empty(len(track_id), dtype=np.int32)
    next_rec = 0
    for k in np.unique(track_id):
        sel = np.flatnonzero(track_id == k)
        i = np.arange(len(sel))
        rec[sel] = next_rec + i // int(SHOT_RATE_HZ)
        shot[sel] = i % int(SHOT_RATE_HZ) + 1
        next_rec = int(rec[sel].max()) + 1
    return rec, shot


def _seconds_since_j2000(day: date) -> float:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (start - _J2000).total_seconds()


def granule_names(campaign: str) -> tuple[str, str]:
    """File names of a synthetic campaign's GLAH01 and GLAH06 granules."""
    stem = f"{campaign}_synthetic_0001.H5"
    return f"GLAH01_033_{stem}", f"GLAH06_634_{stem}"


def write_campaign(shots: CampaignShots, out_dir: str | Path, truth_store: str | Path,
                   *, seed: int = 0) -> tuple[Path, Path]:
    """Write a campaign as a GLAH01/GLAH06 pair and its per-shot truth store.

    The GLAH06 misses ``unmatched_share`` of the records, as real geolocation
    products miss shots, and the short and missing waveform types of the
    GLAH01 are blanked as the instrument would record them.

    Returns
    -------
    paths of the GLAH01 and GLAH06 files
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = len(shots)
    levels = product_volt_table()
    volts = levels[shots.telemetered.astype(np.intp)].astype(np.float32)
    volts[shots.waveform_type == 2, N_SHORT_SAMPLES:] = 0.0
    volts[shots.waveform_type == 0] = 0.0
    background_v = counts_to_volts(shots.background_counts, levels)
    lon, lat = transform_points(DEM_CRS, "EPSG:4326", shots.x, shots.y)
    lon = np.mod(np.asarray(lon), 360.0)
    attrs = {"title": "synthetic GLAH01 (cryolearn)", "campaign": shots.campaign,
             "provenance": str(shots.attrs)}
    l1, l6 = (out_dir / name for name in granule_names(shots.campaign))
    write_glah01(
        l1, rec_ndx=shots.rec_ndx, shot_count=shots.shot_count, utc_time=shots.time,
        rec_waveform=volts, location_index=shots.location_index,
        sample_location_table=product_sample_table(),
        transmit=levels[shots.transmit_counts.astype(np.intp)].astype(np.float32),
        waveform_type=shots.waveform_type, bg_mean=background_v, bg_sdev=shots.noise_v,
        gain=shots.gain, volt_table=levels, attrs=attrs,
    )
    keep = np.random.default_rng(campaign_seed(seed, shots.campaign + "/glah06")).random(n)
    keep = keep >= shots.attrs.get("unmatched_share", 0.0)
    write_glah06(
        l6, rec_ndx=shots.rec_ndx[keep], shot_count=shots.shot_count[keep],
        lat=np.asarray(lat)[keep], lon=lon[keep], elev=shots.elevation[keep],
        sat_corr_flg=np.where(shots.saturated, 2, 0).astype(np.int8)[keep],
        elev_use_flg=np.where(shots.cloud_flag, 1, 0).astype(np.int8)[keep],
        attrs={**attrs, "title": "synthetic GLAH06 (cryolearn)"},
    )
    write_shot_truth(shots, truth_store)
    return l1, l6


def write_shot_truth(shots: CampaignShots, truth_store: str | Path) -> None:
    """Truth per shot: footprint class shares, crevassed share, clean waveform, degradations."""
    crevassed = shots.class_fraction[:, [CLASS_CODE[c] for c in CREVASSED_CLASSES]].sum(axis=1)
    with atomic_store(truth_store) as tmp:
        group = create_group(tmp, {**shots.attrs, "classes": list(SURFACE_CLASSES),
                                   "crevassed_classes": list(CREVASSED_CLASSES),
                                   "cloud_flag": flag_rates(shots.cloudy, shots.cloud_flag)})
        for name in ("rec_ndx", "shot_count", "x", "y", "gate_offset_ns", "cloudy", "cloud_flag",
                     "track"):
            write_array(group, name, getattr(shots, name), ("shot",))
        write_array(group, "trunk_weight", shots.trunk_weight, ("shot",),
                    {"note": "how much of the outlet trunk the shot is in: 0 interior, 1 trunk"},
                    dtype=np.float32)
        write_array(group, "crevassed_fraction", crevassed, ("shot",), dtype=np.float32)
        write_array(group, "open_crevasse_fraction", shots.open_crevasse_fraction, ("shot",),
                    {"note": f"footprint share at least {OPEN_CREVASSE_DEPTH_M} m below the "
                             "ice between crevasses"}, dtype=np.float32)
        write_array(group, "relief_m", shots.relief_m, ("shot",),
                    {"units": "m", "note": "footprint-weighted height sd about its plane"},
                    dtype=np.float32)
        write_array(group, "class_fraction", shots.class_fraction, ("shot", "class"),
                    dtype=np.float32)
        write_array(group, "clean_waveform", shots.clean, ("shot", "sample"),
                    {"units": "fraction of energy per 1 ns bin",
                     "note": "library frame: highest surface point at lead_ns"},
                    chunk_rows=1024)


def truth_rows_for_shots(shots: Any, truth: Any) -> np.ndarray:
    """Row of the shot-truth store for every shot of a shots store (joined on the shot key).

    Parameters
    ----------
    shots, truth : opened groups (or mappings) with ``rec_ndx`` and ``shot_count``
    """
    key = shot_key(truth["rec_ndx"][:], truth["shot_count"][:])
    order = np.argsort(key)
    wanted = shot_key(shots["rec_ndx"][:], shots["shot_count"][:])
    return order[np.searchsorted(key, wanted, sorter=order)]


#: Illustrative laser parameters in the range of the GLAS laser history
#: (Abshire et al. 2005): narrower pulses and lower energies for later lasers,
#: energy falling with age.
DEFAULT_LASERS = {
    "L1": {"pulse_fwhm_ns": 6.0, "energy_mj": 70.0, "first_year": 2003.1,
           "energy_decline_per_year": 1.0},
    "L2": {"pulse_fwhm_ns": 5.4, "energy_mj": 65.0, "first_year": 2003.7,
           "energy_decline_per_year": 0.3},
    "L3": {"pulse_fwhm_ns": 4.6, "energy_mj": 50.0, "first_year": 2004.75,
           "energy_decline_per_year": 0.2},
}


def lasers_from_config(values: dict | None) -> dict[str, Laser]:
    """Lasers keyed ``L1``, ``L2``, ``L3``: ``synth.glas.lasers`` over :data:`DEFAULT_LASERS`."""
    return {name: Laser(**spec) for name, spec in {**DEFAULT_LASERS, **(values or {})}.items()}


def campaigns_from_config(glas_config: dict) -> list[Campaign]:
    """The campaigns of ``synth.glas``: name, start date and the laser that flew each."""
    lasers = lasers_from_config(glas_config.get("lasers"))
    return [Campaign(c["name"], date.fromisoformat(c["date"]), laser_for(c["name"], lasers))
            for c in glas_config["campaigns"]]


def campaign_from_config(glas_config: dict, name: str) -> Campaign:
    """One campaign of ``synth.glas`` by name."""
    for campaign in campaigns_from_config(glas_config):
        if campaign.name == name:
            return campaign
    raise KeyError(f"campaign {name!r} is not among synth.glas.campaigns")


def tracks_from_config(glas_config: dict) -> list[GroundTrack]:
    """The repeat ground tracks of ``synth.glas``."""
    return [GroundTrack.from_dict(t) for t in glas_config["tracks"]]


def fly_and_write(world_config: dict, glas_config: dict, campaign: str, forward: ForwardModel,
                  out_dir: str | Path, truth_store: str | Path, progress: bool = False
                  ) -> tuple[Path, Path]:
    """Fly one configured campaign over the configured world and write its files."""
    world = SyntheticWorld(WorldParams.from_dict(world_config))
    seed = int(glas_config.get("seed", 0))
    shots = simulate_campaign(
        world, campaign_from_config(glas_config, campaign), tracks_from_config(glas_config),
        forward, instrument=Instrument.from_dict(glas_config.get("instrument", {})),
        seed=seed, spacing_m=float(glas_config.get("spacing_m", SHOT_SPACING_M)),
        repeat_sd_m=float(glas_config.get("repeat_sd_m", 100.0)), progress=progress,
    )
    rates = flag_rates(shots.cloudy, shots.cloud_flag)
    log.info("campaign %s: %d shots, %d saturated, %d cloudy; the cloud flag misses %.0f %% of "
             "cloudy shots and flags %.1f %% of clear ones", campaign, len(shots),
             int(shots.saturated.sum()), int(shots.cloudy.sum()),
             100 * rates["missed_cloudy_share"], 100 * rates["flagged_clear_share"])
    return write_campaign(shots, out_dir, truth_store, seed=seed)
