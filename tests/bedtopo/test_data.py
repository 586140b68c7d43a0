"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np

from cryolearn.bedtopo.data import (
    choose_holdout,
    grid_radar,
    load_radar,
)
from cryolearn.bedtopo.train import (
    TrainingSettings,
    training_targets,
)
from cryolearn.io.grids import (
    read_bedmachine,
)


def test_radar_outside_the_grid_is_counted_and_dropped(region):
    grid, _ = read_bedmachine(region["bedmachine"], variables=("bed",))
    radar = sorted(region["radar"].glob("*.csv"))
    points, counts = load_radar(radar, grid)
    assert counts["dropped_outside_grid"] > 0
    assert counts["traces_used"] == len(points)
    assert (counts["traces_read"] == counts["traces_used"] + counts["dropped_outside_grid"]
            + counts["dropped_without_pick"])
    _, _, inside = grid.cell_of(points.x, points.y)
    assert inside.all() and np.isfinite(points.thickness).all()


def test_holdout_targets_exclude_the_held_out_lines_and_their_buffer(inputs):
    holdout = choose_holdout(inputs, share=0.3, buffer_m=300.0, seed=1)
    settings = TrainingSettings(radar_target="radar")
    targets = training_targets(inputs, settings, holdout)
    excluded = holdout.excluded_cells(inputs.grid, inputs)
    assert excluded.any()
    assert not (targets.radar_mask & excluded).any()
    assert not (targets.bedmachine_mask & excluded).any()
    assert not (targets.bedmachine_mask & targets.radar_mask).any()
    every = training_targets(inputs, settings, None)
    assert every.radar_mask.sum() > targets.radar_mask.sum()
    held = holdout.held_out_traces(inputs)
    radar = grid_radar(inputs.grid, inputs.radar.x[held], inputs.radar.y[held],
                       inputs.radar_bed()[held], inputs.radar_line[held])
    assert (every.radar_mask & radar.has_radar).any()
