"""Training examples for the per-shot classifier, made from the labelled library.

No shot's truth enters: the examples are library tiles, labelled through their
clusters' labels (so a person's labelling drives the classifier exactly as it
drives matching), simulated with each campaign's own laser pulse
(:mod:`~cryolearn.crevasse.classify.pulses`), degraded the way shots are
(the empirical distributions of :mod:`~cryolearn.crevasse.shots.augment`: gain,
gate position, recorded noise and saturation), with forward scattering added to a
share of them as clouds add it (a causal exponential tail, Duda et al. 2001,
Opt. Eng. 40, 2001), and aligned exactly as shots are
(:mod:`~cryolearn.crevasse.shots.align`).

Features of a shot (the same function for examples and shots): its aligned,
unit-energy waveform averaged over ``bin_ns`` bins for ``window_ns`` after the
leading edge, and three numbers of its own record: the log10 SNR, the RMS width
of the return (its samples above the leading-edge threshold) and the share of the
aligned waveform's energy beyond the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cryolearn.crevasse.classify.pulses import with_pulse
from cryolearn.crevasse.shots.align import AlignSettings, aligned_records
from cryolearn.crevasse.shots.augment import EmpiricalDistributions, degrade
from cryolearn.signal import exponential_tail, rms_width_ns

#: names of the scalar features after the binned waveform
SCALAR_FEATURES = ("log10_snr", "rms_width_ns", "energy_beyond_window")


@dataclass(frozen=True)
class ExampleSettings:
    """How library tiles become training examples (config ``classifier``).

    Attributes
    ----------
    draws : degraded copies of every tile with every campaign's pulse
    cloud_share : share of examples given a forward-scattering tail
    scatter_share : range of the energy share scattered into the tail
    scatter_tau_ns : range of the tail's e-folding delay, ns
    window_ns : samples after the record's start kept as features (the leading
        edge sits at ``align.lead_ns``)
    bin_ns : samples averaged into one feature
    max_tiles_per_pulse : a pulse's examples are made from at most this many tiles of
        the split, drawn at random for each pulse (0: every tile). Examples grow as
        tiles × pulses × draws: the original's 170,000 training tiles with 19 pulses
        and 4 draws would be 13 million examples of 8 GB
    """

    draws: int = 4
    cloud_share: float = 0.2
    scatter_share: tuple[float, float] = (0.1, 0.6)
    scatter_tau_ns: tuple[float, float] = (2.0, 30.0)
    window_ns: int = 320
    bin_ns: int = 2
    max_tiles_per_pulse: int = 20000

    def __post_init__(self) -> None:
        if self.draws < 1:
            raise ValueError("classifier draws must be at least 1")
        if self.max_tiles_per_pulse < 0:
            raise ValueError("classifier max_tiles_per_pulse must be 0 (every tile) or more")
        if self.window_ns % self.bin_ns:
            raise ValueError(f"classifier window_ns {self.window_ns} is not a multiple of "
                             f"bin_ns {self.bin_ns}")


def feature_names(settings: ExampleSettings) -> list[str]:
    """Names of the feature columns."""
    bins = [f"w{t:03d}" for t in range(0, settings.window_ns, settings.bin_ns)]
    return bins + list(SCALAR_FEATURES)


def shot_features(signal_v: np.ndarray, settings: ExampleSettings,
                  align_settings: AlignSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of background-subtracted records (shots or degraded library waveforms).

    Returns
    -------
    features : (n, n_features) float32; NaN rows where no return was found
    found : (n,) whether the record has a return above the leading-edge threshold
    """
    a = align_settings or AlignSettings()
    prepared = aligned_records(signal_v, a)
    aligned, found = prepared.waveform, np.isfinite(prepared.edge_ns)
    n, m = aligned.shape
    window = min(settings.window_ns, m - m % settings.bin_ns)
    window -= window % settings.bin_ns
    binned = aligned[:, :window].reshape(n, window // settings.bin_ns, settings.bin_ns).mean(2)
    if window < settings.window_ns:
        pad = np.zeros((n, (settings.window_ns - window) // settings.bin_ns), np.float32)
        binned = np.concatenate([binned, pad], axis=1)
    noise, smooth = prepared.noise_sd, prepared.smooth
    peak = smooth.max(axis=1)
    snr = np.log10(np.maximum(peak, 1e-9) / np.maximum(noise, 1e-9))
    # the width of the return itself: samples above the leading-edge threshold only
    above = smooth > a.threshold_sd * noise[:, None]
    width = rms_width_ns(np.where(above, smooth, 0.0))
    beyond = (np.nan_to_num(aligned) ** 2)[:, window:].sum(axis=1)
    scalars = np.stack([snr, width, beyond], axis=1).astype(np.float32)
    features = np.concatenate([binned, scalars], axis=1).astype(np.float32)
    features[~found] = np.nan
    return features, found


def degrade_with_clouds(clean: np.ndarray, dist: EmpiricalDistributions,
                        settings: ExampleSettings, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Degrade clean waveforms like shots, a share of them through cloud first.

    Returns
    -------
    degraded : (n, m) background-subtracted volts
    cloudy : (n,) which examples got a forward-scattering tail
    """
    n = len(clean)
    cloudy = rng.random(n) < settings.cloud_share
    share = np.where(cloudy, rng.uniform(*settings.scatter_share, n), 0.0)
    tailed = exponential_tail(clean, rng.uniform(*settings.scatter_tau_ns, n), share)
    degraded, _ = degrade(tailed, dist, rng)
    return degraded, cloudy


@dataclass
class Examples:
    """Training examples: features, labels and where each came from."""

    features: np.ndarray  #: (n, n_features) float32
    label: np.ndarray  #: (n,) int8, 1 crevasse, 0 not
    tile: np.ndarray  #: (n,) library row of the tile
    pulse: np.ndarray  #: (n,) index of the pulse (campaign) it was simulated with
    cloudy: np.ndarray  #: (n,) bool, given a forward-scattering tail


def make_examples(histograms: np.ndarray, tiles: np.ndarray, labels: np.ndarray,
                  kernels: Sequence[np.ndarray], dist: EmpiricalDistributions,
                  settings: ExampleSettings, rng: np.random.Generator,
                  align_settings: AlignSettings | None = None) -> Examples:
    """Examples of the given tiles with every pulse, ``settings.draws`` times each (of at
    most ``settings.max_tiles_per_pulse`` tiles a pulse).

    Parameters
    ----------
    histograms : (n_tiles, m) energy histograms of the tiles (no pulse)
    tiles : (n_tiles,) their library rows
    labels : (n_tiles,) 1 crevasse, 0 not
    kernels : the campaigns' pulse kernels
    dist : what shots look like
    settings, align_settings : how examples are made and aligned
    rng : the generator
    """
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("features", "label", "tile", "pulse",
                                                            "cloudy")}
    labels, tiles = np.asarray(labels, np.int8), np.asarray(tiles)
    cap = settings.max_tiles_per_pulse
    for p, kernel in enumerate(kernels):
        use: slice | np.ndarray = slice(None)  # every tile, without copying them
        if 0 < cap < len(tiles):
            use = np.sort(rng.choice(len(tiles), cap, replace=False))
        clean = with_pulse(histograms[use], kernel)
        for _ in range(settings.draws):
            degraded, cloudy = degrade_with_clouds(clean, dist, settings, rng)
            features, found = shot_features(degraded, settings, align_settings)
            parts["features"].append(features[found])
            parts["label"].append(labels[use][found])
            parts["tile"].append(tiles[use][found])
            parts["pulse"].append(np.full(int(found.sum()), p, np.int16))
            parts["cloudy"].append(cloudy[found])
    return Examples(**{k: np.concatenate(v) for k, v in parts.items()})
