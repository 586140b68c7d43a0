"""The classical cleaner: cross-correlation alignment recovers a known shift."""

import numpy as np
from helpers import plane_tiles

from cryolearn.crevasse.evaluate.cleaning import score
from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.shots.augment import clean_targets
from cryolearn.crevasse.shots.cleaning import (
    gaussian_pulse_samples,
    gaussian_xcorr_cleaner,
    xcorr_alignment_shift,
)
from cryolearn.signal import fractional_shift


def test_xcorr_alignment_recovers_a_known_shift():
    pulse = gaussian_pulse_samples(6.0)
    flat = simulate_waveforms(plane_tiles(3, 0.0))
    moved = fractional_shift(flat, np.array([37.0, 120.25, 250.5]))
    np.testing.assert_allclose(xcorr_alignment_shift(moved, pulse), [-37.0, -120.25, -250.5],
                               atol=0.15)
    cleaned = gaussian_xcorr_cleaner(sigma_bins=0.0)(moved)
    assert score(cleaned, clean_targets(flat, 0.0))["shift_error_ns"] < 0.2
