"""Tiling: resampling, windows, nodata, hashes and the flight shard."""

import numpy as np
import pytest
import zarr
from helpers import ramp_dem, write_geotiff
from rasterio.transform import Affine

from cryolearn.crevasse.library.tiles import cut_tiles, resample_frame, tile_flight, tile_hash
from cryolearn.io.dem import DemError, read_dem


def test_bilinear_resampling_of_a_plane_is_exact(tmp_path):
    z, transform = ramp_dem(rows=500, cols=520)
    frame = read_dem(write_geotiff(tmp_path / "ramp.tif", z, transform))
    grid, dst = resample_frame(frame)
    assert dst.a == 0.5 and dst.e == -0.5
    assert (dst.c, dst.f) == (transform.c, transform.f)
    assert grid.shape == (int(500 * 0.45 / 0.5), int(520 * 0.45 / 0.5))
    cc, rr = np.meshgrid(np.arange(grid.shape[1]) + 0.5, np.arange(grid.shape[0]) + 0.5)
    x, y = dst @ (cc, rr)
    expected = 1000.0 + 0.02 * (x + 190000.0) - 0.01 * (y + 2280000.0)
    valid = ~np.isnan(grid)
    # only the outermost half pixel, beyond the last source pixel centre, is NaN
    assert valid[1:-1, 1:-1].all()
    np.testing.assert_allclose(grid[valid], expected[valid], atol=2e-3)


def test_windows_with_nodata_are_dropped_and_means_removed():
    grid = np.arange(450 * 650, dtype=np.float32).reshape(450, 650) * 1e-3
    grid[300:, 600:] = np.nan
    transform = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)
    batch = cut_tiles(grid, transform)
    # 2 x 3 windows; the one holding the NaN corner (rows 200-399, cols 400-599) is clean,
    # so all six stay; a NaN inside window (1, 2) drops it
    assert len(batch) == 6
    grid[250, 450] = np.nan
    batch = cut_tiles(grid, transform)
    assert len(batch) == 5
    np.testing.assert_allclose(batch.elevation.mean(axis=(1, 2)), 0.0, atol=1e-4)
    first = grid[:200, :200]
    assert batch.z0[0] == pytest.approx(first.mean(dtype=np.float64))
    assert (batch.x[0], batch.y[0]) == (1050.0, 1950.0)
    assert batch.hash[0] == tile_hash(batch.elevation[0])


def test_tile_flight_writes_the_contracted_store(tmp_path):
    z, transform = ramp_dem(rows=480, cols=700)
    z += np.random.default_rng(0).normal(0, 0.1, z.shape).astype(np.float32)
    frames = [write_geotiff(tmp_path / "F" / f"f{i}.tif", z, transform @ Affine.translation(
        200 * i, 0)) for i in range(2)]
    out = tmp_path / "tiles" / "F.zarr"
    n = tile_flight(frames, out, flight="F", progress=False)
    g = zarr.open_group(str(out), mode="r")
    assert n == g["elevation"].shape[0] == 2 * 2 * 3
    assert g["elevation"].metadata.zarr_format == 3
    assert g["elevation"].metadata.dimension_names == ("tile", "y_px", "x_px")
    assert g["elevation"].chunks[1:] == (200, 200)
    for name in ("z0", "x", "y", "lat", "lon", "hash", "source"):
        assert g[name].shape == (n,)
    assert 68 < g["lat"][:].mean() < 71  # west Greenland
    assert set(g["source"][:]) == {"f0.tif", "f1.tif"}
    assert g.attrs["crs"] == "EPSG:3413"
    assert not list(tmp_path.glob("tiles/*.tmp-*"))


def test_failing_frame_leaves_no_partial_store(tmp_path):
    z, transform = ramp_dem()
    good = write_geotiff(tmp_path / "good.tif", z, transform)
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    out = tmp_path / "tiles" / "F.zarr"
    with pytest.raises(DemError, match=r"bad\.tif"):
        tile_flight([good, bad], out, flight="F", progress=False)
    assert not out.exists()
    assert list((tmp_path / "tiles").iterdir()) == []


def test_flight_without_frames_is_an_error(tmp_path):
    with pytest.raises(DemError, match="no DEM frames"):
        tile_flight([], tmp_path / "x.zarr", flight="EMPTY")
