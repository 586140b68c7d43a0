"""Honest evaluation of bed maps: held-out flight lines, gaps far from radar, the truth.

Every method is scored on the same cells:

* ``holdout_lines``: the cells of the held-out flight lines, against their
  radar bed (surface − radar thickness) and, in a synthetic region, against the
  true bed, as along-track profiles;
* ``holdout_block``: every cell within the buffer of the held-out lines (where
  nothing was trained on), against the truth;
* ``far_from_radar``: cells farther than ``far_m`` from any radar trace,
  where a bed map is least constrained, against the truth;
* ``whole_grid``: every ice cell, against the truth.

``bedmachine`` is the product itself, built with every radar line, the
held-out ones included: on the held-out lines it is a reference, not a
competitor. ``faithful_protocol`` repeats the original's own test: the
random 20 % of overlapping 16 × 16 patches, scored against BedMachine, the
training target; its numbers are labelled as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

from cryolearn.bedtopo.data import Holdout, RegionInputs, grid_radar
from cryolearn.bedtopo.metrics import (
    SSIM_WINDOW,
    grid_metrics,
    point_metrics,
    profile_metrics,
    psnr,
    ruggedness_map,
)
from cryolearn.bedtopo.train import TrainingRun, predict_patches
from cryolearn.io.grids import GridSpec, distance_to_radar

BEDMACHINE_NOTE = ("the product itself, built with every radar line including the held-out "
                   "ones: a reference on those lines, not a competitor")
FAITHFUL_NOTE = ("the original's protocol: a random 20 % of overlapping 16 x 16 patches, "
                 "scored against BedMachine, the training target; not a test of skill where "
                 "radar is absent")


@dataclass(frozen=True)
class EvaluationSettings:
    """Config ``bedtopo.evaluation``."""

    far_m: float = 3000.0


def holdout_from_json(path: str | Path, inputs: RegionInputs) -> Holdout:
    """The held-out lines recorded by the ``bedtopo_holdout`` rule."""
    record = json.loads(Path(path).read_text())
    names = record["lines"]
    unknown = sorted(set(names) - set(inputs.lines))
    if unknown:
        raise ValueError(f"{path}: held-out lines {unknown} are not in the radar data")
    return Holdout(tuple(inputs.lines.index(n) for n in names), tuple(names),
                   float(record["buffer_m"]))


def holdout_record(holdout: Holdout, inputs: RegionInputs) -> dict:
    """What ``holdout.json`` holds: the lines, the buffer, and what is left to train on."""
    held = holdout.held_out_traces(inputs)
    excluded = holdout.excluded_cells(inputs.grid, inputs)
    return {"lines": list(holdout.names), "buffer_m": holdout.buffer_m,
            "held_out_traces": int(held.sum()), "training_traces": int((~held).sum()),
            "training_lines": [n for i, n in enumerate(inputs.lines) if i not in holdout.lines],
            "excluded_cells": int(excluded.sum()), "cells": int(excluded.size)}


def training_radar(inputs: RegionInputs, holdout: Holdout) -> tuple[np.ndarray, ...]:
    """Cell-averaged radar bed of the training lines outside the buffer: x, y, bed."""
    keep = ~holdout.held_out_traces(inputs)
    radar = grid_radar(inputs.grid, inputs.radar.x[keep], inputs.radar.y[keep],
                       inputs.radar_bed()[keep], inputs.radar_line[keep])
    usable = radar.has_radar & ~holdout.excluded_cells(inputs.grid, inputs)
    gx, gy = np.meshgrid(inputs.grid.x, inputs.grid.y)
    return gx[usable], gy[usable], radar.bed[usable].astype(np.float64)


def line_profiles(inputs: RegionInputs, holdout: Holdout, grid: GridSpec | None = None
                  ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per held-out line: the cells it crosses in flight order (rows, columns) and radar bed."""
    grid = grid or inputs.grid
    radar_bed = inputs.radar_bed()
    out = {}
    for index, name in zip(holdout.lines, holdout.names, strict=True):
        traces = inputs.radar_line == index
        row, col, inside = grid.cell_of(inputs.radar.x[traces], inputs.radar.y[traces])
        flat = (row * grid.shape[1] + col)[inside]
        cells, first = np.unique(flat, return_index=True)
        order = np.argsort(first)
        sums = np.bincount(flat, weights=radar_bed[traces][inside], minlength=grid.shape[0]
                           * grid.shape[1])
        counts = np.bincount(flat, minlength=grid.shape[0] * grid.shape[1])
        cells = cells[order]
        out[name] = (cells // grid.shape[1], cells % grid.shape[1], sums[cells] / counts[cells])
    return out


@dataclass
class Regions:
    """Boolean cell masks of the scored regions (ice cells only)."""

    holdout_block: np.ndarray
    far_from_radar: np.ndarray
    whole_grid: np.ndarray


def scoring_regions(inputs: RegionInputs, holdout: Holdout, far_m: float) -> Regions:
    ice = inputs.ice
    distance = distance_to_radar(inputs.grid, inputs.radar.x, inputs.radar.y)
    return Regions(holdout.excluded_cells(inputs.grid, inputs) & ice, (distance > far_m) & ice,
                   ice)


def score_method(bed: np.ndarray, inputs: RegionInputs, profiles: Mapping,
                 regions: Regions, truth: np.ndarray | None) -> dict:
    """Every score of one coarse-grid bed map."""
    vs_radar = profile_metrics([(bed[r, c], radar) for r, c, radar in profiles.values()])
    out: dict = {"holdout_lines": {"vs_radar": vs_radar}}
    if truth is not None:
        out["holdout_lines"]["vs_truth"] = profile_metrics(
            [(bed[r, c], truth[r, c]) for r, c, _ in profiles.values()])
        for name in ("holdout_block", "far_from_radar", "whole_grid"):
            out[name] = {"vs_truth": grid_metrics(bed, truth, getattr(regions, name))}
    return out


def block_mean(fine: np.ndarray, factor: int) -> np.ndarray:
    """A sub-grid field averaged back onto the input grid."""
    if factor == 1:
        return fine
    ny, nx = fine.shape[0] // factor, fine.shape[1] // factor
    return fine.reshape(ny, factor, nx, factor).mean(axis=(1, 3))


def faithful_protocol(run: TrainingRun, inputs: RegionInputs, truth: np.ndarray | None
                      ) -> dict:
    """The original's test: held-back random patches against BedMachine (and the truth)."""
    p, f = run.settings.patch, run.settings.subgrid_factor
    test = run.validation_patches
    predicted = np.stack([block_mean(patch, f)
                          for patch in predict_patches(run, inputs.fields, test)])
    bedmachine = np.stack([inputs.bedmachine["bed"][r:r + p, c:c + p] for r, c in test])
    seen = np.zeros(inputs.grid.shape, dtype=bool)
    for r, c in run.train_patches:
        seen[r:r + p, c:c + p] = True
    test_cells = np.zeros_like(seen)
    for r, c in test:
        test_cells[r:r + p, c:c + p] = True
    out = {"note": FAITHFUL_NOTE, "test_patches": len(test),
           "test_cells_also_in_training_patches": float(seen[test_cells].mean()),
           "vs_bedmachine": _patch_scores(predicted, bedmachine)}
    if truth is not None:
        out["vs_truth"] = _patch_scores(predicted, np.stack([truth[r:r + p, c:c + p]
                                                             for r, c in test]))
    return out


def _patch_scores(predicted: np.ndarray, reference: np.ndarray) -> dict:
    out = point_metrics(predicted.ravel(), reference.ravel())
    peak = float(np.ptp(reference))
    out["ssim"] = float(np.mean([structural_similarity(r.astype(np.float64),
                                                       e.astype(np.float64), data_range=peak,
                                                       win_size=SSIM_WINDOW)
                                 for e, r in zip(predicted, reference, strict=True)]))
    out["psnr_db"] = psnr(predicted, reference)
    out["ruggedness_m"] = float(np.mean([ruggedness_map(e).mean() for e in predicted]))
    out["ruggedness_reference_m"] = float(np.mean([ruggedness_map(r).mean() for r in reference]))
    return out


def subgrid_scores(fine_bed: np.ndarray, inputs: RegionInputs, holdout: Holdout,
                   factor: int) -> dict:
    """A sub-grid bed at the fine cells of the held-out traces, against their radar bed."""
    fine = inputs.grid.refined(factor)
    profiles = line_profiles(inputs, holdout, fine)
    return {"cell_m": fine.cell_m, "holdout_lines": {"vs_radar": profile_metrics(
        [(fine_bed[r, c], radar) for r, c, radar in profiles.values()])}}


def rmse_table(results: Mapping[str, dict]) -> list[dict]:
    """One row per method: RMSE against the truth and the radar on the held-out lines."""
    rows = []
    for name, scores in results.items():
        lines = scores["holdout_lines"]
        rows.append({"method": name, "rmse_vs_radar_m": lines["vs_radar"]["rmse_m"],
                     "rmse_vs_truth_m": lines.get("vs_truth", {}).get("rmse_m")})
    return rows
