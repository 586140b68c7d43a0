"""Classical alignment: the leading edge at a known time, shape and energy kept."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.shots.align import AlignSettings, align, record_noise_sd
from cryolearn.signal import gaussian_smooth

T = np.arange(544, dtype=np.float64)


def gaussian_return(centre: float, sigma: float, amplitude: float) -> np.ndarray:
    return amplitude * np.exp(-0.5 * ((T - centre) / sigma) ** 2)


def test_noise_sd_is_measured_beside_a_broad_return():
    rng = np.random.default_rng(1)
    records = gaussian_return(250.0, 40.0, 0.9) + rng.normal(0.0, 0.006, (200, 544))
    sd = record_noise_sd(records)
    assert np.median(sd) == pytest.approx(0.006, rel=0.05)


def test_the_leading_edge_is_the_first_crossing_of_four_noise_sd():
    # smoothing by 1 ns turns sigma 3 into sqrt(10) and the peak 0.8 into 0.8 * 3 / sqrt(10);
    # four noise sd (0.01 V) are crossed sigma' * sqrt(2 ln(peak' / 0.04)) before the centre
    rng = np.random.default_rng(2)
    centre, sigma, amplitude, noise = 200.0, 3.0, 0.8, 0.01
    records = gaussian_return(centre, sigma, amplitude) + rng.normal(0.0, noise, (300, 544))
    smoothed_sigma = np.hypot(sigma, 1.0)
    peak = amplitude * sigma / smoothed_sigma
    expected = centre - smoothed_sigma * np.sqrt(2 * np.log(peak / (4 * noise)))
    aligned, edge = align(records)
    assert np.median(edge) == pytest.approx(expected, abs=0.25)
    # the leading edge lands at lead_ns: the peak follows it by (centre - edge)
    peak_at = np.argmax(np.nanmean(aligned, axis=0))
    assert peak_at == round(10.0 + centre - expected)
    assert np.allclose(np.sum(aligned.astype(np.float64) ** 2, axis=1), 1.0, atol=1e-5)


def test_alignment_keeps_the_width_and_only_moves_the_record():
    broad = gaussian_return(300.0, 25.0, 0.5)[None]
    settings = AlignSettings(smooth_bins=0.0)
    aligned, edge = align(broad, settings)
    expected = gaussian_smooth(broad, 0.0)[0]
    moved = np.interp(T, T + (10.0 - edge[0]), expected, left=0.0, right=0.0)
    assert np.allclose(aligned[0], moved / np.linalg.norm(moved), atol=2e-3)


def test_a_record_without_a_return_has_no_alignment():
    rng = np.random.default_rng(3)
    records = np.vstack([rng.normal(0.0, 0.01, 544), gaussian_return(100.0, 3.0, 0.5)])
    records[0] = np.clip(records[0], -0.03, 0.03)  # noise never reaches 4 sd twice over
    aligned, edge = align(records, AlignSettings(threshold_sd=6.0))
    assert np.isnan(edge[0]) and np.all(np.isnan(aligned[0]))
    assert np.isfinite(edge[1]) and np.all(np.isfinite(aligned[1]))
