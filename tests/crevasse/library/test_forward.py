"""Known answers of the GLAS forward model."""

import numpy as np
import pytest
from helpers import plane_tiles

from cryolearn.constants import BIN_M, LEAD_NS, N_SAMPLES
from cryolearn.crevasse.library.forward import (
    FWHM_TO_SIGMA,
    energy_histograms,
    gaussian_pulse,
    measured_pulse_kernel,
    simulate_waveforms,
)
from cryolearn.footprint import footprint_weights

T = np.arange(N_SAMPLES)


def centroid(w: np.ndarray) -> np.ndarray:
    return (w * T).sum(axis=-1) / w.sum(axis=-1)


def rms_width(w: np.ndarray) -> np.ndarray:
    c = centroid(w)
    return np.sqrt((w * (T - c[..., None]) ** 2).sum(axis=-1) / w.sum(axis=-1))


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_flat_tile_gives_the_transmit_pulse_at_10_ns(engine):
    w = simulate_waveforms(np.full((2, 200, 200), 3.7, np.float32), engine=engine)
    assert w.shape == (2, N_SAMPLES) and w.dtype == np.float32
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(centroid(w), LEAD_NS, atol=1e-5)
    pulse = gaussian_pulse(6.0, 10)
    np.testing.assert_allclose(w[0, :21], pulse, atol=1e-7)
    assert np.all(w[:, 21:] == 0)
    # the Gaussian pulse has the nominal 6 ns FWHM: sigma = 6 / 2.3548
    np.testing.assert_allclose(rms_width(w[0]), 6.0 * FWHM_TO_SIGMA, rtol=2e-3)


def test_footprint_weights_sum_to_one_and_have_sigma_17_5():
    w = footprint_weights(200)
    assert w.shape == (200, 200)
    assert w.sum() == pytest.approx(1.0)
    c = (np.arange(200) + 0.5 - 100) * 0.5
    sigma = np.sqrt((w.sum(axis=0) * c**2).sum())
    # truncation at +-50 m (2.86 sigma) narrows the footprint by about 3 %
    assert 16.5 < sigma < 17.5


@pytest.mark.parametrize("slope_deg", [1.0, 3.0, 6.0])
def test_tilted_plane_broadens_the_pulse_as_geometry_predicts(slope_deg):
    slope = np.tan(np.radians(slope_deg))
    tiles = plane_tiles(1, slope)
    w = simulate_waveforms(tiles)[0]
    wx = footprint_weights(200).sum(axis=0)
    c = (np.arange(200) + 0.5 - 100) * 0.5
    var_x = (wx * c**2).sum() - (wx * c).sum() ** 2  # footprint variance along the slope
    var_surface_ns = var_x * (slope / BIN_M) ** 2
    var_pulse = (6.0 * FWHM_TO_SIGMA) ** 2
    # linear binning adds the variance of a two-point split, 1/6 bin^2 on average
    predicted = np.sqrt(var_pulse + var_surface_ns + 1 / 6)
    assert np.sum(w) == pytest.approx(1.0, abs=1e-5)
    assert rms_width(w) == pytest.approx(predicted, rel=0.02)
    # the centroid lies where the footprint's mean height puts it
    expected_centroid = LEAD_NS + (tiles.max() - slope * (wx * c).sum()) / BIN_M
    assert centroid(w) == pytest.approx(expected_centroid, abs=0.05)


def test_two_level_step_gives_two_modes_with_footprint_energy_ratio():
    dz = 3.0  # 20 bins
    tile = np.zeros((1, 200, 200), np.float32)
    tile[:, :, 120:] = -dz  # the eastern 40 m are 3 m lower
    hist = energy_histograms(tile, binning="nearest")[0]
    weights = footprint_weights(200)
    upper, lower = weights[:, :120].sum(), weights[:, 120:].sum()
    peaks = np.flatnonzero(hist > 0)
    assert list(peaks) == [10, 10 + round(dz / BIN_M)]
    assert hist[10] == pytest.approx(upper)
    assert hist[30] == pytest.approx(lower)
    assert hist[10] / hist[30] == pytest.approx(upper / lower)
    # after convolution the two modes stay 20 bins apart with the same energy ratio
    w = simulate_waveforms(tile)[0]
    assert w[10] / w[30] == pytest.approx(upper / lower, rel=1e-3)


def test_engines_agree_on_realistic_tiles():
    rng = np.random.default_rng(3)
    tiles = np.cumsum(rng.normal(0, 0.2, (16, 200, 200)), axis=2).astype(np.float32)
    a = simulate_waveforms(tiles, engine="numba")
    b = simulate_waveforms(tiles, engine="numpy")
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-5)


def test_unconvolved_histogram_is_available():
    h = simulate_waveforms(np.zeros((1, 200, 200), np.float32), convolve=False)[0]
    assert h[10] == pytest.approx(1.0) and h.sum() == pytest.approx(1.0)


def test_energy_beyond_the_record_is_dropped():
    tile = np.zeros((1, 200, 200), np.float32)
    tile[:, :, :100] = -100.0  # 667 bins below the top: outside the 544-sample record
    w = simulate_waveforms(tile)[0]
    assert w.sum() == pytest.approx(footprint_weights(200)[:, 100:].sum(), abs=1e-6)


def test_measured_pulse_keeps_the_centroid_and_energy():
    rng = np.random.default_rng(0)
    samples = np.arange(48)
    raw = 30 + 160 * np.exp(-0.5 * ((samples - 21.3) / 2.4) ** 2) + rng.normal(0, 1, 48)
    kernel = measured_pulse_kernel(raw)
    assert kernel.sum() == pytest.approx(1.0)
    assert len(kernel) % 2 == 1
    c = (kernel * np.arange(len(kernel))).sum()
    assert abs(c - len(kernel) // 2) <= 0.5
    tile = np.zeros((1, 200, 200), np.float32)
    tile[:, :, 100:] = -6.0  # second mode 40 bins later, well inside the record
    w = simulate_waveforms(tile, transmit_pulse=raw, lead_ns=30.0)[0]
    assert w.sum() == pytest.approx(1.0, abs=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="binning"):
        simulate_waveforms(np.zeros((1, 8, 8), np.float32), binning="cubic")
    with pytest.raises(ValueError, match="square"):
        simulate_waveforms(np.zeros((1, 8, 9), np.float32))
    with pytest.raises(ValueError, match="no energy"):
        measured_pulse_kernel(np.full(48, 30.0))
