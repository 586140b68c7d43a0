"""The cryolearn command line."""

from pathlib import Path

import rasterio

from cryolearn.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_synth_flights_writes_iodms3_frames_and_truth(tmp_path):
    out, truth = tmp_path / "flights", tmp_path / "truth"
    code = main(["synth", "flights", "--config", str(REPO / "config/test.yaml"),
                 "--flight", "T1", "--out", str(out), "--truth", str(truth)])
    assert code == 0
    frames = sorted((out / "T1").glob("IODMS3_*_DEM.tif"))
    assert len(frames) == 3
    with rasterio.open(frames[0]) as src:
        assert src.crs.to_epsg() == 3413
        assert src.nodata == -32767.0
        assert src.dtypes[0] == "float32"
        assert "CRYOLEARN_WORLD" in src.tags()
    with rasterio.open(frames[1]) as src:
        assert abs(src.transform.a - 0.4524) < 1e-9  # pixel sizes differ frame to frame
    assert len(list((truth / "T1").glob("*_class.tif"))) == 3


def test_unknown_flight_is_refused(tmp_path, capsys):
    code = main(["synth", "flights", "--config", str(REPO / "config/test.yaml"),
                 "--flight", "NOPE", "--out", str(tmp_path)])
    assert code == 2
    assert "NOPE" in capsys.readouterr().err


def test_synth_glas_writes_a_readable_granule_pair(tmp_path):
    from cryolearn.crevasse.shots.ingest import ingest_campaign

    out, truth = tmp_path / "glas", tmp_path / "truth"
    code = main(["synth", "glas", "--config", str(REPO / "config/test.yaml"),
                 "--campaign", "L2A", "--out", str(out), "--truth", str(truth)])
    assert code == 0
    assert len(list((out / "L2A").glob("GLAH0[16]_*.H5"))) == 2
    report = ingest_campaign([out / "L2A"], tmp_path / "L2A.zarr", campaign="L2A")
    assert report["n_kept"] > 5
    assert (truth / "L2A.zarr").is_dir()


def test_synth_bedtopo_writes_the_region_in_real_formats(tmp_path):
    from cryolearn.io.grids import read_bedmachine
    from cryolearn.io.radar import read_radar_files

    out, truth = tmp_path / "bedtopo", tmp_path / "truth"
    code = main(["synth", "bedtopo", "--config", str(REPO / "config/test.yaml"),
                 "--out", str(out), "--truth", str(truth)])
    assert code == 0
    grid, product = read_bedmachine(out / "BedMachineGreenland-synthetic.nc")
    assert product["errbed"].max() > product["errbed"][product["mask"] == 2].min()
    assert grid.shape == (48, 48) and grid.crs == "EPSG:3413"
    radar = read_radar_files(sorted((out / "radar").glob("*.csv")))
    assert len(set(radar.line)) >= 3
    assert (truth / "bed_truth.nc").exists()
    for name in ("smb_1km.nc", "dhdt.tif", "vx.tif", "vy.tif"):
        assert (out / "fields" / name).exists()


def test_synth_climate_writes_an_era5_like_year_and_its_truth(tmp_path):
    from cryolearn.io.reanalysis import read_reanalysis

    out, truth = tmp_path / "climate", tmp_path / "truth"
    code = main(["synth", "climate", "--config", str(REPO / "config/test.yaml"),
                 "--out", str(out), "--truth", str(truth)])
    assert code == 0
    ds = read_reanalysis(out / "era5_single_levels_synthetic.nc",
                         ["sst", "t2m", "sp", "sshf", "slhf", "u10", "v10"],
                         lat_range=[33, 37], lon_range=[-33, -29])
    assert ds.sizes == {"time": 60, "latitude": 17, "longitude": 17}
    assert len((truth / "regimes.csv").read_text().splitlines()) == 61
