"""The synthetic world: determinism, plausibility, change through time."""

import numpy as np
import pytest

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES, SURFACE_CLASSES
from cryolearn.synth.flights import (
    FlightSpec,
    _frame_grid,
    _inside_footprint,
    _points_inside,
    render_frame,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams


@pytest.fixture(scope="module")
def world():
    return SyntheticWorld(WorldParams())


@pytest.fixture(scope="module")
def region_points(world):
    p = world.params
    rng = np.random.default_rng(1)
    return (p.origin_x_m + rng.random(40_000) * p.extent_m,
            p.origin_y_m + rng.random(40_000) * p.extent_m)


def test_same_points_same_answer_in_any_order(world, region_points):
    x, y = region_points
    z1, c1 = world.evaluate(x, y, 2005.0)
    order = np.random.default_rng(2).permutation(len(x))
    z2, c2 = world.evaluate(x[order], y[order], 2005.0)
    np.testing.assert_array_equal(z1[order], z2)
    np.testing.assert_array_equal(c1[order], c2)
    z3, _ = SyntheticWorld(WorldParams(seed=1)).evaluate(x, y, 2005.0)
    assert np.abs(z3 - z1).max() > 1.0  # another seed is another world


def test_regional_slopes_are_glaciological(world, region_points):
    gx, gy = world.regional_gradient(*region_points)
    slope_deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    lo, hi = np.percentile(slope_deg, [2, 98])
    assert lo > 0.1 and hi < 5.0


def test_every_class_occurs(world, region_points):
    _, cls = world.evaluate(*region_points, 2009.0)
    share = np.bincount(cls, minlength=len(SURFACE_CLASSES)) / cls.size
    assert np.all(share > 0.002), dict(zip(SURFACE_CLASSES, share.round(4), strict=True))


def test_crevassed_area_grows_by_expansion_with_time(world, region_points):
    shares = [world.crevassed_share(*region_points, year) for year in (2003, 2006, 2009)]
    assert shares[0] < shares[1] < shares[2]
    # about 0.5 %/yr relative growth, as reported by Colgan et al. (2011)
    yearly = (shares[2] / shares[0]) ** (1 / 6) - 1
    assert 0.002 < yearly < 0.03
    _, c03 = world.evaluate(*region_points, 2003.0)
    _, c09 = world.evaluate(*region_points, 2009.0)
    crevassed = [CLASS_CODE[n] for n in CREVASSED_CLASSES]
    # expansion: what was crevassed in 2003 still is in 2009
    was = np.isin(c03, crevassed)
    assert np.isin(c09[was], crevassed).all()


def test_no_crevasses_above_the_upper_limit(region_points):
    world = SyntheticWorld(WorldParams(crevasse_upper_limit_m=1450.0))
    x, y = region_points
    _, cls = world.evaluate(x, y, 2009.0)
    high = world.regional_elevation(x, y) > 1500.0  # well above, beyond zone extents
    crevassed = np.isin(cls, [CLASS_CODE[n] for n in CREVASSED_CLASSES])
    assert high.sum() > 1000
    assert not crevassed[high].any()


def test_crevasse_relief_at_half_metre(world):
    # a 1 km x 1 km patch at 0.5 m: crevasses reach metres to tens of metres deep
    x0, y0 = world.params.origin_x_m + 5000, world.params.origin_y_m + 5000
    c = np.arange(0, 1000, 0.5)
    x, y = np.meshgrid(x0 + c, y0 + c)
    z, cls = world.evaluate(x, y, 2009.0)
    relief = z - world.regional_elevation(x, y)
    crev = cls == CLASS_CODE["crevasses"]
    assert crev.any()
    depth = -relief[crev]
    assert 1.0 < np.percentile(depth, 99.9) <= 21.0


def test_lake_surfaces_are_flat(world, region_points):
    x, y = region_points
    _, cls = world.evaluate(x, y, 2009.0)
    i = np.flatnonzero(cls == CLASS_CODE["lake"])[0]
    c = np.arange(-40, 40, 0.5)
    gx, gy = np.meshgrid(x[i] + c, y[i] + c)
    z, patch = world.evaluate(gx, gy, 2009.0)
    lake = patch == CLASS_CODE["lake"]
    assert lake.sum() > 100
    assert np.ptp(z[lake]) < 1e-6  # water is flat


def test_frames_are_float32_with_nodata_corners_and_noise(world):
    spec = FlightSpec(name="X", date="2010-05-01", start_x_m=-195000, start_y_m=-2283000,
                      track_deg=30.0, n_frames=1, frame_length_m=200, frame_width_m=150,
                      noise_m=0.12)
    z, truth, transform = render_frame(world, spec, 0)
    assert z.dtype == np.float32 and truth.dtype == np.uint8
    assert transform.a == pytest.approx(0.4486)
    nodata = z == -32767.0
    assert nodata[0, 0] and nodata[-1, -1] and not nodata[z.shape[0] // 2, z.shape[1] // 2]
    np.testing.assert_array_equal(truth == 255, nodata)
    z2, _, _ = render_frame(world, spec, 0)
    np.testing.assert_array_equal(z, z2)  # noise is seeded


def test_frame_pixels_are_the_grid_points_inside_the_rotated_footprint(world):
    """The compiled selection of a frame's pixels gives the array form's points, in its
    order: the pixel centres by the affine transform, kept by ``_inside_footprint``."""
    spec = FlightSpec(name="X", date="2010-05-01", start_x_m=-195000, start_y_m=-2283000,
                      track_deg=37.0, n_frames=2, frame_length_m=300, frame_width_m=220)
    for index in (0, 1):
        transform, width, height, _ = _frame_grid(spec, index)
        rows = np.arange(height) + 0.5
        x, y = transform @ tuple(np.meshgrid(np.arange(width) + 0.5, rows))
        inside = _inside_footprint(x, y, spec, index)
        frame = (*spec.frame_centre(index), *spec.direction, 0.5 * spec.frame_length_m,
                 0.5 * spec.frame_width_m)
        rank, flat, xs, ys = _points_inside(0, height, width, tuple(transform[:6]), frame, 64)
        # each point's rank is its place in row-major order
        np.testing.assert_array_equal(np.sort(rank), np.arange(inside.sum()))
        in_order = np.empty_like(flat)
        in_order[rank] = flat
        np.testing.assert_array_equal(in_order, np.flatnonzero(inside))
        np.testing.assert_array_equal(xs, x.ravel()[flat])
        np.testing.assert_array_equal(ys, y.ravel()[flat])
        assert 0.3 < inside.mean() < 1.0  # a rotated frame: corners left out
        # strip by strip: the first points all lie in the first 64 columns
        assert (flat[:inside[:, :64].sum()] % width < 64).all()
        # the same from a later block of rows
        rank_b, flat_b, xs_b, _ = _points_inside(40, height - 40, width, tuple(transform[:6]),
                                                 frame, 64)
        in_order = np.empty_like(flat_b)
        in_order[rank_b] = flat_b
        np.testing.assert_array_equal(in_order, np.flatnonzero(inside[40:]))
        np.testing.assert_array_equal(xs_b, x[40:].ravel()[flat_b])
