"""Empirical distributions of real shots, and library waveforms degraded to look like them.

The autoencoder never sees the same degraded waveform twice: every waveform of
every batch gets a fresh amplitude, position and noise drawn from what the
instrument actually recorded (the original work's augmentation):

* noise windows: stretches of background-subtracted shots in which every
  sample lies within ``noise_accept_v`` (0.06 V) of the background and no
  sample-to-sample step exceeds ``noise_max_step_v`` (0.045 V);
* peak amplitudes, binned by the width of the return (a rough surface spreads
  the same energy over more samples, so its peak is lower);
* leading-edge positions: the first sample above ``leading_edge_v`` (0.1 V),
  which places the return in the record the way the range gate did;
* background levels, which set how much headroom is left before the 8-bit
  digitizer saturates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cryolearn.constants import SATURATION_V
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.signal import fractional_shift, gaussian_smooth, leading_edge_ns, rms_width_ns

log = logging.getLogger(__name__)

NOISE_ACCEPT_V = 0.06
NOISE_MAX_STEP_V = 0.045
LEADING_EDGE_V = 0.1
DEFAULT_WIDTH_EDGES_NS = (0.0, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0, 17.0, 25.0, 1000.0)


def background_subtracted(waveform_v: np.ndarray, background_v: np.ndarray) -> np.ndarray:
    """Waveforms (volts) with each shot's background level removed."""
    return (np.asarray(waveform_v, np.float32)
            - np.asarray(background_v, np.float32)[:, None])


def quiet_windows(
    signal_v: np.ndarray,
    window: int = 64,
    accept_v: float = NOISE_ACCEPT_V,
    max_step_v: float = NOISE_MAX_STEP_V,
) -> np.ndarray:
    """Non-overlapping windows of background-subtracted shots that hold noise only.

    Parameters
    ----------
    signal_v : (n, m) background-subtracted waveforms, volts
    window : window length, samples

    Returns
    -------
    (k, window) float32 noise windows
    """
    n, m = signal_v.shape
    usable = (m // window) * window
    w = np.asarray(signal_v[:, :usable], np.float32).reshape(n * (usable // window), window)
    quiet = np.all(np.abs(w) <= accept_v, axis=1)
    quiet &= np.max(np.abs(np.diff(w, axis=1)), axis=1) < max_step_v
    quiet &= np.all(np.isfinite(w), axis=1)
    return w[quiet]


def signal_width_ns(signal_v: np.ndarray, noise_sd_v: np.ndarray, n_sigma: float = 3.0
                    ) -> np.ndarray:
    """RMS width of each shot's return, counting only samples above ``n_sigma`` noise."""
    s = np.asarray(signal_v, np.float64)
    floor = n_sigma * np.asarray(noise_sd_v, np.float64)[:, None]
    return rms_width_ns(np.where(s > floor, s, 0.0))


@dataclass
class EmpiricalDistributions:
    """What real shots look like; draws from it degrade clean waveforms.

    Attributes
    ----------
    noise : (k, window) background-subtracted noise windows, volts
    amplitude_v : (s,) peak amplitude of each usable shot, volts
    width_ns : (s,) width of each usable shot's return, ns
    width_edges_ns : bin edges of the width classes
    leading_edge_ns : (s,) first sample above ``leading_edge_v``
    background_v : (s,) background level, volts
    """

    noise: np.ndarray
    amplitude_v: np.ndarray
    width_ns: np.ndarray
    width_edges_ns: np.ndarray
    leading_edge_ns: np.ndarray
    background_v: np.ndarray
    leading_edge_v: float = LEADING_EDGE_V

    def __post_init__(self) -> None:
        if len(self.noise) == 0:
            raise ValueError("no quiet noise windows: the shots hold no usable background")
        if len(self.amplitude_v) == 0:
            raise ValueError("no usable returns: no shot rises above the leading-edge threshold")
        self._bin = np.clip(np.digitize(self.width_ns, self.width_edges_ns) - 1, 0,
                            len(self.width_edges_ns) - 2)
        self._members = [np.flatnonzero(self._bin == b)
                         for b in range(len(self.width_edges_ns) - 1)]
        filled = np.array([len(m) > 0 for m in self._members])
        centres = np.arange(len(self._members))
        # an empty width class borrows the amplitudes of the nearest filled one
        nearest = np.array([centres[filled][np.argmin(np.abs(centres[filled] - b))]
                            for b in centres])
        self._members = [self._members[b] for b in nearest]

    def draw_amplitude(self, width_ns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Peak amplitudes (volts) of real shots whose returns are as wide as ``width_ns``."""
        b = np.clip(np.digitize(width_ns, self.width_edges_ns) - 1, 0,
                    len(self.width_edges_ns) - 2)
        out = np.empty(len(b), dtype=np.float32)
        for k in np.unique(b):
            sel = b == k
            members = self._members[k]
            out[sel] = self.amplitude_v[members[rng.integers(0, len(members), sel.sum())]]
        return out

    def draw_leading_edge(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Leading-edge positions (ns) of real shots."""
        return self.leading_edge_ns[rng.integers(0, len(self.leading_edge_ns), n)]

    def draw_noise(self, n: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """(n, n_samples) noise made of randomly chosen quiet windows laid end to end."""
        window = self.noise.shape[1]
        per_row = -(-n_samples // window)
        pick = rng.integers(0, len(self.noise), (n, per_row))
        return self.noise[pick].reshape(n, per_row * window)[:, :n_samples]

    def draw_headroom(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Volts left between the background and digitizer saturation."""
        return SATURATION_V - self.background_v[rng.integers(0, len(self.background_v), n)]


def measure_shots(
    waveform_v: np.ndarray,
    background_v: np.ndarray,
    background_sd_v: np.ndarray,
    *,
    window: int = 64,
    accept_v: float = NOISE_ACCEPT_V,
    max_step_v: float = NOISE_MAX_STEP_V,
    leading_edge_v: float = LEADING_EDGE_V,
) -> dict[str, np.ndarray]:
    """Noise windows, amplitudes, widths, leading edges and backgrounds of a batch of shots."""
    signal = background_subtracted(waveform_v, background_v)
    edge = leading_edge_ns(signal, leading_edge_v)
    usable = np.isfinite(edge)
    width = signal_width_ns(signal[usable], np.asarray(background_sd_v)[usable])
    return {
        "noise": quiet_windows(signal, window, accept_v, max_step_v),
        "amplitude_v": signal[usable].max(axis=1),
        "width_ns": width,
        "leading_edge_ns": edge[usable],
        "background_v": np.asarray(background_v, np.float32)[usable],
    }


def empirical_distributions(
    shot_stores: Sequence[str | Path],
    out_store: str | Path,
    *,
    window: int = 64,
    accept_v: float = NOISE_ACCEPT_V,
    max_step_v: float = NOISE_MAX_STEP_V,
    leading_edge_v: float = LEADING_EDGE_V,
    width_edges_ns: Sequence[float] = DEFAULT_WIDTH_EDGES_NS,
    max_noise_windows: int = 200_000,
    seed: int = 0,
) -> EmpiricalDistributions:
    """Measure the empirical distributions of ingested shots and write them to a store.

    Parameters
    ----------
    shot_stores : ``results/shots/{campaign}.zarr`` stores
    out_store : ``results/augment/distributions.zarr``
    window : noise window length, samples
    accept_v, max_step_v : acceptance of a noise window (volts)
    leading_edge_v : threshold of the leading edge (volts above background)
    width_edges_ns : bin edges of the width classes of amplitudes
    max_noise_windows : keep at most this many noise windows (a seeded subsample)
    seed : seed of that subsample

    Returns
    -------
    the distributions
    """
    parts: dict[str, list[np.ndarray]] = {}
    for path in shot_stores:
        g = open_group(path)
        measured = measure_shots(
            g["waveform"][:], g["background_mean"][:], g["background_sd"][:], window=window,
            accept_v=accept_v, max_step_v=max_step_v, leading_edge_v=leading_edge_v,
        )
        for key, values in measured.items():
            parts.setdefault(key, []).append(values)
        log.info("%s: %d shots, %d noise windows, %d usable returns", path,
                 g["waveform"].shape[0], len(measured["noise"]), len(measured["amplitude_v"]))
    if not parts:
        raise ValueError("empirical distributions need at least one shot store")
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    if len(joined["noise"]) > max_noise_windows:
        pick = np.sort(np.random.default_rng(seed).choice(len(joined["noise"]),
                                                         max_noise_windows, replace=False))
        joined["noise"] = joined["noise"][pick]
    dist = EmpiricalDistributions(width_edges_ns=np.asarray(width_edges_ns, np.float64),
                                  leading_edge_v=leading_edge_v, **joined)
    write_distributions(dist, out_store, {
        "sources": [str(p) for p in shot_stores], "window": window, "accept_v": accept_v,
        "max_step_v": max_step_v, "leading_edge_v": leading_edge_v, "seed": seed,
    })
    return dist


def write_distributions(dist: EmpiricalDistributions, out_store: str | Path, attrs: dict) -> None:
    """Write the distributions as ``results/augment/distributions.zarr``."""
    with atomic_store(out_store) as tmp:
        g = create_group(tmp, attrs)
        write_array(g, "noise", dist.noise, ("window", "sample"), {"units": "V"},
                    chunk_rows=8192, dtype=np.float32)
        for name, units in [("amplitude_v", "V"), ("width_ns", "ns"),
                            ("leading_edge_ns", "ns"), ("background_v", "V")]:
            write_array(g, name, getattr(dist, name), ("shot",), {"units": units},
                        chunk_rows=65536, dtype=np.float32)
        write_array(g, "width_edges_ns", dist.width_edges_ns, ("edge",), {"units": "ns"},
                    dtype=np.float64)


def read_distributions(store: str | Path) -> EmpiricalDistributions:
    """Read ``results/augment/distributions.zarr`` back."""
    g = open_group(store)
    return EmpiricalDistributions(
        noise=g["noise"][:], amplitude_v=g["amplitude_v"][:], width_ns=g["width_ns"][:],
        width_edges_ns=g["width_edges_ns"][:], leading_edge_ns=g["leading_edge_ns"][:],
        background_v=g["background_v"][:],
        leading_edge_v=float(g.attrs.get("leading_edge_v", LEADING_EDGE_V)),
    )


def clean_targets(clean: np.ndarray, sigma_bins: float = 0.8) -> np.ndarray:
    """Autoencoder targets: library waveforms scaled to unit peak, lightly smoothed.

    The library frame is kept (highest surface point at ``lead_ns``), so a cleaned
    shot can be compared with the library directly. The original work smoothed
    targets with a Gaussian of 0.8 bins.
    """
    peak = np.asarray(clean, np.float32).max(axis=1, keepdims=True)
    scaled = np.asarray(clean, np.float32) / np.where(peak > 0, peak, 1.0)
    return gaussian_smooth(scaled, sigma_bins)


def degrade(
    clean: np.ndarray, dist: EmpiricalDistributions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Make clean library waveforms look like shots: scale, shift, noise, saturation.

    Parameters
    ----------
    clean : (n, m) library waveforms (any scale)
    dist : empirical distributions to draw from
    rng : the generator; every call draws afresh

    Returns
    -------
    degraded : (n, m) float32 background-subtracted volts
    shift_ns : (n,) how far each waveform was moved from the library frame
    """
    clean = np.asarray(clean, np.float32)
    n, m = clean.shape
    peak = clean.max(axis=1)
    amplitude = dist.draw_amplitude(rms_width_ns(clean), rng)
    scaled = clean * (amplitude / np.where(peak > 0, peak, 1.0))[:, None]
    edge_now = leading_edge_ns(scaled, dist.leading_edge_v)
    edge_now = np.where(np.isfinite(edge_now), edge_now, np.argmax(scaled, axis=1))
    shift = dist.draw_leading_edge(n, rng) - edge_now
    shifted = fractional_shift(scaled, shift)
    noisy = shifted + dist.draw_noise(n, m, rng)
    return np.minimum(noisy, dist.draw_headroom(n, rng)[:, None]).astype(np.float32), shift


def network_input(signal_v: np.ndarray, smooth_bins: float = 1.0) -> np.ndarray:
    """Scale background-subtracted shots to unit peak (peak of a lightly smoothed copy).

    The autoencoder sees shape, not gain: real amplitudes vary with gain,
    atmosphere and laser energy, none of which tell the surface apart.
    """
    s = np.asarray(signal_v, np.float32)
    peak = gaussian_smooth(s, smooth_bins).max(axis=1, keepdims=True)
    return s / np.maximum(peak, 1e-6)
