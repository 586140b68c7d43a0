"""Each campaign's pulse, measured from its recorded transmit pulses, shapes its library."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.classify.pulses import (
    campaign_pulse,
    pulse_fwhm_ns,
    surface_histograms,
    with_pulse,
)
from cryolearn.crevasse.library.forward import gaussian_pulse

FORWARD = {"footprint_sigma_m": 17.5, "bin_m": 0.15, "n_samples": 544, "lead_ns": 10.0,
           "pulse_fwhm_ns": 6.0, "transmit_pulse": None, "convolve": True, "binning": "linear"}


def recorded_transmits(fwhm_ns: float, n: int, seed: int) -> np.ndarray:
    """48-sample transmit records in counts: baseline 30, peak 160 near sample 20, noise 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(48, dtype=np.float64)
    sigma = fwhm_ns / (2 * np.sqrt(2 * np.log(2)))
    centre = 20 + rng.integers(-1, 2, n)[:, None]
    pulse = 30 + 160 * np.exp(-0.5 * ((t - centre) / sigma) ** 2) + rng.normal(0, 1, (n, 48))
    return np.round(pulse)


@pytest.mark.parametrize("fwhm", [6.0, 5.4, 4.6])
def test_a_campaigns_pulse_is_measured_from_its_transmit_records(fwhm):
    kernel = campaign_pulse(recorded_transmits(fwhm, 300, seed=int(fwhm * 10)))
    assert kernel.sum() == pytest.approx(1.0)
    # the sampled Gaussian itself measures this wide with linear interpolation
    assert pulse_fwhm_ns(kernel) == pytest.approx(pulse_fwhm_ns(gaussian_pulse(fwhm)), abs=0.15)


def test_the_library_of_each_campaign_has_its_pulse():
    # a flat tile returns the pulse itself; a tile of two levels 1.5 m apart returns two
    # pulses 10 ns apart (0.15 m of two-way range per ns), each as wide as the campaign's
    flat = np.zeros((1, 200, 200), np.float32)
    stepped = np.zeros((1, 200, 200), np.float32)
    stepped[0, :, 100:] = -1.5
    hist = surface_histograms(np.concatenate([flat, stepped]), FORWARD)
    widths = {}
    for name, fwhm in (("L1", 6.0), ("L3", 4.6)):
        kernel = campaign_pulse(recorded_transmits(fwhm, 300, seed=1))
        waveforms = with_pulse(hist, kernel)
        widths[name] = pulse_fwhm_ns(waveforms[0])
        assert widths[name] == pytest.approx(pulse_fwhm_ns(kernel), abs=0.05)
        first, second = int(np.argmax(waveforms[1][:15])), 10 + 10
        assert first in (10, 11) and waveforms[1][second] == pytest.approx(
            waveforms[1][first], rel=0.15)
    assert widths["L1"] - widths["L3"] == pytest.approx(1.4, abs=0.25)


def test_a_campaign_without_a_transmit_record_is_refused():
    with pytest.raises(ValueError, match="no complete transmit record"):
        campaign_pulse(np.full((3, 48), np.nan))
