"""The fused world (one compiled pass) against its composed form (array expressions per
class): the same classes and open crevasses everywhere, elevations within picometres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cryolearn.classes import SURFACE_CLASSES
from cryolearn.synth.world import SyntheticWorld, WorldParams

CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"


def demo_world() -> SyntheticWorld:
    """The demo's world: interior ice and the outlet trunk."""
    return SyntheticWorld(WorldParams.from_dict(yaml.safe_load(CONFIG.read_text())
                                                ["synth"]["world"]))


def patches(world: SyntheticWorld, n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Footprint-sized 0.5 m grids (200 × 200): at random places over the whole region,
    and on one zone of each class (a lake's centre is always flooded)."""
    p = world.params
    rng = np.random.default_rng(seed)
    span_x = 2.0 * p.extent_m if p.trunk is not None else p.extent_m
    centres = [(p.origin_x_m + rng.uniform(0, span_x), p.origin_y_m + rng.uniform(0, p.extent_m))
               for _ in range(n)]
    gx, gy = np.meshgrid(p.origin_x_m + np.arange(0.0, span_x, 150.0),
                         p.origin_y_m + np.arange(0.0, p.extent_m, 150.0))
    zones = world._zones(gx.ravel(), gy.ravel())
    for code in range(len(SURFACE_CLASSES)):
        found = np.flatnonzero(zones.zone_code == code)
        if found.size:
            centres.append((zones.centre_x[found[0]], zones.centre_y[found[0]]))
    c = (np.arange(200) + 0.5 - 100) * 0.5
    dx, dy = np.meshgrid(c, -c)
    return [(x + dx, y + dy) for x, y in centres]


@pytest.mark.parametrize(("world", "years"), [
    (demo_world(), (2003.8, 2009.3, 2012.5)),
    # interior ice only, round zones, crevasse fields migrating up-glacier
    (SyntheticWorld(WorldParams(crevasse_migration_m_per_year=400.0)), (2004.0, 2010.0)),
], ids=["demo world", "interior world"])
def test_fused_world_is_the_composed_world(world, years):
    classes_seen, equal_bits, points = set(), 0, 0
    for k, (x, y) in enumerate(patches(world, 24, seed=len(years))):
        year = years[k % len(years)]
        z, cls, depth = world.evaluate(x, y, year, crevasse_depth=True)
        z_ref, cls_ref, depth_ref = world.evaluate_composed(x, y, year, crevasse_depth=True)
        np.testing.assert_array_equal(cls, cls_ref)
        np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-9)
        np.testing.assert_allclose(depth, depth_ref, rtol=0, atol=1e-9)
        assert z.dtype == np.float64 and cls.dtype == np.uint8 and z.shape == x.shape
        classes_seen |= set(np.unique(cls).tolist())
        equal_bits += int((z == z_ref).sum())
        points += z.size
    # the sample covers every class (the comparison exercises every branch)
    assert classes_seen == set(range(len(SURFACE_CLASSES)))
    # only the transcendental functions' last bits differ (about 3 % of points, 2026-12-04)
    assert equal_bits / points > 0.9


def test_fused_world_keeps_shapes_and_broadcasts():
    world = demo_world()
    p = world.params
    x0, y0 = p.origin_x_m + 26000.0, -2280500.0
    z, cls = world.evaluate(np.float64(x0), np.float64(y0), 2009.0)
    assert z.shape == () and cls.shape == ()
    row = x0 + 0.5 * np.arange(7)
    column = y0 + 0.5 * np.arange(5)[:, None]
    z, cls, depth = world.evaluate(row, column, 2009.0, crevasse_depth=True)
    assert z.shape == cls.shape == depth.shape == (5, 7)
    full_x, full_y = np.broadcast_arrays(row, column)
    np.testing.assert_array_equal(z, world.evaluate(full_x.copy(), full_y.copy(), 2009.0)[0])
    empty = world.evaluate(np.zeros(0), np.zeros(0), 2009.0)
    assert empty[0].shape == (0,) and empty[1].shape == (0,)


def test_fused_world_gives_each_point_its_own_value_in_any_batch():
    """A point's surface does not depend on the other points of the call (the trunk's
    along-flow terms are cached per call, the crevasse stage compacts points)."""
    world = demo_world()
    x, y = patches(world, 1, seed=5)[0]
    x, y = x.ravel(), y.ravel()
    whole = world.evaluate(x, y, 2008.0, crevasse_depth=True)
    order = np.random.default_rng(1).permutation(x.size)
    shuffled = world.evaluate(x[order], y[order], 2008.0, crevasse_depth=True)
    singles = [world.evaluate(x[i:i + 1], y[i:i + 1], 2008.0, crevasse_depth=True)
               for i in range(0, x.size, 997)]
    for a, b in zip(whole, shuffled, strict=True):
        np.testing.assert_array_equal(a[order], b)
    for i, single in zip(range(0, x.size, 997), singles, strict=True):
        for a, b in zip(whole, single, strict=True):
            assert a[i] == b[0]
