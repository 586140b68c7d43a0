"""Yearly probability rasters and change maps: grid, cells, GeoTIFF contract, empty years."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from cryolearn.crevasse.maps.rasters import (
    EmptyYearWarning,
    RasterGrid,
    change,
    change_map,
    grid_for_bounds,
    rasterise_points,
    read_raster,
    write_raster,
    yearly_map,
)
from cryolearn.io.zarrstore import create_group, write_array

CREVASSE, NOT = 0, 1


def test_grid_snaps_outward_to_multiples_of_the_cell():
    grid = grid_for_bounds((-1500.0, 200.0, 1200.0, 2999.0), 1000.0)
    assert (grid.x_min, grid.y_max, grid.width, grid.height) == (-2000.0, 3000.0, 4, 3)
    assert grid.bounds == (-2000.0, 0.0, 2000.0, 3000.0)


def test_known_points_fall_into_known_cells_with_their_mean_and_count():
    grid = RasterGrid(x_min=0.0, y_max=2000.0, cell_m=1000.0, width=3, height=2)
    x = np.array([100.0, 900.0, 1500.0, 2500.0, 2500.0, 5000.0, 100.0])
    y = np.array([1900.0, 1100.0, 500.0, 100.0, 900.0, 100.0, 1500.0])
    p = np.array([0.2, 0.6, 1.0, 0.0, 0.5, 1.0, np.nan])
    mean, count, outside = rasterise_points(x, y, p, grid)
    np.testing.assert_array_equal(count, [[2, 0, 0], [0, 1, 2]])
    np.testing.assert_allclose(mean, [[0.4, np.nan, np.nan], [np.nan, 1.0, 0.25]], rtol=1e-6)
    assert outside == 1


def test_yearly_map_is_a_two_band_geotiff_in_epsg_3413(tmp_path):
    store = tmp_path / "L3A.zarr"
    group = create_group(store, {"campaign": "L3A"})
    write_array(group, "x", np.array([-199_500.0, -199_400.0, -198_500.0]), ("shot",))
    write_array(group, "y", np.array([-2_289_500.0, -2_289_500.0, -2_288_500.0]), ("shot",))
    write_array(group, "probability", np.array([1.0, 0.0, 0.8], np.float32), ("shot",))
    grid = grid_for_bounds((-200_000.0, -2_290_000.0, -198_000.0, -2_288_000.0), 1000.0)
    tags = yearly_map([store], grid, 2004, tmp_path / "crevasse_2004.tif")
    assert tags["shots"] == 3 and tags["cells_with_shots"] == 2
    with rasterio.open(tmp_path / "crevasse_2004.tif") as src:
        assert src.crs.to_epsg() == 3413 and src.count == 2
        assert src.descriptions == ("crevasse_probability", "shot_count")
        assert src.transform.a == 1000.0 and (src.transform.c, src.transform.f) == (
            -200_000.0, -2_288_000.0)
        probability, count = src.read(1), src.read(2)
    np.testing.assert_allclose(probability, [[np.nan, 0.8], [0.5, np.nan]])
    np.testing.assert_array_equal(count, [[0, 1], [2, 0]])


def test_a_year_without_shots_gives_an_empty_map_and_a_warning(tmp_path):
    grid = grid_for_bounds((0.0, 0.0, 2000.0, 2000.0), 1000.0)
    with pytest.warns(EmptyYearWarning, match="2010: no shot"):
        tags = yearly_map([], grid, 2010, tmp_path / "crevasse_2010.tif")
    raster = read_raster(tmp_path / "crevasse_2010.tif")
    assert tags["shots"] == 0 and raster.grid == grid
    assert np.isnan(raster.bands["crevasse_probability"]).all()
    assert not raster.bands["shot_count"].any()


def test_change_is_later_minus_earlier_with_nodata_where_either_year_lacks_shots(tmp_path):
    grid = RasterGrid(0.0, 2000.0, 1000.0, 2, 2)
    early = np.array([[0.2, np.nan], [0.5, 0.9]], np.float32)
    late = np.array([[0.6, 0.4], [np.nan, 0.3]], np.float32)
    counts_early = np.array([[3, 0], [1, 2]], np.float32)
    counts_late = np.array([[1, 2], [0, 5]], np.float32)
    np.testing.assert_allclose(change(early, late, counts_early, counts_late),
                               [[0.4, np.nan], [np.nan, -0.6]], rtol=1e-6)
    for name, p, n in (("a", early, counts_early), ("b", late, counts_late)):
        write_raster(tmp_path / f"{name}.tif", grid,
                     {"crevasse_probability": p, "shot_count": n}, {"year": 2000})
    tags = change_map(tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "change.tif")
    out = read_raster(tmp_path / "change.tif")
    assert tags["cells_in_both"] == 2
    np.testing.assert_allclose(out.bands["probability_change"], [[0.4, np.nan], [np.nan, -0.6]],
                               rtol=1e-6)
    np.testing.assert_array_equal(out.bands["shot_count_to"], counts_late)


def test_change_of_maps_on_different_grids_is_refused_naming_both(tmp_path):
    bands = {"crevasse_probability": np.zeros((2, 2), np.float32),
             "shot_count": np.ones((2, 2), np.float32)}
    write_raster(tmp_path / "a.tif", RasterGrid(0.0, 2000.0, 1000.0, 2, 2), bands, {})
    write_raster(tmp_path / "b.tif", RasterGrid(1000.0, 2000.0, 1000.0, 2, 2), bands, {})
    with pytest.raises(ValueError, match=r"a\.tif and .*b\.tif lie on different grids"):
        change_map(tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "c.tif")
    assert not (tmp_path / "c.tif").exists()


def _probability_store(path, x, y, p):
    group = create_group(path, {"campaign": path.stem})
    for name, values in (("x", x), ("y", y), ("probability", p)):
        write_array(group, name, np.asarray(values, np.float64), ("shot",))
    return path


def test_area_change_and_its_bootstrap_interval_by_hand(tmp_path):
    from cryolearn.crevasse.maps.rasters import ChangeBootstrap, RasterGrid, area_change_interval

    # two 1 km cells; 50 shots a cell and year. Cell A: 0.2 -> 0.5 (every shot alike, no
    # spread); cell B: shots of 0 or 1, a share 0.4 -> 0.6. A third cell has shots in 2003 only
    grid = RasterGrid(0.0, 1000.0, 1000.0, 3, 1)
    rng = np.random.default_rng(0)
    n = 50

    def year(pa, share_b, extra):
        x = np.r_[np.full(n, 500.0), np.full(n, 1500.0), np.full(extra, 2500.0)]
        b = (np.arange(n) < share_b * n).astype(float)
        p = np.r_[np.full(n, pa), rng.permutation(b), np.full(extra, 1.0)]
        return x, np.full(len(x), 500.0), p

    early = _probability_store(tmp_path / "L2A.zarr", *year(0.2, 0.4, 5))
    late = _probability_store(tmp_path / "L3I.zarr", *year(0.5, 0.6, 0))
    result = area_change_interval([early], [late], grid, ChangeBootstrap(draws=4000, seed=1))
    assert result["cells_in_both"] == 2
    assert result["area_change_km2"] == pytest.approx(0.3 + 0.2)
    # only cell B varies: sd of each year's mean sqrt(p (1 - p) / n)
    expected_sd = np.sqrt(0.4 * 0.6 / n + 0.6 * 0.4 / n)
    assert result["sd_km2"] == pytest.approx(expected_sd, rel=0.08)
    low, high = result["interval_km2"]
    assert low == pytest.approx(0.5 - 1.645 * expected_sd, abs=0.03)
    assert high == pytest.approx(0.5 + 1.645 * expected_sd, abs=0.03)
    assert result["excludes_zero"] is True and result["shots_per_cell"] == [50.0, 50.0]
