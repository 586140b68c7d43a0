"""The GLAS reader on a GLAH01/GLAH06 pair written by hand with h5py, in the real product's
conventions, never with our writer.

The facts, and where they come from (see ``cryolearn.io.glas``):

* ``i_rec_wf_location_index`` is 1-based (1-5 select rows 0-4 of the ``ANCILLARY_DATA``
  attribute ``rec_wf_sample_location_table``), 127 is none: carbonplan/trace
  ``glas_extract.py`` (``table[index - 1]``, 127 the int8 null);
* the table holds ns to add to ``i_RespEndTime``, rows start at 0 and decrease, one row
  switches to 4 ns steps after sample 391 (-390, -391, -393.5, -397.5: carbonplan/trace
  ``example_glas_processing.ipynb``), fill above 1e10;
* ``r_rng_wf`` is telemetered latest first (bin 0 at ``i_RespEndTime``, the bottom of
  the waveform: carbonplan/trace ``glas_preprocess.py``, ``glas_height_metrics.py``);
* volts on the 256 levels of ``volt_table_1`` (carbonplan/trace ``data/volt_table.csv``);
* GLAH06 longitudes 0-360 °E, fill 1.7976931348623157e308 (NSIDC GLAS usage guidance).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr
from helpers import fact_sample_table, fact_volt_levels

from cryolearn.crevasse.shots.ingest import ingest_campaign
from cryolearn.io.glas import read_glas_pair

FILL = 1.7976931348623157e308  # GLAH06 fill of doubles
N = 8
#: index of each shot: 4 (a uniform row), 5 (the compressed row), 127 (none)
INDEX = np.array([4, 5, 4, 127, 5, 4, 4, 4], dtype=np.int8)
#: shots whose geolocation is fill
FILL_SHOTS = [6]
#: the peak of shot i in time order, ns before i_RespEndTime
PEAK_BEFORE_END_NS = 120 + 10 * np.arange(N)


def counts_in_time(t_ns: np.ndarray, peak_before_end: float) -> np.ndarray:
    """A Gaussian return (sigma 4 ns, 150 counts) on a 30-count background, in counts."""
    return 30.0 + 150.0 * np.exp(-0.5 * ((t_ns + peak_before_end) / 4.0) ** 2)


def telemetered_volts(shot: int) -> np.ndarray:
    """Shot ``shot``'s 544 samples as stored: latest first, at the times of its row."""
    row = fact_sample_table()[INDEX[shot] - 1] if INDEX[shot] != 127 else -np.arange(544.0)
    counts = np.round(counts_in_time(row, PEAK_BEFORE_END_NS[shot])).astype(int)
    return fact_volt_levels()[counts]


def write_fixture(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rec = np.full(N, 123456, dtype=np.int32)
    shot = np.arange(1, N + 1, dtype=np.int32)
    p01 = folder / "GLAH01_033_2107_003_0241_4_02_0001.H5"
    p06 = folder / "GLAH06_634_2107_003_0241_4_02_0001.H5"
    with h5py.File(p01, "w") as f:
        f["Data_40HZ/Time/i_rec_ndx"] = rec
        f["Data_40HZ/Time/i_shot_count"] = shot
        f["Data_40HZ/Time/d_UTCTime_40"] = 2.25e8 + np.arange(N) / 40.0
        f["Data_40HZ/Waveform/RecWaveform/r_rng_wf"] = np.stack(
            [telemetered_volts(i) for i in range(N)]).astype(np.float32)
        f["Data_40HZ/Waveform/RecWaveform/i_rec_wf_location_index"] = INDEX
        f["Data_40HZ/Waveform/RecWaveform/i_RespEndTime"] = np.full(N, 5000, np.int32)
        pulse = fact_volt_levels()[np.round(30 + 120 * np.exp(
            -0.5 * ((np.arange(48) - 24) / 2.0) ** 2)).astype(int)]
        f["Data_40HZ/Waveform/TransmitWaveform/r_tx_wf"] = np.tile(pulse, (N, 1)).astype(
            np.float32)
        f["Data_40HZ/Waveform/Characteristics/i_waveformType"] = np.ones(N, np.int8)
        f["Data_40HZ/Waveform/Characteristics/d_4nsBgMean"] = np.full(N, fact_volt_levels()[30])
        f["Data_40HZ/Waveform/Characteristics/d_4nsBgSDEV"] = np.full(N, 0.0067)
        f["Data_40HZ/Waveform/Characteristics/i_gainSet1064"] = np.full(N, 13, np.int32)
        ancillary = f.create_group("ANCILLARY_DATA")
        ancillary.attrs["rec_wf_sample_location_table"] = fact_sample_table()
        ancillary.attrs["volt_table_1"] = fact_volt_levels()
    lon = 310.5 + 0.001 * np.arange(N)  # 49.5 °W, written 0-360 °E
    lat = 69.15 + 0.0015 * np.arange(N)
    lat[FILL_SHOTS] = FILL
    lon[FILL_SHOTS] = FILL
    with h5py.File(p06, "w") as f:
        f["Data_40HZ/Time/i_rec_ndx"] = rec
        f["Data_40HZ/Time/i_shot_count"] = shot
        f["Data_40HZ/Geolocation/d_lat"] = lat
        f["Data_40HZ/Geolocation/d_lon"] = lon
        f["Data_40HZ/Elevation_Surfaces/d_elev"] = np.full(N, 420.0)
        f["Data_40HZ/Quality/sat_corr_flg"] = np.zeros(N, np.int8)
        f["Data_40HZ/Quality/elev_use_flg"] = np.zeros(N, np.int8)
    return p01, p06


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_fixture(tmp_path / "L3H")


def test_waveforms_come_back_in_time_order(pair):
    shots = read_glas_pair(*pair)
    kept = np.array([0, 1, 2, 4, 5, 7])  # 127 (shot 3) and fill geolocation (shot 6) dropped
    np.testing.assert_array_equal(shots.shot_count, kept + 1)
    t = np.arange(-543.0, 1.0)
    for row, shot in enumerate(kept):
        expected = fact_volt_levels()[np.round(counts_in_time(t, PEAK_BEFORE_END_NS[shot]))
                                 .astype(int)]
        # earliest first: the peak sits PEAK_BEFORE_END_NS before the last sample
        assert int(np.argmax(shots.waveform[row])) == 543 - PEAK_BEFORE_END_NS[shot]
        np.testing.assert_allclose(shots.waveform[row], expected, atol=1e-6)
    # the background before the return is 30 counts: 0.004971 V in volt_table_1
    assert shots.waveform[0, 0] == pytest.approx(0.004971, abs=1e-6)


def test_the_compressed_row_is_resampled_and_counted(pair):
    shots = read_glas_pair(*pair)
    assert shots.report["n_resampled"] == 2  # shots 2 and 5
    compressed = shots.subset(shots.shot_count == 5)
    # the 4 ns samples before -391 ns hold only background: linear interpolation keeps it
    np.testing.assert_allclose(compressed.waveform[0, :150], 0.004971, atol=1e-6)


def test_nulls_and_fills_are_dropped_and_counted(pair):
    report = read_glas_pair(*pair).report
    assert report["n_null_location"] == 1
    assert report["n_fill_geolocation"] == 1
    assert report["n_kept"] == 6
    assert report["n_glah01"] == N


def test_longitudes_are_within_180(pair):
    shots = read_glas_pair(*pair)
    np.testing.assert_allclose(shots.lon, 310.5 + 0.001 * shots.shot_count.astype(float)
                               - 0.001 - 360.0)
    assert np.all((shots.lon > -180) & (shots.lon <= 180))


def test_ingestion_of_the_real_layout_writes_time_ordered_shots(pair, tmp_path):
    store = tmp_path / "shots" / "L3H.zarr"
    report = ingest_campaign([pair[0].parent], store, campaign="L3H")
    assert report["n_kept"] == 6 and report["n_resampled"] == 2
    group = zarr.open_group(str(store), mode="r")
    peaks = np.argmax(group["waveform"][:], axis=1)
    np.testing.assert_array_equal(peaks, 543 - PEAK_BEFORE_END_NS[[0, 1, 2, 4, 5, 7]])
    assert not group["saturated"][:].any()
