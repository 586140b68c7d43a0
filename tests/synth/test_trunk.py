"""The outlet trunk: where it lies, how steep it is, which way its crevasses run."""

import numpy as np
import pytest

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES
from cryolearn.synth.trunk import (
    TrunkParams,
    across_weight,
    along_weight,
    centre_offset,
    crevasse_direction,
    margin_side,
    surface_drop,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams

SEED = 11
#: no meander, so that the centre line is y = centre_y_m and answers are known
STRAIGHT = TrunkParams(meander_m=0.0, centre_y_m=0.0, head_m=10_000.0, transition_m=4_000.0,
                       width_m=5_000.0, margin_m=600.0, slope_deg=4.0, steepening_m=2_000.0,
                       trough_m=60.0)


def test_weights_are_zero_upstream_one_in_the_trunk_and_fall_off_across_the_margins():
    along = np.array([0.0, 9_999.0, 12_000.0, 14_000.0, 30_000.0])
    np.testing.assert_allclose(along_weight(STRAIGHT, along), [0.0, 0.0, 0.5, 1.0, 1.0])
    offset = np.array([0.0, 2_200.0, 2_500.0, 2_800.0, 4_000.0, -2_500.0])
    # 1 to 300 m inside the margin's middle, 0.5 at its middle, 0 300 m beyond
    np.testing.assert_allclose(across_weight(STRAIGHT, offset), [1.0, 1.0, 0.5, 0.0, 0.0, 0.5])


def test_the_centre_line_meanders_by_its_amplitude():
    trunk = TrunkParams(meander_m=300.0, centre_y_m=0.0)
    along = np.linspace(0.0, 16_000.0, 1601)
    offset = centre_offset(trunk, along, np.zeros_like(along), SEED)
    assert np.abs(offset).max() == pytest.approx(300.0, rel=1e-3)


def test_margins_are_signed_and_only_down_glacier():
    y = np.array([2_500.0, -2_500.0, 0.0, 2_900.0, 2_500.0])
    along = np.array([20_000.0, 20_000.0, 20_000.0, 20_000.0, 5_000.0])
    np.testing.assert_array_equal(margin_side(STRAIGHT, along, y, SEED), [1, -1, 0, 0, 0])


def test_slope_steepens_from_the_interiors_to_the_trunks():
    interior_deg = 1.0
    along = np.array([0.0, 40_000.0])
    y = np.full(2, 10_000.0)  # far from the trunk: no trough
    h = 1.0
    total = [np.tan(np.radians(interior_deg)) * a
             + surface_drop(STRAIGHT, np.array([a]), y[:1], interior_deg, SEED)[0]
             for a in (along[0], along[0] + h, along[1], along[1] + h)]
    up_slope = np.degrees(np.arctan(total[1] - total[0]))
    down_slope = np.degrees(np.arctan(total[3] - total[2]))
    assert up_slope == pytest.approx(interior_deg, abs=0.01)
    assert down_slope == pytest.approx(4.0, abs=0.01)
    # the trough: 60 m deeper on the centre line than beside the trunk
    inside = surface_drop(STRAIGHT, along[1:], np.zeros(1), interior_deg, SEED)
    outside = surface_drop(STRAIGHT, along[1:], np.full(1, 10_000.0), interior_deg, SEED)
    assert inside[0] - outside[0] == pytest.approx(60.0)


def test_crevasses_run_across_flow_splay_towards_the_margins_and_shear_in_them():
    along = np.full(4, 20_000.0)
    y = np.array([0.0, 1_800.0, 2_500.0, -2_500.0])
    theta = crevasse_direction(STRAIGHT, along, y, SEED)
    assert theta[0] == pytest.approx(np.pi / 2)
    assert theta[1] == pytest.approx(np.pi / 2 + np.radians(35.0) * 1_800.0 / 2_500.0)
    assert theta[2] == pytest.approx(np.radians(45.0))
    assert theta[3] == pytest.approx(np.radians(135.0))


@pytest.fixture(scope="module")
def trunk_world():
    return SyntheticWorld(WorldParams(
        seed=SEED, origin_x_m=0.0, origin_y_m=-10_000.0, extent_m=40_000.0,
        zone_aspect=4.0, trunk=STRAIGHT))


def _patch(x0, y0, size=200.0, pixel=0.5):
    c = np.arange(0.0, size, pixel)
    return np.meshgrid(x0 + c, y0 + c)


def test_trunk_ice_is_crevassed_and_far_rougher_than_the_interiors(trunk_world):
    crevassed = [CLASS_CODE[n] for n in CREVASSED_CLASSES]
    rng = np.random.default_rng(0)
    x = 20_000.0 + rng.random(20_000) * 10_000.0
    y = -1_500.0 + rng.random(20_000) * 3_000.0
    _, cls = trunk_world.evaluate(x, y, 2009.0)
    assert np.isin(cls, crevassed).mean() > 0.98
    sds = {}
    for name, (x0, y0) in {"trunk": (25_000.0, 0.0), "interior": (3_000.0, 0.0)}.items():
        px, py = _patch(x0, y0)
        z, _ = trunk_world.evaluate(px, py, 2009.0)
        sds[name] = float((z - trunk_world.regional_elevation(px, py)).std())
    assert sds["trunk"] > 4.0 and sds["interior"] < 1.5, sds


def test_trunk_weight_of_the_world_is_the_trunks(trunk_world):
    w = trunk_world.trunk_weight(np.array([2_000.0, 25_000.0, 25_000.0]),
                                 np.array([0.0, 0.0, 6_000.0]))
    np.testing.assert_allclose(w, [0.0, 1.0, 0.0])
    plain = SyntheticWorld(WorldParams())
    assert not plain.trunk_weight(np.zeros(3), np.zeros(3)).any()


def test_zones_stretched_along_flow_keep_their_class_for_longer_along_flow(trunk_world):
    rng = np.random.default_rng(1)
    x = 1_000.0 + rng.random(5_000) * 7_000.0
    y = -9_000.0 + rng.random(5_000) * 6_000.0
    lag = 700.0
    _, here = trunk_world.evaluate(x, y, 2009.0)
    _, along = trunk_world.evaluate(x + lag, y, 2009.0)
    _, across = trunk_world.evaluate(x, y + lag, 2009.0)
    same_along, same_across = (here == along).mean(), (here == across).mean()
    assert same_along > same_across + 0.15, (same_along, same_across)


def test_trunk_parameters_from_config_lists():
    trunk = TrunkParams.from_dict({"depth_m": [5.0, 15.0], "heave": 0.5})
    assert trunk.depth_m == (5.0, 15.0) and trunk.heave == 0.5
    params = WorldParams.from_dict({"trunk": {"width_m": 3000.0}})
    assert isinstance(params.trunk, TrunkParams) and params.trunk.width_m == 3000.0
    with pytest.raises(TypeError):
        TrunkParams.from_dict({"depth": 3.0})
