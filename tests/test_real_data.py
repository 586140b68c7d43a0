"""Real GLAS transmit pulses (../shared/data) drive the forward model."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import shared_data_dir

from cryolearn.crevasse.library.forward import measured_pulse_kernel, simulate_waveforms

pytestmark = pytest.mark.realdata

GLAS_TEXT = shared_data_dir() / "glas_jakobshavn" / "track1wcoord.txt"


@pytest.fixture(scope="module")
def shots():
    if not GLAS_TEXT.exists():
        pytest.skip(f"real GLAS sample not found at {GLAS_TEXT}")
    manifest = yaml.safe_load((Path(__file__).parent / "data_manifest.yaml").read_text())
    expected = next(m["sha256"] for m in manifest if m["name"].endswith("track1wcoord.txt"))
    assert hashlib.sha256(GLAS_TEXT.read_bytes()).hexdigest() == expected
    return np.loadtxt(GLAS_TEXT, dtype=np.float64)


def rms_width(w):
    t = np.arange(w.shape[-1])
    c = (w * t).sum(-1) / w.sum(-1)
    return np.sqrt((w * (t - c[..., None]) ** 2).sum(-1) / w.sum(-1))


def test_measured_glas_pulses_are_a_few_ns_wide(shots):
    transmit = shots[:, 3:51]
    kernels = [measured_pulse_kernel(p) for p in transmit]
    widths = np.array([rms_width(k) for k in kernels])
    # the GLAS 1064 nm pulse is about 5-6 ns FWHM: RMS width 2-3.5 ns
    assert np.all((widths > 1.5) & (widths < 4.0)), widths


def test_flat_tile_with_a_real_pulse_returns_that_pulse(shots):
    pulse = shots[0, 3:51]
    kernel = measured_pulse_kernel(pulse)
    half = len(kernel) // 2
    w = simulate_waveforms(np.zeros((1, 200, 200), np.float32), transmit_pulse=pulse,
                           lead_ns=float(half))[0]
    assert w.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(w[: len(kernel)], kernel, atol=1e-7)


def test_real_returns_are_wider_than_the_pulse_over_crevassed_ice(shots):
    transmit = shots[:, 3:51]
    received = shots[:, 51:]
    baseline = np.median(received[:, :50], axis=1, keepdims=True)
    returns = np.clip(received - baseline - 6.0, 0, None)  # about 3 sigma of noise
    strong = returns.sum(axis=1) > 200
    tx_width = np.array([rms_width(measured_pulse_kernel(p)) for p in transmit])
    rx_width = rms_width(returns[strong])
    assert strong.sum() > 50
    assert np.median(rx_width) > 2 * np.median(tx_width[strong])
