"""The realism measurement: known answers on made-up waveforms, KS by hand, the skip."""

import json

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.realism import (
    STATISTICS,
    RealismSettings,
    compare,
    elevation_band,
    realism_report,
    realism_settings,
    synthetic_statistics,
    waveform_statistics,
)
from cryolearn.io.zarrstore import create_group, open_group, write_array

T = np.arange(544.0)


def gaussian(centre: float, sigma: float, height: float) -> np.ndarray:
    return height * np.exp(-0.5 * ((T - centre) / sigma) ** 2)


def noisy(rows: list[np.ndarray], sd: float = 0.005, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array(rows) + 0.2 + rng.normal(0, sd, (len(rows), 544))


def test_one_gaussian_return_has_its_width_extent_height_and_one_peak():
    stats = waveform_statistics(noisy([gaussian(300, 8.0, 1.0)] * 20))
    # the return is the Gaussian (σ 8.25 ns once smoothed by 2 ns) above 4 sd, 0.02 V of
    # a 0.97 V peak: ±2.78 σ, so 46 ns wide, with an RMS width of 0.977 σ of the raw
    # Gaussian inside it, 7.9 ns
    np.testing.assert_allclose(stats["rms_width_ns"], 7.9, rtol=0.02)
    np.testing.assert_allclose(stats["extent_ns"], 46, atol=2)
    assert (stats["n_peaks"] == 1).all()
    np.testing.assert_allclose(stats["peak_amplitude_v"], 1.0, atol=0.02)
    np.testing.assert_allclose(stats["background_sd_v"], 0.005, rtol=0.3)
    np.testing.assert_allclose(stats["snr"], 200, rtol=0.3)


def test_two_separate_returns_count_two_peaks_and_span_both():
    stats = waveform_statistics(noisy([gaussian(200, 3.0, 0.8) + gaussian(320, 3.0, 0.5)]))
    assert stats["n_peaks"].tolist() == [2]
    # smoothed, both are 3.6 ns wide and 0.67 and 0.42 V high: above 0.02 V from 2.65 σ
    # before the first to 2.46 σ after the second, 120 + 9.5 + 8.9 + 1 samples
    np.testing.assert_allclose(stats["extent_ns"], 139.4, atol=2)


def test_a_shot_without_return_has_no_width_and_no_extent():
    stats = waveform_statistics(noisy([np.zeros(544)], sd=0.005, seed=3))
    assert stats["extent_ns"][0] <= 1 and stats["n_peaks"][0] <= 1
    flat = waveform_statistics(np.full((1, 544), 0.2))
    assert np.isnan(flat["rms_width_ns"][0]) and flat["extent_ns"][0] == 0


def test_ks_is_zero_for_the_same_sample_and_one_for_disjoint_ones():
    a = {name: np.arange(10.0) for name in STATISTICS}
    b = {name: np.arange(10.0) + 100 for name in STATISTICS}
    same, apart = compare(a, a), compare(a, b)
    for name in STATISTICS:
        assert same[name]["ks"] == 0.0 and apart[name]["ks"] == 1.0
        assert same[name]["real_median"] == 4.5 and apart[name]["synthetic_median"] == 104.5


def test_the_band_is_the_real_shots_widened_or_the_configured_one():
    real = np.array([120.0, np.nan, 660.0])
    assert elevation_band(real, RealismSettings()) == (20.0, 760.0)
    assert elevation_band(real, RealismSettings(elevation_band_m=(100, 800))) == (100.0, 800.0)
    assert elevation_band(np.array([np.nan]), RealismSettings()) is None


def write_shots(path, elevations, flags=None):
    group = create_group(path)
    write_array(group, "waveform", noisy([gaussian(300, 4, 1)] * len(elevations)),
                ("shot", "sample"))
    write_array(group, "elevation", np.array(elevations, np.float64), ("shot",))
    flags = np.zeros(len(elevations), np.int8) if flags is None else np.array(flags, np.int8)
    write_array(group, "elev_use_flg", flags, ("shot",))
    return path


def test_only_synthetic_shots_in_the_band_are_compared_and_named(tmp_path):
    stores = {"L2A": write_shots(tmp_path / "L2A.zarr", [100, 1500, 300], [0, 0, 1]),
              "L1A": write_shots(tmp_path / "L1A.zarr", [2000, 400])}
    # measured in blocks of two, the statistics are those of the waveforms all at once
    stats, names, flagged, matched = synthetic_statistics(stores, (0.0, 500.0),
                                                          RealismSettings(), block_rows=2)
    assert matched and names == [("L1A", 1), ("L2A", 0), ("L2A", 2)]
    np.testing.assert_array_equal(flagged, [False, False, True])
    _, names, _, matched = synthetic_statistics(stores, (5000.0, 6000.0), RealismSettings())
    assert not matched and len(names) == 5
    waveforms = np.concatenate([open_group(stores["L1A"])["waveform"][[1]],
                                open_group(stores["L2A"])["waveform"][[0, 2]]])
    whole = waveform_statistics(waveforms, RealismSettings())
    assert set(stats) == set(whole)
    for name, values in whole.items():
        np.testing.assert_array_equal(stats[name], values)


def test_cloud_flagged_shots_are_left_out_of_the_comparison_but_reported(tmp_path):
    real = tmp_path / "real.txt"
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(4):  # text extract: lat, lon, elevation (mm), 48 transmit, 544 received
        received = np.clip(np.round(30 + rng.normal(0, 1, 544)), 0, 255)
        received[200:230] += 80
        rows.append(" ".join(str(int(v)) for v in [69_100_000, 310_500_000, 300_000,
                                                  *[30] * 48, *received]))
    real.write_text("\n".join(rows) + "\n")
    stores = {"L2A": write_shots(tmp_path / "L2A.zarr", [250, 320, 1500, 300], [0, 1, 0, 0])}
    report, _, synthetic = realism_report([real], stores, tmp_path / "realism.json")
    assert report["n_synthetic_in_band"] == 3 and report["n_cloud_flagged"] == 1
    assert report["n_synthetic"] == 2 and report["synthetic_shots"] == [["L2A", 0], ["L2A", 3]]
    assert all(len(v) == 2 for v in synthetic.values())
    assert set(report["statistics_in_band"]) == set(report["statistics"])
    kept, _, everything = realism_report([real], stores, tmp_path / "all.json",
                                         RealismSettings(exclude_cloud_flagged=False))
    assert kept["n_synthetic"] == 3 and len(everything["snr"]) == 3


def test_without_real_shots_the_report_says_so(tmp_path):
    stores = {"L2A": write_shots(tmp_path / "L2A.zarr", [100])}
    report, real, synthetic = realism_report([tmp_path / "nowhere"], stores,
                                             tmp_path / "realism.json")
    assert report["skipped"].startswith(f"no real GLAS shots at {tmp_path / 'nowhere'}")
    assert json.loads((tmp_path / "realism.json").read_text()) == report
    assert "statistics" not in report
    assert all(len(real[name]) == len(synthetic[name]) == 0 for name in STATISTICS)


def test_settings_refuse_an_unknown_key_by_name():
    assert realism_settings({"real": ["x"], "elevation_band_m": [1, 2]}).elevation_band_m == (1, 2)
    with pytest.raises(ValueError, match=r"^realism: unknown key\(s\) \['n_sigmas'\]"):
        realism_settings({"n_sigmas": 3})
