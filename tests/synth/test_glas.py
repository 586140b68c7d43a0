"""Synthetic GLAS campaigns: geometry, instrument calibration, files, truth, determinism."""

from datetime import date

import numpy as np
import pytest
import zarr

from cryolearn.constants import N_LONG_SAMPLES, SHOT_SPACING_M
from cryolearn.crevasse.library.forward import forward_model
from cryolearn.io.glas import (
    COMPRESSED_ROW_NUMBER,
    N_FINE_SAMPLES,
    UNIFORM_ROW_NUMBER,
    product_volt_table,
    read_glah01,
    read_glas_pair,
    shot_key,
)
from cryolearn.synth.glas import (
    Campaign,
    GroundTrack,
    Instrument,
    Laser,
    _record_gains,
    campaign_seed,
    cloud_flags,
    flag_rates,
    simulate_campaign,
    write_campaign,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams

LASER = Laser(pulse_fwhm_ns=4.6, energy_mj=50.0, first_year=2004.75, energy_decline_per_year=0.2)
TRACK = GroundTrack("0412", -194000.0, -2283000.0, 170.0, 3000.0)


@pytest.fixture(scope="module")
def world():
    return SyntheticWorld(WorldParams(seed=7, zone_size_m=150.0))


@pytest.fixture(scope="module")
def shots(world):
    return simulate_campaign(world, Campaign("L3A", date(2004, 10, 3), LASER), [TRACK],
                             forward_model(), seed=5,
                             instrument=Instrument(short_share=0.1, unmatched_share=0.1,
                                                   gate_offset_ns=(230.0, 20.0)))


def test_shots_run_along_the_track_170_m_apart(shots):
    steps = np.hypot(np.diff(shots.x), np.diff(shots.y))
    np.testing.assert_allclose(steps, SHOT_SPACING_M, rtol=1e-9)
    assert len(shots) == pytest.approx(TRACK.length_m / SHOT_SPACING_M, abs=1)
    # 40 shots a second, in records of 40 numbered 1..40
    np.testing.assert_allclose(np.diff(shots.time), 1 / 40, rtol=1e-5)
    assert shots.shot_count.min() == 1 and shots.shot_count.max() <= 40


def test_digitizer_counts_match_the_real_instrument(shots):
    counts = shots.counts
    assert np.all(counts == np.round(counts)) and counts.min() >= 0 and counts.max() <= 255
    base = np.median(counts[:, :30], axis=1)  # the surface is never that early in the gate
    assert 27 < np.median(base) < 33
    noise = counts[:, :30].std(axis=1)
    # 0.0075-0.0113 V of noise: 1.1-1.7 counts of volt_table_1 (0.0067 V a count)
    assert 1.0 < np.median(noise) < 2.0
    # the leading edge, 0.1 V (15 counts) above the background, where the gate put it
    lit = (counts - base[:, None] > 15).any(axis=1)
    edges = np.argmax(counts - base[:, None] > 15, axis=1)[lit]
    assert lit.mean() > 0.9 and 40 <= edges.min() and edges.max() <= 350


def test_truth_shares_sum_to_one_and_clean_waveforms_conserve_energy(shots):
    np.testing.assert_allclose(shots.class_fraction.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(shots.clean.sum(axis=1), 1.0, atol=1e-3)


def test_same_seed_same_campaign(world, shots):
    again = simulate_campaign(world, Campaign("L3A", date(2004, 10, 3), LASER), [TRACK],
                              forward_model(), seed=5,
                              instrument=Instrument(short_share=0.1, unmatched_share=0.1,
                                                    gate_offset_ns=(230.0, 20.0)))
    np.testing.assert_array_equal(shots.counts, again.counts)
    np.testing.assert_array_equal(shots.telemetered, again.telemetered)
    assert campaign_seed(5, "L3A") != campaign_seed(5, "L3B")


def test_laser_energy_falls_with_age():
    assert LASER.energy_in(2004.75) == 50.0
    assert LASER.energy_in(2008.75) == pytest.approx(50.0 * np.exp(-0.8))


def test_written_pair_reads_back_with_known_values(shots, tmp_path):
    l1, l6 = write_campaign(shots, tmp_path / "L3A", tmp_path / "truth.zarr", seed=5)
    read = read_glas_pair(l1, l6)
    rep = read.report
    assert rep["n_glah01"] == len(shots)
    assert rep["n_short"] == int((shots.waveform_type == 2).sum())
    assert rep["n_unmatched"] > 0
    assert len(read) == rep["n_kept"] < len(shots)
    idx = np.searchsorted(shot_key(shots.rec_ndx, shots.shot_count),
                          shot_key(read.rec_ndx, read.shot_count))
    np.testing.assert_allclose(read.x, shots.x[idx], atol=1e-3)
    np.testing.assert_allclose(read.y, shots.y[idx], atol=1e-3)
    volts = product_volt_table()[shots.counts[idx].astype(int)]
    rows = shots.location_index[idx]
    assert {UNIFORM_ROW_NUMBER, COMPRESSED_ROW_NUMBER} <= set(rows.tolist())
    assert rep["n_resampled"] == int((shots.location_index == COMPRESSED_ROW_NUMBER).sum())
    # the uniform row comes back exactly, in the time order the simulator drew
    uniform = rows == UNIFORM_ROW_NUMBER
    np.testing.assert_allclose(read.waveform[uniform], volts[uniform], rtol=1e-6)
    # the compressed row: its last 392 ns exactly, the earlier 4 ns means close to the record
    fine = N_LONG_SAMPLES - N_FINE_SAMPLES
    compressed = rows == COMPRESSED_ROW_NUMBER
    np.testing.assert_allclose(read.waveform[compressed][:, fine:], volts[compressed][:, fine:],
                               rtol=1e-6)
    error = read.waveform[compressed][:, :fine] - volts[compressed][:, :fine]
    noise_v = np.median(read.background_sd)
    assert np.sqrt(np.mean(error**2)) < 1.6 * noise_v
    # the files hold the product's order: the GLAH01 sample 0 is the latest return
    raw = read_glah01(l1)
    row = np.flatnonzero((raw["location_index"] == UNIFORM_ROW_NUMBER)
                         & (raw["waveform_type"] == 1))[0]
    k = np.searchsorted(shot_key(shots.rec_ndx, shots.shot_count),
                        shot_key(raw["rec_ndx"][row:row + 1], raw["shot_count"][row:row + 1]))
    np.testing.assert_allclose(raw["rec_waveform"][row], volts_of(shots.counts[k][0])[::-1],
                               rtol=1e-6)
    assert raw["rec_waveform"].max() <= product_volt_table()[-1] + 1e-6
    np.testing.assert_allclose(read.time, shots.time[idx])
    # 2004-10-03 is 1737 days after the J2000 epoch (2000-01-01 12:00 UTC)
    assert read.time.min() == pytest.approx(1737 * 86400 - 43200 + 3600)
    truth = zarr.open_group(str(tmp_path / "truth.zarr"), mode="r")
    assert truth["class_fraction"].shape == (len(shots), 8)
    assert truth.attrs["campaign"] == "L3A"
    # the product's flag is the imperfect one, the truth keeps both and their rates
    flagged = read_glas_pair(l1, l6).elev_use_flg == 1
    np.testing.assert_array_equal(flagged, shots.cloud_flag[idx])
    np.testing.assert_array_equal(truth["cloudy"][:], shots.cloudy)
    assert truth.attrs["cloud_flag"] == flag_rates(shots.cloudy, shots.cloud_flag)
    np.testing.assert_array_equal(truth["trunk_weight"][:], 0.0)  # this world has no trunk


def volts_of(counts: np.ndarray) -> np.ndarray:
    return product_volt_table()[counts.astype(int)]


def test_crevasse_fields_migrate_upglacier():
    moving = SyntheticWorld(WorldParams(crevasse_migration_m_per_year=50.0,
                                        crevasse_envelope_drift_per_year=0.0))
    x = np.linspace(-199000, -181000, 400)
    y = np.full_like(x, -2282000.0)
    env_2005 = moving._crevasse_envelope(x, y, 2005.0)
    env_2009 = moving._crevasse_envelope(x - 200.0, y, 2009.0)
    np.testing.assert_array_equal(env_2005, env_2009)  # 4 years x 50 m/yr towards -x


def test_elevation_is_the_footprint_weighted_mean_not_a_crevasse_floor():
    from cryolearn.footprint import footprint_weights
    from cryolearn.synth.glas import centroid_elevation

    flat = np.full((1, 200, 200), 812.0)
    crevasse = flat.copy()
    crevasse[0, :, 95:105] -= 30.0  # a 5 m wide, 30 m deep crevasse under the centre
    w = footprint_weights(200)
    share = w[:, 95:105].sum()  # the footprint's share over the crevasse, about 0.11
    np.testing.assert_allclose(centroid_elevation(flat), [812.0])
    np.testing.assert_allclose(centroid_elevation(crevasse), [812.0 - 30.0 * share])
    assert 0.10 < share < 0.12  # so GLAS sees 3.4 m below the surface, not 30 m


def test_shot_elevation_sits_at_the_centroid_of_its_clean_return(world, shots):
    from cryolearn.constants import BIN_M, LEAD_NS
    from cryolearn.footprint import footprint_weights
    from cryolearn.synth.glas import render_footprints

    rows = np.arange(0, len(shots.x), max(1, len(shots.x) // 12))
    surface = render_footprints(world, shots.x[rows], shots.y[rows], shots.attrs["year"])
    tiles, elevation = surface.heights, surface.elevation
    np.testing.assert_allclose(shots.elevation[rows], elevation)
    np.testing.assert_allclose(shots.relief_m[rows], surface.relief_m)
    # the same height from the clean waveform: its highest point sits at LEAD_NS, and its
    # centroid one ns later for every BIN_M the footprint's mean lies below that point
    heights = tiles.reshape(len(rows), -1).astype(np.float64)
    below_top = heights.max(axis=1) - heights @ footprint_weights(tiles.shape[1]).ravel()
    clean = shots.clean[rows].astype(np.float64)
    centroid_ns = (clean * np.arange(clean.shape[1])).sum(axis=1) / clean.sum(axis=1)
    np.testing.assert_allclose(centroid_ns, LEAD_NS + below_top / BIN_M, atol=0.3)


def test_truth_keeps_open_crevasses_apart_from_crevassed_zones(shots):
    from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES

    zone = shots.class_fraction[:, [CLASS_CODE[c] for c in CREVASSED_CLASSES]].sum(axis=1)
    # open crevasses lie inside crevassed zones: never more of the footprint
    assert np.all(shots.open_crevasse_fraction <= zone + 1e-9)
    assert (shots.open_crevasse_fraction > 0).any() and (zone > 0).any()
    # on ice with no crevassed zone under the footprint there is nothing open
    assert np.all(shots.open_crevasse_fraction[zone == 0] == 0)


def test_cloud_flag_is_a_reflectance_threshold_that_errs_both_ways():
    exact = Instrument(flag_reflectance=0.5, flag_reflectance_sd=0.0)
    reflectance = np.array([0.1, 0.49, 0.51, 0.9])
    flags = cloud_flags(np.random.default_rng(0), reflectance, exact)
    np.testing.assert_array_equal(flags, [True, True, False, False])
    cloudy = np.array([True, True, False, False, False])
    flag = np.array([True, False, True, False, False])
    assert flag_rates(cloudy, flag) == {"missed_cloudy_share": 0.5,
                                        "flagged_clear_share": pytest.approx(1 / 3)}
    # the demo's atmosphere: thin clouds go unflagged, a few clear shots are flagged
    rng = np.random.default_rng(1)
    n = 100_000
    cloudy = rng.random(n) < 0.15
    transmission = np.where(cloudy, rng.uniform(0.1, 0.7, n), rng.uniform(0.85, 1.0, n))
    rates = flag_rates(cloudy, cloud_flags(rng, transmission * rng.uniform(0.8, 1.0, n),
                                           Instrument()))
    assert rates["missed_cloudy_share"] == pytest.approx(0.23, abs=0.02)
    assert rates["flagged_clear_share"] == pytest.approx(0.027, abs=0.01)


def test_gain_answers_the_previous_records_peaks_and_a_pass_starts_from_its_own():
    inst = Instrument(reference_gain=13)
    # two records of 40 shots on one pass, then one record on a second pass
    rec = np.repeat([0, 1, 2], 40)
    track = np.repeat([0, 0, 1], 40)
    strength = np.repeat([0.5, 0.1, 0.25], 40)
    gains = _record_gains(strength, rec, track, inst)
    # 13 / 0.5 for the first record (its own ice), 13 / 0.5 for the next (the
    # record before it), 13 / 0.25 for the new pass (its own again)
    np.testing.assert_array_equal(np.unique(gains[rec == 0]), [26])
    np.testing.assert_array_equal(np.unique(gains[rec == 1]), [26])
    np.testing.assert_array_equal(np.unique(gains[rec == 2]), [52])


def test_broad_returns_are_amplified_to_the_flat_surfaces_peak():
    """Over the trunk the gain rises until broad returns peak near ``flat_peak_v``."""
    from cryolearn.io.glas import counts_to_volts
    from cryolearn.synth.trunk import TrunkParams

    trunk_world = SyntheticWorld(WorldParams(seed=7, trunk=TrunkParams()))
    track = GroundTrack("T", -168000.0, -2280000.0, 90.0, 1500.0)
    inst = Instrument(cloud_share=0.0, noise_gain_exponent=0.0)
    broad = simulate_campaign(trunk_world, Campaign("L3A", date(2004, 10, 3), LASER), [track],
                              forward_model(), seed=5, instrument=inst)
    flat = simulate_campaign(SyntheticWorld(WorldParams(seed=7, class_weights={"smooth": 1.0})),
                             Campaign("L3A", date(2004, 10, 3), LASER), [track],
                             forward_model(), seed=5, instrument=inst)
    assert np.median(broad.gain) > 3 * np.median(flat.gain)
    peak = [np.median(counts_to_volts(s.counts).max(axis=1) - counts_to_volts(s.background_counts))
            for s in (broad, flat)]
    assert peak[0] == pytest.approx(peak[1], rel=0.3)
    assert np.median(broad.noise_v) == pytest.approx(np.median(flat.noise_v), rel=0.1)
