"""Empirical distributions and degradation: acceptance rules, draws' moments, shifts."""

import dataclasses

import numpy as np
import pytest
from helpers import plane_tiles

from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    clean_targets,
    degrade,
    measure_shots,
    quiet_windows,
    read_distributions,
    write_distributions,
)
from cryolearn.signal import leading_edge_ns


def synthetic_shots(n=200, seed=0, noise_v=0.01):
    """Gaussian returns on a 0.14 V background, at known positions and amplitudes."""
    rng = np.random.default_rng(seed)
    t = np.arange(544)
    centre = rng.uniform(80, 200, n)
    amplitude = rng.uniform(0.3, 0.9, n)
    sigma = rng.uniform(2.0, 8.0, n)
    signal = amplitude[:, None] * np.exp(-0.5 * ((t - centre[:, None]) / sigma[:, None]) ** 2)
    background = np.full(n, 0.14, np.float32)
    waveform = background[:, None] + signal + rng.normal(0, noise_v, (n, 544))
    return waveform.astype(np.float32), background, np.full(n, noise_v, np.float32), amplitude


@pytest.fixture(scope="module")
def dist():
    waveform, background, sd, _ = synthetic_shots(400)
    return EmpiricalDistributions(width_edges_ns=np.array([0.0, 4.0, 6.0, 1000.0]),
                                  **measure_shots(waveform, background, sd))


def test_quiet_windows_follow_the_acceptance_rules():
    rng = np.random.default_rng(1)
    quiet = rng.normal(0, 0.01, (4, 64))
    loud = quiet.copy()
    loud[0, 10] = 0.07  # outside +-0.06 V
    stepped = quiet.copy()
    stepped[1, 20:] += 0.05  # a 0.05 V step, within +-0.06 V but too steep
    w = quiet_windows(np.concatenate([quiet, loud[:1], stepped[1:2]]).reshape(6, 64), 64)
    assert len(w) == 4


def test_measured_distributions_recover_known_shots():
    waveform, background, sd, amplitude = synthetic_shots()
    m = measure_shots(waveform, background, sd)
    assert len(m["amplitude_v"]) == len(amplitude)
    np.testing.assert_allclose(m["amplitude_v"], amplitude, atol=0.05)
    # most of each record is quiet: 544 // 64 = 8 windows a shot, ~3 hold the return
    assert 3 * len(amplitude) < len(m["noise"]) <= 8 * len(amplitude)
    assert np.std(m["noise"]) == pytest.approx(0.01, rel=0.1)


def test_draws_have_the_moments_of_the_distributions(dist):
    rng = np.random.default_rng(2)
    edges = dist.draw_leading_edge(20000, rng)
    assert edges.mean() == pytest.approx(dist.leading_edge_ns.mean(), rel=0.02)
    assert edges.std() == pytest.approx(dist.leading_edge_ns.std(), rel=0.05)
    noise = dist.draw_noise(500, 544, rng)
    assert noise.std() == pytest.approx(dist.noise.std(), rel=0.03)
    narrow = dist.draw_amplitude(np.full(5000, 3.0), rng)
    members = dist.amplitude_v[dist.width_ns < 4.0]
    assert narrow.mean() == pytest.approx(members.mean(), rel=0.05)
    assert set(np.unique(narrow)) <= set(members)


def test_distributions_round_trip_through_zarr(dist, tmp_path):
    write_distributions(dist, tmp_path / "d.zarr", {"seed": 1})
    back = read_distributions(tmp_path / "d.zarr")
    np.testing.assert_array_equal(back.noise, dist.noise)
    np.testing.assert_allclose(back.leading_edge_ns, dist.leading_edge_ns, rtol=1e-6)


def test_degrade_places_the_leading_edge_where_drawn(dist):
    clean = simulate_waveforms(plane_tiles(64, 0.05))
    quiet = dataclasses.replace(dist, noise=dist.noise * 0.0)
    rng = np.random.default_rng(3)
    degraded, shift = degrade(clean, quiet, rng)
    edges = leading_edge_ns(degraded, quiet.leading_edge_v)
    nearest = np.abs(edges[:, None] - quiet.leading_edge_ns[None]).min(axis=1)
    assert nearest.max() < 0.05  # every edge is one of the real shots' edges
    assert np.abs(shift).max() > 50  # and far from the library's 10 ns
    again, _ = degrade(clean, dist, rng)  # a fresh draw every call
    assert not np.allclose(again, degraded)


def test_targets_are_unit_peak_and_in_the_library_frame():
    clean = simulate_waveforms(plane_tiles(2, 0.0))
    t = clean_targets(clean)
    assert t.max(axis=1) == pytest.approx(1.0, abs=0.05)
    assert np.argmax(t[0]) == 10  # flat surface: the pulse peak sits at lead_ns
