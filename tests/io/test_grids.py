"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.io.grids import (
    GridError,
    GridSpec,
    align_field,
    read_bedmachine,
    read_field,
    write_grid_netcdf,
)
from cryolearn.io.raster import write_geotiff


def test_bedmachine_missing_variable_names_file_and_variable(tmp_path):
    grid = GridSpec.from_bounds((0, 0, 1500, 1500), 150.0)
    path = tmp_path / "bm.nc"
    write_grid_netcdf(path, grid, {"bed": np.zeros(grid.shape, np.float32)})
    with pytest.raises(GridError, match=r"bm\.nc.*\['surface', 'thickness'"):
        read_bedmachine(path)


def test_bedmachine_on_another_crs_is_refused(tmp_path):
    grid = GridSpec(np.arange(5) * 150.0, 1000 - np.arange(5) * 150.0, "EPSG:3031")
    path = tmp_path / "antarctic.nc"
    write_grid_netcdf(path, grid, {"bed": np.zeros(grid.shape, np.float32)})
    with pytest.raises(GridError, match=r"antarctic\.nc: grid is in EPSG:3031"):
        read_bedmachine(path, variables=("bed",))


def test_bedmachine_with_increasing_y_is_turned_north_up(tmp_path):
    grid = GridSpec.from_bounds((0, 0, 600, 900), 150.0)
    values = np.arange(24, dtype=np.float32).reshape(grid.shape)
    path = tmp_path / "bm.nc"
    write_grid_netcdf(path, GridSpec(grid.x, grid.y[::-1]), {"bed": values[::-1]})
    read_grid, out = read_bedmachine(path, variables=("bed",))
    np.testing.assert_array_equal(read_grid.y, grid.y)
    np.testing.assert_array_equal(out["bed"], values)


def test_coarser_field_is_resampled_and_a_short_one_refused(tmp_path):
    target = GridSpec.from_bounds((0, 0, 3000, 3000), 150.0)
    coarse = GridSpec.from_bounds((-2000, -2000, 5000, 5000), 1000.0)
    cx, cy = np.meshgrid(coarse.x, coarse.y)
    path = tmp_path / "smb.nc"
    write_grid_netcdf(path, coarse, {"smb": (0.001 * cx + 0.002 * cy).astype(np.float32)})
    source, values = read_field(path, variable="smb")
    aligned = align_field(values, source, target, name="smb", path=path)
    tx, ty = np.meshgrid(target.x, target.y)
    np.testing.assert_allclose(aligned, 0.001 * tx + 0.002 * ty, atol=1e-3)
    short = GridSpec.from_bounds((0, 0, 2000, 2000), 150.0)
    tif = tmp_path / "dhdt.tif"
    write_geotiff(tif, [np.ones(short.shape, np.float32)], transform=short.transform,
                  crs="EPSG:3413", nodata=np.nan)
    with pytest.raises(GridError, match=r"dhdt\.tif: field 'dhdt' leaves \d+ of 400 cells"):
        align_field(*reversed(read_field(tif)), target, name="dhdt", path=tif)


def test_field_on_another_crs_is_reprojected(tmp_path):
    target = GridSpec.from_bounds((-300_000, -1_800_000, -297_000, -1_797_000), 150.0)
    from rasterio.warp import transform as warp

    (cx,), (cy,) = warp("EPSG:3413", "EPSG:32622", [-298_500.0], [-1_798_500.0])
    x0, y0 = round(cx, -3), round(cy, -3)
    utm = GridSpec.from_bounds((x0 - 15_000, y0 - 15_000, x0 + 15_000, y0 + 15_000), 500.0,
                               "EPSG:32622")
    tif = tmp_path / "vx_utm.tif"
    write_geotiff(tif, [np.full(utm.shape, 42.0, np.float32)], transform=utm.transform,
                  crs=utm.crs, nodata=np.nan)
    source, values = read_field(tif)
    assert source.crs == "EPSG:32622"
    np.testing.assert_allclose(align_field(values, source, target, name="vx", path=tif), 42.0)


def test_netcdf_field_without_crs_needs_one(tmp_path):
    import xarray as xr

    path = tmp_path / "nocrs.nc"
    xr.Dataset({"smb": (("y", "x"), np.zeros((3, 4)))},
               coords={"x": np.arange(4) * 150.0, "y": 450 - np.arange(3) * 150.0}
               ).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(GridError, match=r"nocrs\.nc: no coordinate reference system"):
        read_field(path, variable="smb")
    grid, _ = read_field(path, variable="smb", crs="EPSG:3413")
    assert grid.crs == "EPSG:3413"
    with pytest.raises(GridError, match="variable 'dhdt' missing"):
        read_field(path, variable="dhdt")
