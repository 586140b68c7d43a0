"""Ingestion of campaigns: granule pairing, text extracts, bad inputs leave no store."""

import numpy as np
import pytest

from cryolearn.crevasse.shots.ingest import campaign_files, ingest_campaign, pair_granules
from cryolearn.io.glas import GlasError, product_sample_table, write_glah01, write_glah06


def write_pair(folder, granule="2107_003_0211_0_01_0001", n=40, year_s=2.3e8):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rec = np.zeros(n, np.int64) + 7
    shot = np.arange(1, n + 1)
    waveform = (0.005 + rng.normal(0, 0.01, (n, 544))).astype(np.float32)
    waveform[:, 418:424] += 0.6  # stored latest first: 120-125 ns into the record
    write_glah01(folder / f"GLAH01_033_{granule}.H5", rec_ndx=rec, shot_count=shot,
                 utc_time=year_s + shot / 40, rec_waveform=waveform,
                 location_index=np.full(n, 4, np.int8),
                 sample_location_table=product_sample_table(),
                 transmit=np.zeros((n, 48), np.float32), waveform_type=np.ones(n, np.int8),
                 bg_mean=np.full(n, 0.005), bg_sdev=np.full(n, 0.01), gain=np.full(n, 13))
    write_glah06(folder / f"GLAH06_634_{granule}.H5", rec_ndx=rec, shot_count=shot,
                 lat=np.linspace(69.1, 69.2, n), lon=np.full(n, 310.5), elev=np.full(n, 500.0),
                 sat_corr_flg=np.zeros(n, np.int8), elev_use_flg=np.zeros(n, np.int8))


def test_granules_pair_by_name_after_product_and_release(tmp_path):
    write_pair(tmp_path / "L3A", "2107_003_0211_0_01_0001")
    write_pair(tmp_path / "L3A", "2107_003_0212_0_01_0001")
    pairs, texts = campaign_files([tmp_path / "L3A"])
    assert texts == []
    assert [(a.name[:6], b.name[:6]) for a, b in pairs] == [("GLAH01", "GLAH06")] * 2
    assert [a.name[11:] for a, _ in pairs] == [b.name[11:] for _, b in pairs]


def test_ingest_writes_the_store_with_the_drop_report(tmp_path):
    write_pair(tmp_path / "L3A")
    report = ingest_campaign([tmp_path / "L3A"], tmp_path / "L3A.zarr", campaign="L3A")
    import zarr

    g = zarr.open_group(str(tmp_path / "L3A.zarr"), mode="r")
    assert report["n_kept"] == 40 == g["waveform"].shape[0]
    np.testing.assert_allclose(g["lon"][:], -49.5)
    assert g["time"].attrs["units"] == "seconds since 2000-01-01 12:00:00"
    assert not g["saturated"][:].any()


def test_a_glah01_without_partner_is_named(tmp_path):
    write_pair(tmp_path / "L3A")
    (tmp_path / "L3A" / "GLAH06_634_2107_003_0211_0_01_0001.H5").unlink()
    with pytest.raises(GlasError, match="no GLAH06 or GLAH14 granule for GLAH01 GLAH01_033"):
        ingest_campaign([tmp_path / "L3A"], tmp_path / "out.zarr", campaign="L3A")
    assert not (tmp_path / "out.zarr").exists()


def test_a_truncated_granule_leaves_no_store(tmp_path):
    write_pair(tmp_path / "L3A")
    path = tmp_path / "L3A" / "GLAH01_033_2107_003_0211_0_01_0001.H5"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(GlasError, match=r"GLAH01_033_2107_003_0211_0_01_0001\.H5"):
        ingest_campaign([tmp_path / "L3A"], tmp_path / "out.zarr", campaign="L3A")
    assert not (tmp_path / "out.zarr").exists()


def test_an_empty_folder_is_named(tmp_path):
    (tmp_path / "L3A").mkdir()
    with pytest.raises(GlasError, match="no GLAH01 granules"):
        pair_granules([], str(tmp_path / "L3A"))
    with pytest.raises(GlasError, match="no GLAH01 granules"):
        ingest_campaign([tmp_path / "L3A"], tmp_path / "out.zarr", campaign="L3A")
