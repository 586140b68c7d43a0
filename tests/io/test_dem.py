"""The IODMS3 reader on well-formed frames and on each known defect of the product."""

import warnings

import numpy as np
import pytest
import rasterio
from helpers import ramp_dem, write_geotiff
from rasterio.transform import Affine

from cryolearn.crevasse.library.tiles import tile_frame
from cryolearn.io.dem import DemError, read_dem, read_world_file


def test_reads_elevation_crs_transform_and_nodata(tmp_path):
    z, transform = ramp_dem()
    z[:10, :10] = -32767.0
    frame = read_dem(write_geotiff(tmp_path / "f.tif", z, transform))
    assert frame.crs.to_epsg() == 3413
    assert frame.transform == transform
    assert frame.pixel_size_m == pytest.approx((0.45, 0.45))
    assert np.isnan(frame.elevation[:10, :10]).all()
    np.testing.assert_array_equal(frame.elevation[10:, 10:], z[10:, 10:])


def test_float_bits_read_as_uint32_are_reinterpreted(tmp_path):
    z, transform = ramp_dem()
    z[0, 0] = -32767.0
    path = write_geotiff(tmp_path / "nosampleformat.tif", z.view(np.uint32), transform,
                         nodata=None)
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "uint32"  # what GDAL sees without the SampleFormat tag
    frame = read_dem(path)
    assert frame.elevation.dtype == np.float32
    assert np.isnan(frame.elevation[0, 0])
    np.testing.assert_array_equal(frame.elevation.ravel()[1:], z.ravel()[1:])


def test_missing_crs_is_an_error_unless_assumed(tmp_path):
    z, transform = ramp_dem()
    path = write_geotiff(tmp_path / "nocrs.tif", z, transform, crs=None)
    with pytest.raises(DemError, match=r"nocrs\.tif.*no CRS.*assume_crs"):
        read_dem(path)
    with pytest.warns(UserWarning, match="assuming EPSG:3413"):
        frame = read_dem(path, assume_crs="EPSG:3413")
    assert frame.crs.to_epsg() == 3413


def test_georeferencing_from_a_world_file(tmp_path):
    z, transform = ramp_dem()
    path = write_geotiff(tmp_path / "nogeo.tif", z, transform=None, crs="EPSG:3413")
    a, e = transform.a, transform.e
    cx, cy = transform.c + a / 2, transform.f + e / 2  # centre of the upper-left pixel
    path.with_suffix(".tfw").write_text(f"{a}\n0.0\n0.0\n{e}\n{cx}\n{cy}\n")
    assert read_world_file(path.with_suffix(".tfw")).almost_equals(transform)
    frame = read_dem(path)
    assert frame.transform.almost_equals(transform)


def test_no_georeferencing_at_all_is_an_error(tmp_path):
    z, _ = ramp_dem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = write_geotiff(tmp_path / "nowhere.tif", z, transform=None, crs="EPSG:3413")
    with pytest.raises(DemError, match=r"nowhere\.tif.*no georeferencing"):
        read_dem(path)


def test_bad_world_file_is_named(tmp_path):
    tfw = tmp_path / "x.tfw"
    tfw.write_text("0.5\n0\n0\n")
    with pytest.raises(DemError, match=r"x\.tfw.*6 numbers"):
        read_world_file(tfw)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_geotiff_gives_a_clear_error(tmp_path, damage):
    z, transform = ramp_dem()
    path = write_geotiff(tmp_path / "bad.tif", z, transform)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"II*\x00" + data[:0]
                     + bytes(range(256)) * 4)
    with pytest.raises(DemError, match=r"bad\.tif"):
        read_dem(path)


def test_all_nodata_frame_is_an_error(tmp_path):
    z, transform = ramp_dem()
    z[:] = -32767.0
    with pytest.raises(DemError, match=r"empty\.tif.*every pixel is nodata"):
        read_dem(write_geotiff(tmp_path / "empty.tif", z, transform))


def test_frame_smaller_than_a_tile_is_an_error(tmp_path):
    z, transform = ramp_dem(rows=150, cols=400)  # 67.5 m tall
    with pytest.raises(DemError, match=r"small\.tif.*smaller than one 100 m tile"):
        tile_frame(write_geotiff(tmp_path / "small.tif", z, transform))


def test_geographic_crs_is_refused(tmp_path):
    z, _ = ramp_dem()
    path = write_geotiff(tmp_path / "geo.tif", z, Affine(1e-5, 0, -49.5, 0, -1e-5, 69.1),
                         crs="EPSG:4326")
    with pytest.raises(DemError, match="not projected"):
        read_dem(path)


def test_other_projected_crs_is_tiled_in_its_own_crs(tmp_path):
    z, _ = ramp_dem()
    transform = Affine(0.45, 0, 500000.0, 0, -0.45, 7650000.0)  # UTM 22N near Jakobshavn
    batch, frame = tile_frame(write_geotiff(tmp_path / "utm.tif", z, transform, crs="EPSG:32622"))
    assert frame.crs.to_epsg() == 32622
    assert len(batch) > 0
    assert np.all((batch.x > 500000) & (batch.x < 500000 + 0.45 * z.shape[1]))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DemError, match=r"absent\.tif.*no such"):
        read_dem(tmp_path / "absent.tif")


def test_a_dem_coarser_than_max_pixel_m_is_refused_naming_file_and_pixel(tmp_path):
    # a 32 m UTM DEM (EPSG:32622, west Greenland), as a user once pointed dem.dir at
    rows = cols = 40
    transform = Affine(32.0, 0, 500000.0, 0, -32.0, 7680000.0)
    z = np.full((rows, cols), 800.0, np.float32)
    path = write_geotiff(tmp_path / "utm32.tif", z, transform, crs="EPSG:32622")
    with pytest.raises(DemError, match=r"utm32\.tif: pixels of 32 m x 32 m are coarser than "
                                       r"dem\.max_pixel_m = 2 m"):
        read_dem(path, max_pixel_m=2.0)
    with pytest.raises(DemError, match=r"utm32\.tif: pixels of 32 m"):
        tile_frame(path, max_pixel_m=2.0)
    assert read_dem(path).pixel_size_m == (32.0, 32.0)  # no limit, no refusal
    # an IODMS3-class frame passes the same limit
    fine, fine_transform = ramp_dem(pixel=0.45)
    assert read_dem(write_geotiff(tmp_path / "f.tif", fine, fine_transform),
                    max_pixel_m=2.0).pixel_size_m == pytest.approx((0.45, 0.45))
