"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import shared_data_dir

from cryolearn.io.reanalysis import ReanalysisError, read_reanalysis


def hourly_dataset(lat=(1.0, 0.0), lon=(350.0, 355.0), start="2021-01-01T00",
                   steps=48, name="a", time_name="time") -> xr.Dataset:
    time = pd.date_range(start, periods=steps, freq="h")
    values = np.arange(steps, dtype=np.float64)[:, None, None] * np.ones((1, len(lat), len(lon)))
    return xr.Dataset({name: ((time_name, "latitude", "longitude"), values)},
                      coords={time_name: time, "latitude": list(lat), "longitude": list(lon)})


def test_hourly_steps_average_to_days_and_a_partial_day_is_dropped(tmp_path):
    path = tmp_path / "a.nc"
    hourly_dataset(steps=60).to_netcdf(path)  # 2 full days and 12 hours
    ds = read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[-10, -5])
    assert ds.sizes["time"] == 2 and ds.attrs["steps_per_day"] == 24
    np.testing.assert_allclose(ds["a"].values[:, 0, 0], [11.5, 35.5])  # mean of 0..23, 24..47
    assert list(ds["longitude"].values) == [-10.0, -5.0]  # 350, 355 °E → −10, −5
    assert list(ds["latitude"].values) == [0.0, 1.0]  # north-first turned increasing


def test_a_region_ending_at_the_antimeridian_reads_from_a_0_to_360_file(tmp_path):
    path = tmp_path / "east.nc"
    hourly_dataset(lon=(170.0, 180.0, 190.0), steps=24).to_netcdf(path)
    ds = read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[170, 180])
    assert list(ds["longitude"].values) == [170.0, 180.0]
    with pytest.raises(ReanalysisError, match="antimeridian"):
        read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[170, 190])


def test_variables_and_months_split_over_files_are_joined(tmp_path):
    hourly_dataset(name="a", steps=24).to_netcdf(tmp_path / "a_day1.nc")
    hourly_dataset(name="a", start="2021-01-02T00", steps=24).to_netcdf(tmp_path / "a_day2.nc")
    hourly_dataset(name="b", steps=48, time_name="valid_time").to_netcdf(tmp_path / "b.nc")
    ds = read_reanalysis(sorted(tmp_path.glob("*.nc")), ["a", "b"], lat_range=[0, 1],
                         lon_range=[350, 355], period=["2021-01-02", "2021-01-02"])
    assert ds.sizes["time"] == 1
    np.testing.assert_allclose(ds["a"].values[0], 11.5)  # the second file's 0..23
    np.testing.assert_allclose(ds["b"].values[0], 35.5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"variables": ["z"]}, "no variable ['z']"),
    ({"lat_range": [0, 5]}, "is not inside it"),
    ({"period": ["2030-01-01", "2030-01-02"]}, "no time step"),
])
def test_bad_requests_name_the_file_and_the_problem(tmp_path, kwargs, message):
    path = tmp_path / "a.nc"
    hourly_dataset().to_netcdf(path)
    request = {"variables": ["a"], "lat_range": [0, 1], "lon_range": [-10, -5], **kwargs}
    with pytest.raises(ReanalysisError) as error:
        read_reanalysis(path, request.pop("variables"), **request)
    assert message in str(error.value) and "a.nc" in str(error.value)


def test_missing_and_unreadable_files_are_refused(tmp_path):
    with pytest.raises(ReanalysisError, match="no such file"):
        read_reanalysis(tmp_path / "none.nc", ["a"], lat_range=[0, 1], lon_range=[0, 1])
    (tmp_path / "bad.nc").write_text("not netcdf")
    with pytest.raises(ReanalysisError, match=r"bad\.nc: not a readable NetCDF"):
        read_reanalysis(tmp_path / "bad.nc", ["a"], lat_range=[0, 1], lon_range=[0, 1])


def test_pressure_levels_need_a_level(tmp_path):
    ds = hourly_dataset().expand_dims(level=[500, 850], axis=1)
    ds.to_netcdf(tmp_path / "levels.nc")
    with pytest.raises(ReanalysisError, match=r"levels \[500, 850\]"):
        read_reanalysis(tmp_path / "levels.nc", ["a"], lat_range=[0, 1], lon_range=[-10, -5])
    chosen = read_reanalysis(tmp_path / "levels.nc", ["a"], lat_range=[0, 1],
                             lon_range=[-10, -5], level=850)
    assert chosen["a"].dims == ("time", "latitude", "longitude")


def test_the_real_reanalysis_grid_loads():
    path = shared_data_dir() / "reanalysis" / "eraint_uvz.nc"
    if not path.exists():
        pytest.skip(f"real sample data absent: {path}")
    ds = read_reanalysis(path, ["z", "u", "v"], lat_range=[33, 43], lon_range=[-33, -23],
                         level=500, time_dim="month")
    assert ds.sizes == {"time": 2, "latitude": 14, "longitude": 14}  # 0.75° grid
    assert list(ds["time"].values) == [1, 7]  # months are kept, not averaged
    # 500 hPa geopotential over the Azores: about 5,600–5,900 geopotential metres
    assert 5.4e4 < float(ds["z"].min()) and float(ds["z"].max()) < 5.95e4
    assert float(ds["z"].sel(time=7).mean()) > float(ds["z"].sel(time=1).mean())  # summer
    with pytest.raises(ReanalysisError, match="levels"):
        read_reanalysis(path, ["z"], lat_range=[33, 43], lon_range=[-33, -23], time_dim="month")
