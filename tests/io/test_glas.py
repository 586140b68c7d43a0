"""GLAS readers and writers: GLAH01/GLAH06 HDF5 round trips, the join, bad files, text extract."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import fact_sample_table, shared_data_dir
from rasterio.warp import transform as warp_transform

from cryolearn.constants import (
    GLAS_FILL,
    GLAS_NULL_LOCATION_INDEX,
    N_LONG_SAMPLES,
    N_TRANSMIT_SAMPLES,
    SATURATION_V,
)
from cryolearn.io.glas import (
    GlasError,
    ShotSet,
    join_shots,
    product_sample_table,
    product_volt_table,
    read_glah01,
    read_glah06,
    read_glah14,
    read_glas_pair,
    read_glas_text,
    write_glah01,
    write_glah06,
)

REAL_TEXT = shared_data_dir() / "glas_jakobshavn" / "track1wcoord.txt"
LAT0, LON0 = 69.2, 310.5  # 69.2 N, 49.5 W


# --------------------------------------------------------------------------- builders

#: the product's volt_table_1 at a few counts (carbonplan/trace data/volt_table.csv)
VOLTS_AT = {0: -0.195279, 1: -0.188604, 30: 0.004971, 127: 0.652446, 128: 0.658924,
            255: 1.44607}
#: 1-based location index of the uniform 1 ns row of FACT_TABLE
UNIFORM = 4


def time_ordered(n: int = 80) -> np.ndarray:
    """Known waveforms in time order: one Gaussian return, its peak at sample 100 + i."""
    t = np.arange(N_LONG_SAMPLES)
    peaks = 100 + np.arange(n)
    waveform = 0.05 + 0.8 * np.exp(-0.5 * ((t[None, :] - peaks[:, None]) / 3.0) ** 2)
    return waveform.astype(np.float32)


def glah01_arrays(n: int = 80, first_rec: int = 5000) -> dict[str, np.ndarray]:
    """Known GLAH01 values, the waveforms of :func:`time_ordered` stored latest first."""
    i = np.arange(n)
    transmit = 0.02 + np.exp(-0.5 * ((np.arange(N_TRANSMIT_SAMPLES) - 20) / 2.5) ** 2)
    return {
        "rec_ndx": first_rec + i // 40,
        "shot_count": i % 40 + 1,
        "utc_time": 2.2e8 + 0.025 * i,
        "rec_waveform": np.ascontiguousarray(time_ordered(n)[:, ::-1]),
        "location_index": np.full(n, UNIFORM, dtype=np.int32),
        "sample_location_table": fact_sample_table(),
        "transmit": np.repeat(transmit[None].astype(np.float32), n, axis=0),
        "waveform_type": np.ones(n, dtype=np.int8),
        "bg_mean": np.full(n, 0.05) + 0.001 * i,
        "bg_sdev": np.full(n, 0.008),
        "gain": 13 + i % 3,
    }


def glah06_arrays(g01: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Geolocation for the shots of ``g01``: a track northward near 69.2 N, 49.5 W."""
    n = len(g01["rec_ndx"])
    i = np.arange(n)
    return {
        "rec_ndx": g01["rec_ndx"].copy(),
        "shot_count": g01["shot_count"].copy(),
        "lat": LAT0 + 0.0015 * i,
        "lon": np.full(n, LON0) - 0.0002 * i,
        "elev": 400.0 + 0.5 * i,
        "sat_corr_flg": (i % 2).astype(np.int8),
        "elev_use_flg": np.zeros(n, dtype=np.int8),
    }


def write_pair(tmp_path: Path, g01: dict, g06: dict, name: str = "g") -> tuple[Path, Path]:
    p01 = write_glah01(tmp_path / f"{name}_GLAH01.h5", **g01, attrs={"short_name": "GLAH01"})
    p06 = write_glah06(tmp_path / f"{name}_GLAH06.h5", **g06, attrs={"short_name": "GLAH06"})
    return p01, p06


def text_line(lat: float, lon: float, elev_mm: int, tx: np.ndarray, rx: np.ndarray) -> str:
    values = [round(lat * 1e6), round(lon * 1e6), elev_mm, *tx.tolist(), *rx.tolist()]
    return " ".join(str(v) for v in values)


# --------------------------------------------------------------------------- HDF5 round trip


def test_round_trip_keeps_known_values(tmp_path):
    g01 = glah01_arrays()
    g06 = glah06_arrays(g01)
    g06["lon"][5] = 310.0  # exactly 50 W
    # GLAH06 records in another order: the join must not rely on it
    perm = np.random.default_rng(0).permutation(len(g06["rec_ndx"]))
    shots = read_glas_pair(*write_pair(tmp_path, g01, {k: v[perm] for k, v in g06.items()}))

    assert len(shots) == 80
    assert shots.report == {"n_glah01": 80, "n_long": 80, "n_short": 0, "n_missing_type": 0,
                            "n_other_type": 0, "n_resampled": 0, "n_null_location": 0,
                            "n_short_location_row": 0, "n_unmatched": 0,
                            "n_fill_geolocation": 0, "n_kept": 80}
    assert "g_GLAH01.h5" in shots.source and "g_GLAH06.h5" in shots.source
    np.testing.assert_array_equal(shots.rec_ndx, g01["rec_ndx"])
    np.testing.assert_array_equal(shots.shot_count, g01["shot_count"])
    assert shots.rec_ndx.dtype == np.int64 and shots.shot_count.dtype == np.int32
    np.testing.assert_array_equal(shots.time, g01["utc_time"])
    # stored latest first, returned earliest first
    np.testing.assert_array_equal(shots.waveform, time_ordered(80))
    assert shots.waveform.dtype == np.float32 and shots.waveform.shape == (80, 544)
    assert int(np.argmax(shots.waveform[7])) == 107
    assert not shots.saturated.any()
    np.testing.assert_array_equal(shots.transmit, g01["transmit"])
    np.testing.assert_allclose(shots.background_mean, 0.05 + 0.001 * np.arange(80), rtol=1e-6)
    np.testing.assert_allclose(shots.background_sd, 0.008, rtol=1e-6)
    np.testing.assert_array_equal(shots.gain, 13 + np.arange(80) % 3)
    np.testing.assert_array_equal(shots.lat, g06["lat"])
    np.testing.assert_array_equal(shots.elevation, g06["elev"])
    np.testing.assert_array_equal(shots.sat_corr_flg, np.arange(80) % 2)
    np.testing.assert_array_equal(shots.elev_use_flg, 0)

    # longitude 0-360 -> -180..180
    assert shots.lon[5] == pytest.approx(-50.0)
    assert shots.lon[0] == pytest.approx(-49.5)
    np.testing.assert_allclose(shots.lon, g06["lon"] - 360.0)

    # EPSG:3413 positions are rasterio's transform of the shots' lat/lon
    x, y = warp_transform("EPSG:4326", "EPSG:3413", shots.lon.tolist(), shots.lat.tolist())
    np.testing.assert_allclose(shots.x, x)
    np.testing.assert_allclose(shots.y, y)
    # 69.2 N, 49.5 W lies at about (-178.7 km, -2270.3 km) on Jakobshavn
    assert shots.x[0] == pytest.approx(-178_673.7, abs=1.0)
    assert shots.y[0] == pytest.approx(-2_270_264.4, abs=1.0)
    # northward along the track (shot 5, moved to 50 W, aside): y grows toward the pole
    assert np.all(np.diff(np.delete(shots.y, 5)) > 0)


def test_readers_return_what_the_writers_wrote(tmp_path):
    g01 = glah01_arrays(n=12)
    g01["utc_time"][3] = np.nan  # written as fill, read back as NaN
    g06 = glah06_arrays(g01)
    g06["elev"][4] = np.nan
    p01, p06 = write_pair(tmp_path, g01, g06)
    with h5py.File(p06) as f:
        assert f["Data_40HZ/Elevation_Surfaces/d_elev"][4] == GLAS_FILL
        assert f["Data_40HZ/Geolocation/d_lon"].dtype == np.float64
        assert f["Data_40HZ/Quality/elev_use_flg"].dtype == np.int8
        assert f["Data_40HZ/Time/i_rec_ndx"].compression == "gzip"
        assert f.attrs["short_name"] == "GLAH06"
    with h5py.File(p01) as f:
        assert f["Data_40HZ/Waveform/RecWaveform/r_rng_wf"].dtype == np.float32
        assert f["Data_40HZ/Waveform/Characteristics/i_waveformType"].dtype == np.int8
        assert f["Data_40HZ/Time/d_UTCTime_40"][3] == GLAS_FILL
        assert f["ANCILLARY_DATA"].attrs["rec_wf_sample_location_table"].shape == (5, 544)

        assert f["Data_40HZ/Waveform/RecWaveform/i_rec_wf_location_index"].dtype == np.int8
        assert f["ANCILLARY_DATA"].attrs["volt_table_1"].shape == (256,)

    r01 = read_glah01(p01)
    assert set(r01) == {*g01, "volt_table"}
    for count, volts in VOLTS_AT.items():
        assert r01["volt_table"][count] == pytest.approx(volts, abs=5e-7)
    for key, value in g01.items():
        np.testing.assert_array_equal(r01[key], value, err_msg=key)
    r06 = read_glah06(p06)
    for key, value in g06.items():
        np.testing.assert_array_equal(r06[key], value, err_msg=key)
    np.testing.assert_array_equal(read_glah14(p06)["lat"], g06["lat"])

    shots = join_shots(r01, r06, glah01_path=p01, glah06_path=p06)
    assert np.isnan(shots.time[3]) and np.isnan(shots.elevation[4])
    assert np.isfinite(np.delete(shots.time, 3)).all()


def test_join_drops_and_counts_unmatched_records(tmp_path):
    g01 = glah01_arrays(n=80)
    g06 = glah06_arrays(g01)
    gone = [0, 41, 79]
    g06 = {k: np.delete(v, gone) for k, v in g06.items()}
    shots = read_glas_pair(*write_pair(tmp_path, g01, g06))
    assert len(shots) == 77
    assert shots.report["n_unmatched"] == 3
    assert shots.report["n_kept"] == 77
    kept = np.delete(np.arange(80), gone)
    np.testing.assert_array_equal(shots.shot_count, g01["shot_count"][kept])
    # every shot keeps its own geolocation
    np.testing.assert_array_equal(shots.lat, g06["lat"])
    np.testing.assert_array_equal(shots.waveform, time_ordered(80)[kept])


def test_short_and_missing_waveforms_are_dropped_and_counted(tmp_path):
    g01 = glah01_arrays(n=40)
    g01["waveform_type"][[1, 2, 3, 10]] = 2
    g01["waveform_type"][[20, 30]] = 0
    shots = read_glas_pair(*write_pair(tmp_path, g01, glah06_arrays(g01)))
    r = shots.report
    assert (r["n_glah01"], r["n_long"], r["n_short"], r["n_missing_type"]) == (40, 34, 4, 2)
    assert len(shots) == r["n_kept"] == 34
    assert not np.isin(shots.shot_count, [2, 3, 4, 11, 21, 31]).any()
    dropped = sum(r[k] for k in ("n_short", "n_missing_type", "n_other_type",
                                 "n_null_location", "n_short_location_row", "n_unmatched",
                                 "n_fill_geolocation"))
    assert dropped + r["n_kept"] == r["n_glah01"]


def test_two_ns_table_row_is_resampled_onto_1_ns(tmp_path):
    g01 = glah01_arrays(n=4)
    table = fact_sample_table()
    table[1] = -2.0 * np.arange(N_LONG_SAMPLES)  # 0, -2, -4, ... -1086 ns
    g01["sample_location_table"] = table
    g01["location_index"][1] = 2
    raw = np.random.default_rng(1).uniform(0.0, 1.0, N_LONG_SAMPLES).astype(np.float32)
    g01["rec_waveform"][1] = raw
    shots = read_glas_pair(*write_pair(tmp_path, g01, glah06_arrays(g01)))
    assert shots.report["n_resampled"] == 1
    w = shots.waveform[1]
    # output sample i lies at i - 543 ns; telemetered sample m at -2m ns
    np.testing.assert_allclose(w[543::-2], raw[:272], rtol=1e-6)  # odd i: on a sample
    np.testing.assert_allclose(w[542::-2], 0.5 * (raw[:272] + raw[1:273]), rtol=1e-6)
    assert w[536] == pytest.approx(0.5 * (raw[3] + raw[4]), rel=1e-6)  # -7 ns
    # the shots on the uniform row are only reversed
    np.testing.assert_array_equal(shots.waveform[[0, 2, 3]], time_ordered(4)[[0, 2, 3]])


def test_compressed_row_is_resampled_and_counted(tmp_path):
    g01 = glah01_arrays(n=2)
    g01["location_index"][0] = 5
    raw = np.arange(N_LONG_SAMPLES, dtype=np.float32) / 1000.0
    g01["rec_waveform"][0] = raw
    shots = read_glas_pair(*write_pair(tmp_path, g01, glah06_arrays(g01)))
    assert shots.report["n_resampled"] == 1
    w = shots.waveform[0]
    # the 1 ns part (-391..0 ns) is the first 392 samples reversed
    np.testing.assert_allclose(w[152:], raw[391::-1], rtol=1e-6)
    # -393 ns lies 2 of the 2.5 ns from sample 391 (-391) to sample 392 (-393.5)
    assert w[150] == pytest.approx(raw[391] + 0.8 * (raw[392] - raw[391]), rel=1e-6)
    # -397 ns lies 0.5 ns after sample 393 (-397.5) toward sample 392 (-393.5)
    assert w[146] == pytest.approx(raw[393] + 0.125 * (raw[392] - raw[393]), rel=1e-6)
    # -543 ns: between -541.5 (sample 429) and -545.5 (sample 430)
    assert w[0] == pytest.approx(raw[429] + 0.375 * (raw[430] - raw[429]), rel=1e-6)
    np.testing.assert_array_equal(shots.waveform[1], time_ordered(2)[1])


def test_null_location_and_short_row_are_dropped_and_counted(tmp_path):
    g01 = glah01_arrays(n=40)
    g01["location_index"][[4, 5, 6]] = GLAS_NULL_LOCATION_INDEX
    g01["location_index"][9] = 3  # a short-waveform row: 200 valid entries
    shots = read_glas_pair(*write_pair(tmp_path, g01, glah06_arrays(g01)))
    assert shots.report["n_null_location"] == 3
    assert shots.report["n_short_location_row"] == 1
    assert len(shots) == 36
    assert not np.isin(shots.shot_count, [5, 6, 7, 10]).any()


def test_saturation_is_the_top_level_of_the_files_volt_table(tmp_path):
    g01 = glah01_arrays(n=6)
    levels = np.linspace(-0.2, 1.0, 256)
    g01["rec_waveform"][2, 300] = 1.0
    g01["rec_waveform"][4, 10] = levels[-2]  # one level below: not saturated
    p01, p06 = tmp_path / "a_GLAH01.h5", tmp_path / "a_GLAH06.h5"
    write_glah01(p01, **g01, volt_table=levels)
    write_glah06(p06, **glah06_arrays(g01))
    np.testing.assert_array_equal(read_glas_pair(p01, p06).saturated,
                                  [False, False, True, False, False, False])
    # without a volt_table_1, the product's top level (1.44607 V) is saturation
    g01["rec_waveform"][3, 0] = VOLTS_AT[255]
    write_glah01(p01, **g01, volt_table=None)
    np.testing.assert_array_equal(read_glas_pair(p01, p06).saturated,
                                  [False, False, False, True, False, False])


def test_fill_geolocation_is_dropped_and_counted(tmp_path):
    g01 = glah01_arrays(n=40)
    g06 = glah06_arrays(g01)
    g06["lat"][[2, 3]] = np.nan
    g06["lon"][7] = np.nan
    shots = read_glas_pair(*write_pair(tmp_path, g01, g06))
    assert shots.report["n_fill_geolocation"] == 3
    assert len(shots) == 37
    assert np.isfinite(shots.x).all() and np.isfinite(shots.y).all()


def test_shotset_len_and_subset(tmp_path):
    g01 = glah01_arrays(n=40)
    shots = read_glas_pair(*write_pair(tmp_path, g01, glah06_arrays(g01)))
    high = shots.subset(shots.lat > LAT0 + 0.0015 * 29.5)
    assert len(high) == 10
    np.testing.assert_array_equal(high.shot_count, np.arange(31, 41))
    assert high.waveform.shape == (10, 544) and high.report == shots.report
    picked = shots.subset([3, 0])
    np.testing.assert_array_equal(picked.shot_count, [4, 1])
    np.testing.assert_array_equal(picked.x, shots.x[[3, 0]])
    assert len(shots.subset(5)) == 1


# --------------------------------------------------------------------------- bad files


def test_missing_dataset_names_file_and_dataset(tmp_path):
    g01 = glah01_arrays(n=8)
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    with h5py.File(p01, "a") as f:
        del f["Data_40HZ/Waveform/Characteristics/d_4nsBgSDEV"]
    with h5py.File(p06, "a") as f:
        del f["Data_40HZ/Elevation_Surfaces/d_elev"]
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*Data_40HZ/Waveform/Characteristics/"
                                        r"d_4nsBgSDEV.*missing"):
        read_glas_pair(p01, p06)
    with pytest.raises(GlasError, match=r"g_GLAH06\.h5.*Data_40HZ/Elevation_Surfaces/d_elev"):
        read_glah06(p06)


def test_missing_sample_location_table(tmp_path):
    g01 = glah01_arrays(n=8)
    p01, _ = write_pair(tmp_path, g01, glah06_arrays(g01))
    with h5py.File(p01, "a") as f:
        del f["ANCILLARY_DATA"].attrs["rec_wf_sample_location_table"]
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*ANCILLARY_DATA.*"
                                        r"rec_wf_sample_location_table.*missing"):
        read_glah01(p01)


def test_no_matching_glah06_records_names_both_files(tmp_path):
    g01 = glah01_arrays(n=40)
    g06 = glah06_arrays(glah01_arrays(n=40, first_rec=9000))  # another stretch of orbit
    p01, p06 = write_pair(tmp_path, g01, g06)
    with pytest.raises(GlasError) as info:
        read_glas_pair(p01, p06)
    message = str(info.value)
    assert str(p01) in message and str(p06) in message
    assert "Data_40HZ/Time/i_rec_ndx" in message


def test_truncated_hdf5_is_not_readable(tmp_path):
    g01 = glah01_arrays(n=80)
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    data = p01.read_bytes()
    p01.write_bytes(data[: len(data) // 2])
    with pytest.raises(GlasError, match=re.escape(str(p01)) + r".*not a readable HDF5 file"):
        read_glas_pair(p01, p06)


def test_text_file_is_not_hdf5(tmp_path):
    g01 = glah01_arrays(n=8)
    p01, _ = write_pair(tmp_path, g01, glah06_arrays(g01))
    fake = tmp_path / "fake_GLAH06.h5"
    fake.write_text("this is not HDF5\n")
    with pytest.raises(GlasError, match=r"fake_GLAH06\.h5.*not a readable HDF5 file"):
        read_glas_pair(p01, fake)
    with pytest.raises(GlasError, match=r"absent\.h5.*no such"):
        read_glah06(tmp_path / "absent.h5")


def test_waveforms_of_the_wrong_length(tmp_path):
    g01 = glah01_arrays(n=8)
    g01["rec_waveform"] = g01["rec_waveform"][:, :543]
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*Data_40HZ/Waveform/RecWaveform/r_rng_wf"
                                        r".*543 samples.*expected 544"):
        read_glas_pair(p01, p06)


def test_transmit_of_the_wrong_length(tmp_path):
    g01 = glah01_arrays(n=8)
    g01["transmit"] = g01["transmit"][:, :40]
    p01, _ = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=r"Data_40HZ/Waveform/TransmitWaveform/r_tx_wf.*"
                                        r"40 samples.*expected 48"):
        read_glah01(p01)


def test_per_shot_datasets_of_different_lengths_name_the_offender(tmp_path):
    g01 = glah01_arrays(n=8)
    g01["gain"] = g01["gain"][:7]
    p01, _ = write_pair(tmp_path, g01, glah06_arrays(glah01_arrays(n=8)))
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*Data_40HZ/Waveform/Characteristics/"
                                        r"i_gainSet1064 has 7 shots.*i_rec_ndx has 8"):
        read_glah01(p01)


def test_all_fill_geolocation_names_glah06_and_d_lat(tmp_path):
    g01 = glah01_arrays(n=12)
    g06 = glah06_arrays(g01)
    g06["lat"][:] = GLAS_FILL
    g06["lon"][:] = GLAS_FILL
    p01, p06 = write_pair(tmp_path, g01, g06)
    with pytest.raises(GlasError, match=re.escape(str(p06)) + r".*Data_40HZ/Geolocation/d_lat"):
        read_glas_pair(p01, p06)


def test_all_short_waveforms_say_so_with_counts(tmp_path):
    g01 = glah01_arrays(n=15)
    g01["waveform_type"][:12] = 2
    g01["waveform_type"][12:] = 0
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=re.escape(str(p01)) + r".*i_waveformType holds no long "
                                        r"waveforms: 12 short, 3 missing"):
        read_glas_pair(p01, p06)


def test_all_null_locations_is_an_error(tmp_path):
    g01 = glah01_arrays(n=6)
    g01["location_index"][:] = GLAS_NULL_LOCATION_INDEX
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*i_rec_wf_location_index"):
        read_glas_pair(p01, p06)


@pytest.mark.parametrize("bad", [9, 0, 6])
def test_location_index_outside_1_to_5(tmp_path, bad):
    g01 = glah01_arrays(n=6)
    g01["location_index"][2] = bad  # 0 was a row in a 0-based reading; the product is 1-based
    p01, p06 = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=rf"g_GLAH01\.h5.*i_rec_wf_location_index holds "
                                        rf"\[{bad}\], neither a row number 1-5"):
        read_glas_pair(p01, p06)


def wrong_shape(table: np.ndarray) -> np.ndarray:
    return table[:4]


def later_sample(table: np.ndarray) -> np.ndarray:
    table[4, 300] = -250.0  # sample 300 later than sample 299
    return table


def increasing_row(table: np.ndarray) -> np.ndarray:
    table[3] = np.arange(544.0)  # 0, 1, 2, ... : an old reading, not the product's
    return table


@pytest.mark.parametrize(("edit", "message"), [
    (wrong_shape, r"rec_wf_sample_location_table has shape \(4, 544\), expected \(5, 544\)"),
    (later_sample, r"rec_wf_sample_location_table row 4 is not monotonic: sample 300 holds "
                   r"-250 ns after -299"),
    (increasing_row, r"row 3 is not monotonic: sample 1 holds 1 ns after 0"),
])
def test_a_table_not_in_the_products_form_is_refused(tmp_path, edit, message):
    g01 = glah01_arrays(n=6)
    g01["sample_location_table"] = edit(g01["sample_location_table"])
    p01, _ = write_pair(tmp_path, g01, glah06_arrays(g01))
    with pytest.raises(GlasError, match=r"g_GLAH01\.h5.*" + message):
        read_glah01(p01)


@pytest.mark.parametrize("levels", [np.linspace(-0.2, 1.4, 255), np.linspace(-0.2, 1.4, 512)])
def test_volt_table_of_the_wrong_length(tmp_path, levels):
    g01 = glah01_arrays(n=6)
    p01 = write_glah01(tmp_path / "v_GLAH01.h5", **g01, volt_table=levels)
    with pytest.raises(GlasError, match=rf"v_GLAH01\.h5.*ANCILLARY_DATA attribute volt_table_1 "
                                        rf"has shape \({len(levels)},\), expected \(256,\)"):
        read_glah01(p01)


def test_volt_table_that_does_not_increase(tmp_path):
    levels = np.linspace(-0.2, 1.4, 256)
    levels[100] = levels[99]
    p01 = write_glah01(tmp_path / "v_GLAH01.h5", **glah01_arrays(n=6), volt_table=levels)
    with pytest.raises(GlasError, match=r"v_GLAH01\.h5.*volt_table_1 does not increase: "
                                        r"count 100"):
        read_glah01(p01)


# --------------------------------------------------------------------------- text extract


def write_text_extract(path: Path, n: int = 45) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    rx = rng.integers(28, 33, size=(n, N_LONG_SAMPLES))
    rx[:, 200:210] = 180
    tx = rng.integers(0, 256, size=(n, N_TRANSMIT_SAMPLES))
    lat = 69.1 + 0.001 * np.arange(n)
    lon = 310.45 + 0.0001 * np.arange(n)
    elev_mm = 350_000 + 17 * np.arange(n)
    path.write_text("\n".join(text_line(lat[i], lon[i], int(elev_mm[i]), tx[i], rx[i])
                              for i in range(n)) + "\n")
    return {"rx": rx, "tx": tx, "lat": lat, "lon": lon, "elev_mm": elev_mm}


def test_text_extract_round_trip(tmp_path):
    truth = write_text_extract(tmp_path / "track.txt")
    shots = read_glas_text(tmp_path / "track.txt")
    assert isinstance(shots, ShotSet) and len(shots) == 45
    assert shots.report["n_kept"] == 45 and shots.source.endswith("track.txt")
    np.testing.assert_array_equal(shots.rec_ndx[[0, 39, 40, 44]], [0, 0, 1, 1])
    np.testing.assert_array_equal(shots.shot_count[[0, 39, 40, 44]], [1, 40, 1, 5])
    np.testing.assert_allclose(shots.lat, truth["lat"], atol=1e-6)
    np.testing.assert_allclose(shots.lon, truth["lon"] - 360.0, atol=1e-6)
    assert shots.lon[0] == pytest.approx(-49.55)
    np.testing.assert_allclose(shots.elevation, truth["elev_mm"] / 1000.0)
    assert shots.elevation[2] == pytest.approx(350.034)
    # received counts are stored latest first: the return (file samples 200-209, 180
    # counts) comes back at 334-343 ns, in volts of volt_table_1 (count 129 plus 51 steps)
    assert np.all(shots.waveform[:, 334:344] == pytest.approx(0.665122 + 51 * 0.006198))
    counts = truth["rx"][:, ::-1]
    assert shots.waveform[0, 0] == pytest.approx(volts_of(counts[0, 0]), abs=5e-7)
    assert shots.transmit[0, 5] == pytest.approx(volts_of(truth["tx"][0, 5]), abs=5e-7)
    np.testing.assert_allclose(shots.background_mean,
                               [volts_of(c) for c in np.median(counts[:, :50], axis=1)],
                               atol=5e-7)
    np.testing.assert_allclose(shots.background_sd,
                               np.std(counts[:, :50], axis=1) * 0.006675, rtol=1e-5)
    assert not shots.saturated.any()
    assert np.isnan(shots.time).all()
    assert (shots.gain == -1).all() and (shots.sat_corr_flg == -1).all()
    assert (shots.elev_use_flg == -1).all()
    x, y = warp_transform("EPSG:4326", "EPSG:3413", shots.lon.tolist(), shots.lat.tolist())
    np.testing.assert_allclose(shots.x, x)
    np.testing.assert_allclose(shots.y, y)


def volts_of(count: float) -> float:
    """volt_table_1 at a count below 128: -0.195279 V plus 0.006675 V a count."""
    return -0.195279 + 0.006675 * count


def test_text_saturation_is_count_255(tmp_path):
    truth = write_text_extract(tmp_path / "track.txt", n=3)
    lines = (tmp_path / "track.txt").read_text().splitlines()
    parts = lines[1].split()
    parts[51 + 205] = "255"
    lines[1] = " ".join(parts)
    (tmp_path / "track.txt").write_text("\n".join(lines) + "\n")
    shots = read_glas_text(tmp_path / "track.txt")
    np.testing.assert_array_equal(shots.saturated, [False, True, False])
    assert shots.waveform[1].max() == pytest.approx(VOLTS_AT[255], abs=5e-7)
    assert truth["rx"].max() < 255


def test_text_line_with_wrong_column_count_names_the_line(tmp_path):
    path = tmp_path / "track.txt"
    write_text_extract(path, n=5)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(" ", 1)[0]  # 594 columns
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GlasError, match=r"track\.txt: line 3 has 594 columns, expected 595"):
        read_glas_text(path)


@pytest.mark.parametrize("bad", [256, -1])
def test_text_counts_out_of_range(tmp_path, bad):
    path = tmp_path / "track.txt"
    write_text_extract(path, n=5)
    lines = path.read_text().splitlines()
    parts = lines[3].split()
    parts[100] = str(bad)
    lines[3] = " ".join(parts)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GlasError, match=rf"track\.txt: line 4, column 101 holds {bad} counts"):
        read_glas_text(path)


def test_text_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n")
    with pytest.raises(GlasError, match=r"empty\.txt.*no shot"):
        read_glas_text(path)


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_jakobshavn_text_extract():
    if not REAL_TEXT.exists():
        pytest.skip(f"real GLAS extract not found at {REAL_TEXT} "
                    "(set CRYOLEARN_SHARED_DATA to the shared data folder)")
    shots = read_glas_text(REAL_TEXT)
    assert len(shots) == 106
    assert shots.lat.min() >= 69.04 and shots.lat.max() <= 69.21
    assert shots.lon.min() >= -49.6 and shots.lon.max() <= -49.4
    # the quiet record before the returns: about 29 counts (0 V), white noise of 0.93 counts
    baseline = np.median(shots.background_mean)
    assert volts_of(28.5) <= baseline <= volts_of(29.5)
    noise = np.median(shots.background_sd) / 0.006675
    assert 0.8 <= noise <= 1.1
    assert np.isfinite(shots.x).all() and np.isfinite(shots.y).all()
    # Jakobshavn lies about 180 km west of the pole's meridian, 2270 km south of it
    assert np.all((-200e3 < shots.x) & (shots.x < -160e3))
    assert np.all((-2300e3 < shots.y) & (shots.y < -2250e3))
    assert shots.waveform.shape == (106, 544) and shots.transmit.shape == (106, 48)
    assert np.all(shots.waveform <= VOLTS_AT[255] + 1e-6)
    assert shots.saturated.sum() == 4
    np.testing.assert_array_equal(shots.shot_count[:3], [1, 2, 3])


@pytest.mark.realdata
def test_real_jakobshavn_returns_rise_faster_than_they_fall_in_time_order():
    """The evidence for reversing the extract: in time order, surface returns rise
    (leading edge, 25 % of the peak to the peak) faster than they fall."""
    if not REAL_TEXT.exists():
        pytest.skip(f"real GLAS extract not found at {REAL_TEXT}")
    shots = read_glas_text(REAL_TEXT)
    signal = shots.waveform - shots.background_mean[:, None]
    rise, fall = [], []
    for wave in signal:
        peak = int(np.argmax(wave))
        above = np.flatnonzero(wave > 0.25 * wave[peak])
        rise.append(peak - above[0])
        fall.append(above[-1] - peak)
    # (46 and 35.5 in file order against the file's first 50 samples; here the
    # background is the 50 earliest in time)
    assert np.median(rise) == 35.5 and np.median(fall) == 47.5
    # and the transmit pulse, in time order in the product, does the same
    pulse = shots.transmit - np.median(shots.transmit[:, :8], axis=1)[:, None]
    peak = np.argmax(pulse, axis=1)
    first = np.argmax(pulse > 0.25 * pulse.max(axis=1, keepdims=True), axis=1)
    assert np.median(peak - first) == 3


def test_our_table_and_volt_table_are_the_products():
    np.testing.assert_array_equal(product_sample_table(), fact_sample_table())
    levels = product_volt_table()
    for count, volts in VOLTS_AT.items():
        assert levels[count] == pytest.approx(volts, abs=5e-7)
    assert levels[29] == pytest.approx(-0.001704, abs=5e-7)
    assert SATURATION_V == levels[-1]
