"""Classical alignment that keeps the waveform's shape.

A shot is prepared for classification or matching in four steps, none of which
changes its width:

1. background removal (the caller passes background-subtracted volts);
2. light smoothing, a Gaussian of ``smooth_bins`` (1 ns by default, narrower than
   every GLAS laser's pulse);
3. the leading edge: the first upward crossing of ``threshold_sd`` times the
   record's own noise sd, interpolated between samples, moved to ``lead_ns``;
4. unit energy: each aligned waveform scaled to a sum of squares of 1.

The noise sd is measured on the record itself, from its second differences
(median absolute deviation, scaled by 1.4826 / sqrt(6)): a return is smooth at
1 ns and white noise is not, so the estimate holds with any share of the record
covered by the return (first differences would count a broad return's slope as
noise), and library waveforms degraded like shots are measured the same way as
the shots.

A leading-edge threshold scaled by the noise follows the practice of GLAS's own
waveform processing, which starts the signal where it first exceeds a multiple
of the background noise (Brenner et al., GLAS ATBD "Derivation of range and range
distributions from laser pulse waveform analysis", v5.0, 2011). The original
work aligned by cross-correlation with the pulse (``gaussian_xcorr``), which puts
the main peak, not the leading edge, at a fixed time: a broad return's peak moves
with its shape, and its leading edge is where the highest ice is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cryolearn.constants import LEAD_NS
from cryolearn.settings import settings_from
from cryolearn.signal import fractional_shift, gaussian_smooth, leading_edge_ns

#: MAD of second differences → sd of white noise: 1.4826 / sqrt(6)
_DIFF_MAD_TO_SD = 1.4826 / np.sqrt(6.0)


@dataclass(frozen=True)
class AlignSettings:
    """How shots and library waveforms are aligned (config ``align``).

    Attributes
    ----------
    smooth_bins : Gaussian smoothing sigma, ns
    threshold_sd : the leading edge is the first crossing of this many noise sd
    lead_ns : where the leading edge is put, ns into the record
    min_noise_fraction : floor of the noise sd as a share of the peak, so that a
        noise-free waveform still has a threshold
    """

    smooth_bins: float = 1.0
    threshold_sd: float = 4.0
    lead_ns: float = LEAD_NS
    min_noise_fraction: float = 0.005


def align_settings(section: Mapping[str, Any]) -> AlignSettings:
    """:class:`AlignSettings` from config ``align``; an unknown key is refused."""
    return settings_from(AlignSettings, dict(section), "align")


def record_noise_sd(signal: np.ndarray) -> np.ndarray:
    """Noise sd of each record, from the MAD of its second differences.

    Parameters
    ----------
    signal : (n, m) waveforms

    Returns
    -------
    (n,) float64 sd in the units of ``signal``
    """
    d = np.diff(np.asarray(signal, np.float64), n=2, axis=1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1)
    return mad * _DIFF_MAD_TO_SD


@dataclass
class Aligned:
    """Records aligned on their leading edges, with what the alignment measured."""

    waveform: np.ndarray  #: (n, m) float32 unit-energy aligned records; NaN rows: no return
    edge_ns: np.ndarray  #: (n,) leading edge found in the input, ns (NaN where none)
    smooth: np.ndarray  #: (n, m) float32 smoothed records, where the gate put them
    noise_sd: np.ndarray  #: (n,) the record's own noise sd (before the floor of the threshold)


def aligned_records(signal_v: np.ndarray, settings: AlignSettings | None = None) -> Aligned:
    """Smooth, find the leading edge, put it at ``lead_ns`` and scale to unit energy.

    Parameters
    ----------
    signal_v : (n, m) background-subtracted waveforms (any scale)
    settings : the alignment
    """
    s = settings or AlignSettings()
    raw = np.asarray(signal_v, np.float32)
    smooth = gaussian_smooth(raw, s.smooth_bins) if s.smooth_bins > 0 else raw
    peak = smooth.max(axis=1).astype(np.float64)
    noise = record_noise_sd(raw)
    threshold = s.threshold_sd * np.maximum(noise, s.min_noise_fraction * np.maximum(peak, 0.0))
    edge = leading_edge_ns(smooth, threshold)
    found = np.isfinite(edge)
    shifted = fractional_shift(smooth, np.where(found, s.lead_ns - edge, 0.0))
    norm = np.sqrt(np.sum(shifted.astype(np.float64) ** 2, axis=1))
    ok = found & (norm > 0)
    aligned = shifted / np.where(ok, norm, 1.0)[:, None].astype(np.float32)
    aligned[~ok] = np.nan
    return Aligned(aligned.astype(np.float32), edge, smooth, noise)


def align(signal_v: np.ndarray, settings: AlignSettings | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth, put the leading edge at ``lead_ns`` and scale to unit energy.

    Returns
    -------
    aligned : (n, m) float32, each row's sum of squares 1; rows without a return
        above the threshold are NaN
    edge_ns : (n,) the leading edge found in the input, ns (NaN where none)
    """
    result = aligned_records(signal_v, settings)
    return result.waveform, result.edge_ns
