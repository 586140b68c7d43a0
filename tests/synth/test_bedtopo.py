"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
from helpers import small_region

from cryolearn.io.grids import (
    read_bedmachine,
)
from cryolearn.io.radar import read_radar_files
from cryolearn.synth.bedtopo import RegionSpec, make_region


def _distance(grid, region):
    from cryolearn.io.grids import distance_to_radar

    points = read_radar_files(sorted(region["radar"].glob("*.csv")))
    return distance_to_radar(grid, points.x, points.y)


def test_synthetic_region_has_troughs_fast_flow_and_a_bedmachine_worse_far_from_radar(region):
    grid, product = read_bedmachine(region["bedmachine"])
    _, truth = read_bedmachine(region["truth"], variables=("bed", "surface", "thickness"))
    assert grid.shape == (48, 48) and grid.cell_m == 150.0
    assert set(product) == {"bed", "surface", "thickness", "errbed", "mask", "source"}
    true_region = make_region(small_region())
    speed = np.hypot(true_region.vx, true_region.vy)
    assert speed[true_region.trough > 0.5].mean() > 3 * speed[true_region.trough < 0.1].mean()
    assert truth["bed"][true_region.trough > 0.5].mean() < truth["bed"].mean() - 300
    assert np.corrcoef(product["errbed"][product["mask"] == 2],
                       _distance(grid, region)[product["mask"] == 2])[0, 1] > 0.8


def test_synthetic_bedmachine_is_sharp_on_radar_lines_and_smooth_and_biased_between():
    from cryolearn.io.grids import distance_to_radar
    from cryolearn.synth.bedtopo import bedmachine_like

    spec = RegionSpec(size_px=120)
    true_region = make_region(spec)
    product = bedmachine_like(spec, true_region, np.random.default_rng(0))
    x = np.concatenate([line["x"] for line in true_region.lines])
    y = np.concatenate([line["y"] for line in true_region.lines])
    distance = distance_to_radar(true_region.grid, x, y)
    error = np.abs(product["bed"] - true_region.bed)[product["mask"] == 2]
    distance = distance[product["mask"] == 2]
    assert error[distance >= 2000].mean() > 2.5 * error[distance == 0].mean()
    assert error[distance == 0].mean() < 50
