"""The library as each campaign's laser would have seen it.

The demo library is simulated with one 6 ns pulse, but GLAS flew three lasers
whose pulses narrowed with age (about 6, 5.4 and 4.6 ns; Abshire et al. 2005,
Geophys. Res. Lett. 32, L21S02). A classifier trained on one pulse meets shots
of another. Every GLAH01 record carries its own transmitted pulse (48 samples),
so each campaign's pulse is measured from its shots: the records are aligned on
their peaks and averaged, and :func:`~cryolearn.crevasse.library.forward.measured_pulse_kernel`
keeps the part that stands above the digitizer's noise. The library's tiles are
turned into energy histograms once (the forward model without its pulse) and
convolved with each campaign's kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve1d

from cryolearn.constants import LEAD_NS, PULSE_FWHM_NS
from cryolearn.crevasse.library.forward import (
    measured_pulse_kernel,
    simulate_waveforms,
    transmit_kernel,
)
from cryolearn.io.zarrstore import open_group

#: forward-model parameters that belong to the pulse, not the surface
PULSE_KEYS = ("pulse_fwhm_ns", "transmit_pulse", "convolve")


def campaign_pulse(transmit: np.ndarray) -> np.ndarray:
    """A campaign's transmit pulse kernel from its shots' recorded pulses.

    Parameters
    ----------
    transmit : (n, 48) recorded transmit waveforms (counts or volts)

    Returns
    -------
    kernel : odd-length, summing to 1, centroid at the centre
    """
    records = np.asarray(transmit, np.float64)
    records = records[np.all(np.isfinite(records), axis=1)]
    if len(records) == 0:
        raise ValueError("no complete transmit record to measure the pulse from")
    records = records - np.median(records, axis=1, keepdims=True)
    # whole-sample alignment on the peaks: interpolating would widen the pulse
    peak = np.argmax(records, axis=1)
    centre = int(np.median(peak))
    stacked = np.stack([np.roll(r, centre - p) for r, p in zip(records, peak, strict=True)])
    return measured_pulse_kernel(stacked.mean(axis=0))


def pulse_fwhm_ns(kernel: np.ndarray) -> float:
    """Full width at half maximum of a sampled pulse, ns (linear interpolation)."""
    k = np.asarray(kernel, np.float64)
    half = k.max() / 2.0
    above = np.flatnonzero(k >= half)
    lo, hi = above[0], above[-1]
    left = lo - (k[lo] - half) / (k[lo] - k[lo - 1]) if lo > 0 else float(lo)
    right = hi + (k[hi] - half) / (k[hi] - k[hi + 1]) if hi + 1 < len(k) else float(hi)
    return float(right - left)


def surface_histograms(elevation: np.ndarray, forward: Mapping[str, object]) -> np.ndarray:
    """Energy histograms of tiles: the library's forward model without a pulse."""
    surface = {k: v for k, v in forward.items() if k not in PULSE_KEYS}
    return simulate_waveforms(np.asarray(elevation), convolve=False, **surface)  # type: ignore[arg-type]


def with_pulse(histograms: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Waveforms of energy histograms through one pulse (energy conserved in the record)."""
    return convolve1d(np.asarray(histograms, np.float32), np.asarray(kernel, np.float32),
                      axis=1, mode="constant", cval=0.0)


def campaign_pulses(shot_stores: Mapping[str, str | Path]) -> dict[str, np.ndarray]:
    """Campaign → pulse kernel, each measured from its ``results/shots`` store's ``transmit``."""
    pulses = {}
    for campaign, store in shot_stores.items():
        try:
            pulses[campaign] = campaign_pulse(open_group(store)["transmit"][:])
        except ValueError as err:
            raise ValueError(f"{store}: {err}") from err
    return pulses


def library_pulse(forward: Mapping[str, object]) -> np.ndarray:
    """The pulse kernel a library was simulated with (its store's ``forward`` attributes)."""
    measured = forward.get("transmit_pulse")
    return transmit_kernel(None if measured is None else np.asarray(measured, np.float64),
                           float(forward.get("pulse_fwhm_ns", PULSE_FWHM_NS)),  # type: ignore[arg-type]
                           float(forward.get("lead_ns", LEAD_NS)))  # type: ignore[arg-type]
