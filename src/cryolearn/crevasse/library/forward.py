"""Forward model: the GLAS waveform that a DEM tile would return.

For every tile, the footprint's Gaussian weights (sigma 17.5 m, centred on the
tile) are binned by the height of each pixel below the tile's highest point,
converted to two-way travel time at 0.15 m per 1 ns bin, with the highest point
10 ns into the 544-sample record. The energy histogram is convolved with the
transmit pulse (Gaussian, 6 ns FWHM, or a measured 48-sample pulse). The
footprint weights of a whole tile sum to 1, so a waveform sums to 1 unless
energy falls outside the record.

The default kernel is compiled with numba and runs over a batch of tiles in
parallel (:mod:`cryolearn.crevasse.library._forward_kernel`); a vectorised
:func:`numpy.bincount` engine gives the same histograms. There is no Python loop
over pixels or tiles.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve1d
from tqdm import tqdm

from cryolearn.constants import (
    BIN_M,
    FOOTPRINT_SIGMA_M,
    LEAD_NS,
    N_SAMPLES,
    PULSE_FWHM_NS,
    TILE_PIXEL_M,
)
from cryolearn.footprint import footprint_profile, footprint_weights
from cryolearn.io.zarrstore import append, atomic_store, create_array, create_group, open_group

log = logging.getLogger(__name__)

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
BINNINGS = ("linear", "nearest")
ENGINES = ("numba", "numpy")


def gaussian_pulse(fwhm_ns: float = PULSE_FWHM_NS, half_width: int = 10) -> np.ndarray:
    """Gaussian transmit pulse sampled at 1 ns, centred, summing to 1.

    Parameters
    ----------
    fwhm_ns : full width at half maximum, ns
    half_width : samples on each side of the centre

    Returns
    -------
    (2 * half_width + 1,) float64
    """
    t = np.arange(-half_width, half_width + 1, dtype=np.float64)
    p = np.exp(-0.5 * (t / (fwhm_ns * FWHM_TO_SIGMA)) ** 2)
    return p / p.sum()


def measured_pulse_kernel(transmit: np.ndarray, noise_gate: float = 2.0) -> np.ndarray:
    """A convolution kernel from a recorded transmit waveform (e.g. GLAS's 48 samples).

    The baseline (median of the record) is removed, and only the contiguous run
    of samples around the peak that stands more than ``noise_gate`` robust
    standard deviations above it is kept, so digitizer noise in the rest of the
    record does not widen the pulse. The pulse is normalised to sum 1 and padded
    so that its centroid sits at the kernel's centre: convolving with it moves
    a waveform's centroid by at most half a bin.
    """
    raw = np.asarray(transmit, dtype=np.float64).ravel()
    if raw.size < 3:
        raise ValueError("a transmit pulse needs at least 3 samples")
    baseline = np.median(raw)
    sigma = max(1.4826 * np.median(np.abs(raw - baseline)), 1e-6)
    pulse = raw - baseline
    peak = int(np.argmax(pulse))
    if pulse[peak] <= noise_gate * sigma:
        raise ValueError("the transmit pulse has no energy above its baseline noise")
    quiet = np.flatnonzero(pulse <= noise_gate * sigma)
    start = quiet[quiet < peak].max() + 1 if np.any(quiet < peak) else 0
    stop = quiet[quiet > peak].min() if np.any(quiet > peak) else pulse.size
    pulse = pulse[start:stop] / pulse[start:stop].sum()
    centre = round(float(np.dot(np.arange(pulse.size), pulse)))
    half = max(centre, pulse.size - 1 - centre)
    kernel = np.zeros(2 * half + 1)
    kernel[half - centre : half - centre + pulse.size] = pulse
    return kernel


def transmit_kernel(
    transmit_pulse: np.ndarray | None, pulse_fwhm_ns: float, lead_ns: float
) -> np.ndarray:
    """The kernel the forward model convolves with: the measured pulse, or a Gaussian."""
    if transmit_pulse is not None:
        return measured_pulse_kernel(transmit_pulse)
    sigma = pulse_fwhm_ns * FWHM_TO_SIGMA
    return gaussian_pulse(pulse_fwhm_ns, max(1, min(math.ceil(4 * sigma), int(lead_ns))))


def energy_histograms(
    tiles: np.ndarray,
    *,
    pixel_m: float = TILE_PIXEL_M,
    footprint_sigma_m: float = FOOTPRINT_SIGMA_M,
    bin_m: float = BIN_M,
    n_samples: int = N_SAMPLES,
    lead_ns: float = LEAD_NS,
    binning: str = "linear",
    engine: str = "numba",
) -> np.ndarray:
    """Footprint-weighted histograms of height below each tile's highest point.

    Parameters
    ----------
    tiles : (n, ny, nx) float, metres (any offset)
    binning : ``"linear"`` shares each pixel's weight between the two nearest
        bins in proportion to its position (energy-conserving, no
        quantisation); ``"nearest"`` puts it into the bin it falls in, like
        :func:`numpy.histogram`
    engine : ``"numba"`` (compiled, one pass, tiles in parallel) or
        ``"numpy"`` (vectorised :func:`numpy.bincount`); both give the same
        histograms to rounding
    pixel_m, footprint_sigma_m, bin_m, n_samples, lead_ns : as in
        :func:`simulate_waveforms`

    Returns
    -------
    (n, n_samples) float64; energy beyond the record is dropped
    """
    if binning not in BINNINGS:
        raise ValueError(f"binning must be one of {BINNINGS}, got {binning!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    tiles = np.asarray(tiles)
    n, ny, nx = tiles.shape
    if ny != nx:
        raise ValueError(f"tiles must be square, got {ny} x {nx}")
    if n == 0:
        return np.zeros((0, n_samples))
    weights = footprint_weights(nx, pixel_m, footprint_sigma_m).ravel()
    flat = tiles.reshape(n, ny * nx)
    if engine == "numba":
        from cryolearn.crevasse.library._forward_kernel import histograms_kernel

        profile = footprint_profile(nx, pixel_m, footprint_sigma_m)
        tiles32 = np.ascontiguousarray(tiles, dtype=np.float32)
        return histograms_kernel(tiles32, profile, profile, 1.0 / bin_m, float(lead_ns),
                                 int(n_samples), binning == "linear")
    inv_bin = 1.0 / bin_m
    # position in bins: lead + (zmax - z) / bin, computed in two passes
    pos = np.multiply(flat, -inv_bin, dtype=np.float32)
    pos += (flat.max(axis=1) * inv_bin + lead_ns).astype(np.float32)[:, None]
    stride = n_samples + 2  # two spare bins per tile take what falls beyond the record
    offsets = (np.arange(n, dtype=np.intp) * stride)[:, None]
    if binning == "nearest":
        idx = pos.astype(np.intp)
        np.minimum(idx, n_samples, out=idx)
        idx += offsets
        hist = np.bincount(idx.ravel(), _tiled(weights, n), n * stride)
    else:
        floor = np.floor(pos)
        frac = pos - floor
        idx = floor.astype(np.intp)
        np.minimum(idx, n_samples, out=idx)
        idx += offsets
        upper = frac * weights
        flat_idx = idx.ravel()
        hist = np.bincount(flat_idx, _tiled(weights, n), n * stride)
        moved = np.bincount(flat_idx, upper.ravel(), n * stride)
        hist -= moved
        hist[1:] += moved[:-1]
    return hist.reshape(n, stride)[:, :n_samples]


def simulate_waveforms(
    tiles: np.ndarray,
    *,
    pixel_m: float = TILE_PIXEL_M,
    footprint_sigma_m: float = FOOTPRINT_SIGMA_M,
    bin_m: float = BIN_M,
    n_samples: int = N_SAMPLES,
    lead_ns: float = LEAD_NS,
    pulse_fwhm_ns: float = PULSE_FWHM_NS,
    transmit_pulse: np.ndarray | None = None,
    convolve: bool = True,
    binning: str = "linear",
    engine: str = "numba",
    batch_size: int = 256,
) -> np.ndarray:
    """GLAS waveforms that a batch of DEM tiles would return.

    Parameters
    ----------
    tiles : (n, ny, nx) float32, metres, mean removed (any offset works)
    pixel_m : tile pixel size, metres
    footprint_sigma_m : Gaussian footprint sigma, metres (1/e^2 diameter 70 m)
    bin_m : two-way range per 1 ns bin, metres
    n_samples : samples in the record
    lead_ns : position of the tile's highest point in the record, ns
    pulse_fwhm_ns : width of the Gaussian transmit pulse, ns
    transmit_pulse : a measured transmit waveform (e.g. 48 samples) used
        instead of the Gaussian
    convolve : ``False`` returns the un-convolved energy histogram, as the
        original pipeline used
    binning : ``"linear"`` or ``"nearest"`` (see :func:`energy_histograms`)
    engine : ``"numba"`` or ``"numpy"`` (see :func:`energy_histograms`)
    batch_size : tiles per vectorised batch (bounded memory, cache friendly)

    Returns
    -------
    (n, n_samples) float32, energy per 1 ns bin, each row summing to 1 when the
    whole return lies within the record
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 3:
        raise ValueError(f"tiles must be (n, ny, nx), got shape {tiles.shape}")
    kernel = transmit_kernel(transmit_pulse, pulse_fwhm_ns, lead_ns) if convolve else None
    out = np.empty((tiles.shape[0], n_samples), dtype=np.float32)
    for start in range(0, tiles.shape[0], batch_size):
        hist = energy_histograms(
            tiles[start : start + batch_size], pixel_m=pixel_m,
            footprint_sigma_m=footprint_sigma_m, bin_m=bin_m, n_samples=n_samples,
            lead_ns=lead_ns, binning=binning, engine=engine,
        )
        if kernel is not None:
            hist = convolve1d(hist, kernel, axis=1, mode="constant", cval=0.0)
        out[start : start + batch_size] = hist
    return out


def simulate_store(
    tiles_store: str | Path,
    out_store: str | Path,
    *,
    chunk_tiles: int = 256,
    progress: bool = True,
    **forward: object,
) -> int:
    """Simulate the waveform of every tile of a flight's tile shard.

    Reads ``results/tiles/{flight}.zarr`` chunk by chunk and writes
    ``results/waveforms/{flight}.zarr``: ``waveform[tile, sample]`` (float32),
    ``hash[tile]`` in the same order, ``time_ns[sample]``, and the forward
    parameters as attributes.

    Parameters
    ----------
    tiles_store, out_store : store paths
    chunk_tiles : tiles read and simulated at a time
    progress : show a progress bar
    **forward : keyword arguments of :func:`simulate_waveforms`

    Returns
    -------
    number of waveforms written
    """
    tiles = open_group(tiles_store)
    elevation = tiles["elevation"]
    n = elevation.shape[0]
    n_samples = int(forward.get("n_samples", N_SAMPLES))
    attrs = {"flight": tiles.attrs.get("flight", ""), "forward": _jsonable(forward)}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        wave = create_array(group, "waveform", (0, n_samples), np.float32, ("tile", "sample"),
                            (1024, n_samples), {"units": "fraction of energy per 1 ns bin"})
        hashes = create_array(group, "hash", (0,), str, ("tile",), (4096,))
        time_ns = create_array(group, "time_ns", (n_samples,), np.float64, ("sample",),
                               (n_samples,), {"units": "ns"})
        time_ns[:] = np.arange(n_samples, dtype=np.float64)
        bar = tqdm(total=n, desc=f"simulating {attrs['flight']}", unit="tile",
                   disable=not progress)
        for start in range(0, n, chunk_tiles):
            block = elevation[start : start + chunk_tiles]
            append(wave, simulate_waveforms(block, **forward))  # type: ignore[arg-type]
            bar.update(len(block))
        bar.close()
        if n:
            append(hashes, tiles["hash"][:])
    log.info("%s: %d waveforms", out_store, n)
    return n


def _tiled(weights: np.ndarray, n: int) -> np.ndarray:
    """``weights`` repeated for ``n`` tiles, flat."""
    return np.tile(weights, n)


def _jsonable(values: dict) -> dict:
    return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
            for k, v in values.items()}


def forward_model(**forward: object):
    """A ``forward(tiles, pulse_fwhm_ns)`` callable with the other parameters fixed.

    The synthetic instrument (:mod:`cryolearn.synth.glas`) takes the forward model
    as a callable; this binds the run's forward parameters (footprint, bins,
    record) and leaves the pulse width to each campaign's laser.
    """
    fixed = {k: v for k, v in forward.items() if k not in ("pulse_fwhm_ns", "transmit_pulse")}

    def simulate(tiles: np.ndarray, pulse_fwhm_ns: float) -> np.ndarray:
        return simulate_waveforms(tiles, pulse_fwhm_ns=pulse_fwhm_ns, **fixed)  # type: ignore[arg-type]

    return simulate
