"""Small waveform operations shared by the synthetic instrument and the pipeline.

All functions work on batches: waveforms are ``(n, n_samples)`` arrays sampled
at 1 ns, and shifts, positions and widths are in ns (samples).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def fractional_shift(waveforms: np.ndarray, shifts_ns: np.ndarray) -> np.ndarray:
    """Delay each waveform by a (fractional) number of samples, zero-filled.

    Linear interpolation between neighbouring samples, so a shift of 0.5 ns
    splits each sample's value between two bins and the sum is conserved while
    the waveform stays within the record.

    Parameters
    ----------
    waveforms : (n, m) float
    shifts_ns : (n,) float; positive moves the waveform later in the record

    Returns
    -------
    (n, m) float32
    """
    w = np.asarray(waveforms, dtype=np.float32)
    n, m = w.shape
    shifts = np.broadcast_to(np.asarray(shifts_ns, dtype=np.float64), (n,))
    whole = np.floor(shifts).astype(np.int64)
    frac = (shifts - whole).astype(np.float32)[:, None]
    src = np.arange(m)[None, :] - whole[:, None]  # output sample j takes input j - shift

    def take(index: np.ndarray) -> np.ndarray:
        inside = (index >= 0) & (index < m)
        values = np.take_along_axis(w, np.clip(index, 0, m - 1), axis=1)
        return np.where(inside, values, np.float32(0.0))

    return (1.0 - frac) * take(src) + frac * take(src - 1)


def leading_edge_ns(waveforms: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """Time of the first upward crossing of ``threshold``, interpolated between samples.

    Parameters
    ----------
    waveforms : (n, m) float
    threshold : scalar or (n,) per-waveform thresholds, same units as the waveforms

    Returns
    -------
    (n,) float64 ns; NaN where the waveform never reaches the threshold
    """
    w = np.asarray(waveforms, dtype=np.float64)
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (w.shape[0],))[:, None]
    above = w > thr
    found = above.any(axis=1)
    first = np.argmax(above, axis=1)
    rows = np.arange(w.shape[0])
    before = np.clip(first - 1, 0, None)
    lo, hi = w[rows, before], w[rows, first]
    step = np.where(hi > lo, (thr[:, 0] - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    position = np.where(first > 0, before + np.clip(step, 0.0, 1.0), 0.0)
    return np.where(found, position, np.nan)


def relative_leading_edge_ns(waveforms: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Leading edge at a fraction of each waveform's own peak (scale-free), ns."""
    w = np.asarray(waveforms)
    return leading_edge_ns(w, fraction * w.max(axis=1, initial=0.0))


def rms_width_ns(waveforms: np.ndarray) -> np.ndarray:
    """Root-mean-square width of each waveform's energy about its centroid, ns.

    Negative values (noise below a subtracted background) are ignored.

    Returns
    -------
    (n,) float64; NaN for a waveform with no positive energy
    """
    w = np.clip(np.asarray(waveforms, dtype=np.float64), 0.0, None)
    t = np.arange(w.shape[1], dtype=np.float64)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = (w * t).sum(axis=1) / total
        var = (w * (t[None, :] - centroid[:, None]) ** 2).sum(axis=1) / total
    return np.sqrt(var)


def exponential_tail(waveforms: np.ndarray, tau_ns: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Add a forward-scattering tail: part of each return is delayed exponentially.

    Multiple scattering in cloud lengthens photon paths; the received pulse is
    the direct return plus a causal exponential smear of it (Duda et al. 2001).

    Parameters
    ----------
    waveforms : (n, m) float
    tau_ns : (n,) e-folding delay of the scattered light, ns
    share : (n,) fraction of the energy that is scattered, 0-1

    Returns
    -------
    (n, m) float32 with each row's sum conserved (within the record)
    """
    w = np.asarray(waveforms, dtype=np.float64)
    m = w.shape[1]
    tau = np.asarray(tau_ns, dtype=np.float64)[:, None]
    share = np.asarray(share, dtype=np.float64)[:, None]
    t = np.arange(m, dtype=np.float64)[None, :]
    kernel = np.exp(-t / tau)
    kernel /= kernel.sum(axis=1, keepdims=True)
    size = 2 * m
    smeared = np.fft.irfft(np.fft.rfft(w, size) * np.fft.rfft(kernel, size), size)[:, :m]
    return ((1.0 - share) * w + share * smeared).astype(np.float32)


def gaussian_smooth(waveforms: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian smoothing along the sample axis (zero beyond the record)."""
    if sigma_bins <= 0:
        return np.asarray(waveforms, dtype=np.float32)
    return gaussian_filter1d(np.asarray(waveforms, dtype=np.float32), sigma_bins, axis=-1,
                             mode="constant", cval=0.0)
