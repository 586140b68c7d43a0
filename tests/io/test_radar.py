"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import shared_data_dir

from cryolearn.io.radar import RadarError, read_cresis_csv, read_radar_files, write_cresis_csv

RADAR_DIR = shared_data_dir() / "cresis_greenland"


def _write_csv(path, thickness):
    n = len(thickness)
    write_cresis_csv(path, lat=np.full(n, 72.9), lon=np.linspace(-54.5, -54.4, n),
                     seconds_of_day=np.arange(n, dtype=float), thickness=np.asarray(thickness),
                     aircraft=np.full(n, 1500.0), frame="2014042601001",
                     surface=np.full(n, 1000.0), quality=np.ones(n))


def test_cresis_csv_round_trip_and_missing_picks(tmp_path):
    _write_csv(tmp_path / "a.csv", [800.0, np.nan, 812.5])
    points = read_cresis_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(points.thickness, [800.0, np.nan, 812.5])
    assert list(points.line) == ["2014042601001"] * 3
    np.testing.assert_allclose(points.surface, 1000.0)


def test_cresis_csv_bad_input_names_file_and_problem(tmp_path):
    _write_csv(tmp_path / "neg.csv", [800.0, -5.0])
    with pytest.raises(RadarError, match=r"neg\.csv: 1 traces with negative ice thickness"):
        read_cresis_csv(tmp_path / "neg.csv")
    (tmp_path / "cols.csv").write_text("LAT,LON,THICK\n72.9,-54.5,800\n")
    with pytest.raises(RadarError, match=r"cols\.csv: neither a CReSIS CSV"):
        read_radar_files([tmp_path / "cols.csv"])


@pytest.mark.realdata
@pytest.mark.skipif(not RADAR_DIR.is_dir(), reason="../shared/data/cresis_greenland absent")
def test_real_radar_files_load_with_documented_thickness():
    files = sorted(RADAR_DIR.glob("*_rsr.txt"))
    points = read_radar_files(files)
    assert len(points) == 1042
    # the frames cross the Northwest Outlet Glaciers: 390-1740 m of ice (README: h1, m)
    assert 390 < np.nanmin(points.thickness) and np.nanmax(points.thickness) < 1750
    assert set(points.line) == {"NOG_20140426_01_041", "NOG_20140426_01_042"}
    assert -350e3 < points.x.min() and points.x.max() < -310e3
    assert -1.59e6 < points.y.min() and points.y.max() < -1.49e6
