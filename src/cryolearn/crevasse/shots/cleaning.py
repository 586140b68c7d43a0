"""Ways to clean a shot, and how each is judged against truth.

Three cleaners map a background-subtracted shot to a unit-peak waveform in the
library frame (highest surface point at ``lead_ns``):

* ``identity``: no processing beyond scaling to unit peak;
* ``gaussian_xcorr``: the classical pipeline: Gaussian smoothing, then
  alignment by cross-correlation with the transmit pulse, the lag of best
  correlation placing the return's main peak at ``lead_ns``;
* ``autoencoder``: :mod:`cryolearn.crevasse.shots.autoencoder`.

They are scored on held-out library waveforms degraded with fresh draws: the
root-mean-square error against the clean target, and the error of the leading
edge (first crossing of 10 % of the peak) in ns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import fftconvolve

from cryolearn.constants import LEAD_NS, PULSE_FWHM_NS
from cryolearn.crevasse.shots.augment import (
    network_input,
)
from cryolearn.signal import fractional_shift, gaussian_smooth

Cleaner = Callable[[np.ndarray], np.ndarray]

#: leading edge of a unit-peak waveform for scoring: first crossing of this fraction
EDGE_FRACTION = 0.1


def identity_cleaner(signal_v: np.ndarray) -> np.ndarray:
    """No cleaning: the shot scaled to unit peak, where the gate put it."""
    return network_input(signal_v, smooth_bins=0.0)


def gaussian_pulse_samples(fwhm_ns: float = PULSE_FWHM_NS, half_width: int = 12) -> np.ndarray:
    """A unit-peak Gaussian transmit pulse sampled at 1 ns."""
    sigma = fwhm_ns / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    t = np.arange(-half_width, half_width + 1, dtype=np.float64)
    return np.exp(-0.5 * (t / sigma) ** 2)


def xcorr_alignment_shift(signal: np.ndarray, pulse: np.ndarray,
                          lead_ns: float = LEAD_NS) -> np.ndarray:
    """Shift (ns) that puts each waveform's best match with the pulse at ``lead_ns``.

    The cross-correlation peak is refined to a fraction of a sample with a
    parabola through its three highest samples.
    """
    pulse = np.asarray(pulse, np.float64)
    if len(pulse) % 2 == 0:
        raise ValueError("the alignment pulse needs an odd number of samples")
    corr = fftconvolve(np.asarray(signal, np.float64), pulse[None, ::-1], mode="same", axes=1)
    best = np.argmax(corr, axis=1)
    rows = np.arange(len(best))
    lo = corr[rows, np.clip(best - 1, 0, corr.shape[1] - 1)]
    mid = corr[rows, best]
    hi = corr[rows, np.clip(best + 1, 0, corr.shape[1] - 1)]
    curvature = lo - 2 * mid + hi
    offset = np.where(curvature < 0, 0.5 * (lo - hi) / np.where(curvature < 0, curvature, -1), 0)
    # an odd-length pulse and mode="same": index i is the pulse centred on sample i
    return lead_ns - (best + np.clip(offset, -0.5, 0.5))


def gaussian_xcorr_cleaner(sigma_bins: float = 2.0, pulse_fwhm_ns: float = PULSE_FWHM_NS,
                           lead_ns: float = LEAD_NS) -> Cleaner:
    """The classical baseline: smooth, then align by cross-correlation with the pulse."""
    pulse = gaussian_pulse_samples(pulse_fwhm_ns)

    def clean(signal_v: np.ndarray) -> np.ndarray:
        smooth = network_input(gaussian_smooth(signal_v, sigma_bins), smooth_bins=0.0)
        return fractional_shift(smooth, xcorr_alignment_shift(smooth, pulse, lead_ns))

    return clean


