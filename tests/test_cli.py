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
    assert len(frames) == 2
    with rasterio.open(frames[0]) as src:
        assert src.crs.to_epsg() == 3413
        assert src.nodata == -32767.0
        assert src.dtypes[0] == "float32"
        assert "CRYOLEARN_WORLD" in src.tags()
    with rasterio.open(frames[1]) as src:
        assert abs(src.transform.a - 0.4524) < 1e-9  # pixel sizes differ frame to frame
    assert len(list((truth / "T1").glob("*_class.tif"))) == 2


def test_unknown_flight_is_refused(tmp_path, capsys):
    code = main(["synth", "flights", "--config", str(REPO / "config/test.yaml"),
                 "--flight", "NOPE", "--out", str(tmp_path)])
    assert code == 2
    assert "NOPE" in capsys.readouterr().err
