"""The bed-topography steps as the workflow runs them: one function per rule, paths in and out."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from cryolearn.bedtopo.baselines import KrigingSettings, kriging_bed, linear_bed
from cryolearn.bedtopo.data import (
    RegionInputs,
    choose_holdout,
    prepare_inputs,
    read_inputs,
    write_inputs,
)
from cryolearn.bedtopo.evaluate import (
    BEDMACHINE_NOTE,
    EvaluationSettings,
    block_mean,
    faithful_protocol,
    holdout_from_json,
    holdout_record,
    line_profiles,
    rmse_table,
    score_method,
    scoring_regions,
    subgrid_scores,
    training_radar,
)
from cryolearn.bedtopo.train import (
    TrainingSettings,
    load_run,
    predict_grid,
    save_run,
    train_bedtopo,
)
from cryolearn.io.files import write_json_atomic
from cryolearn.io.grids import GRID_CRS, GridSpec, read_bed, write_grid_netcdf
from cryolearn.io.raster import write_geotiff
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

RADAR_SUFFIXES = (".csv", ".txt")


def radar_files(paths: Sequence[str | Path]) -> list[Path]:
    """Radar files: the files given, and the ``*.csv``/``*.txt`` files of folders given."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in RADAR_SUFFIXES
                           and not p.name.startswith((".", "README")))
            if not found:
                raise ValueError(f"{path}: radar folder holds no .csv or .txt files")
            out += found
        else:
            out.append(path)
    return out


def prepare_step(bedmachine: str, fields: Mapping[str, Mapping], radar: Sequence[str],
                 bounds: Sequence[float] | None, out: str) -> RegionInputs:
    """Rule ``bedtopo_inputs``."""
    inputs = prepare_inputs(bedmachine, fields, radar_files(radar), bounds=bounds)
    log.info("grid %d x %d at %.0f m; %d radar lines; %s", *inputs.grid.shape,
             inputs.grid.cell_m, len(inputs.lines), inputs.counts)
    write_inputs(inputs, out)
    return inputs


def holdout_step(inputs_store: str, settings: Mapping, out: str) -> None:
    """Rule ``bedtopo_holdout``: which lines are held out, written as JSON."""
    inputs = read_inputs(inputs_store)
    holdout = choose_holdout(inputs, share=settings["share"], buffer_m=settings["buffer_m"],
                             seed=settings["seed"], lines=settings["lines"])
    record = holdout_record(holdout, inputs)
    log.info("held out %s (%d traces); %d cells excluded from training", record["lines"],
             record["held_out_traces"], record["excluded_cells"])
    write_json_atomic(out, record)


def train_step(inputs_store: str, holdout_json: str, protocol: str, settings: Mapping,
               out: str, *, checkpoint: str, device: str, threads: int) -> None:
    """Rule ``train_bedtopo``."""
    torch.set_num_threads(max(1, threads))
    inputs = read_inputs(inputs_store)
    holdout = holdout_from_json(holdout_json, inputs) if protocol == "holdout" else None
    run = train_bedtopo(inputs, TrainingSettings.from_config(dict(settings)), protocol=protocol,
                        holdout=holdout, checkpoint=checkpoint, device=device)
    save_run(run, out)


def _bed_attrs(method: str, extra: Mapping | None = None) -> dict[str, str]:
    return {"title": f"bed elevation from {method} (cryolearn)", "method": method,
            **{k: json.dumps(v) if not isinstance(v, str) else v
               for k, v in (extra or {}).items()}}


def write_bed(netcdf: str, grid: GridSpec, bed: np.ndarray, error: np.ndarray, *,
              method: str, error_name: str, extra: Mapping | None = None,
              geotiff: str | None = None) -> None:
    """A bed and its error as NetCDF (BedMachine layout) and, optionally, a 2-band GeoTIFF."""
    write_grid_netcdf(netcdf, grid, {"bed": bed.astype(np.float32),
                                     "errbed": error.astype(np.float32)},
                      attrs={**_bed_attrs(method, extra), "errbed": error_name},
                      units={"bed": "meters", "errbed": "meters"})
    if geotiff:
        write_geotiff(geotiff, [bed.astype(np.float32), error.astype(np.float32)],
                      transform=grid.transform, crs=GRID_CRS, nodata=np.nan,
                      names=["bed", "errbed"],
                      tags={"method": method, "errbed": error_name})


def predict_step(inputs_store: str, model: str, netcdf: str, geotiff: str, *, mc_samples: int,
                 seed: int, device: str) -> None:
    """Rule ``predict_bedtopo``: the bed on the (sub-)grid and its Monte Carlo dropout spread."""
    inputs = read_inputs(inputs_store)
    run = load_run(model)
    bed, spread = predict_grid(run, inputs.fields, mc_samples=mc_samples, seed=seed,
                               device=device, progress=True)
    if spread is None:
        spread = np.full_like(bed, np.nan)
    grid = inputs.grid.refined(run.settings.subgrid_factor)
    write_bed(netcdf, grid, bed, spread, method=f"deeptoponet ({run.protocol} protocol)",
              error_name=f"standard deviation of {mc_samples} Monte Carlo dropout predictions",
              extra={"mode": run.settings.mode, "held_out_lines": run.holdout_lines},
              geotiff=geotiff)


def baseline_step(inputs_store: str, holdout_json: str, method: str, settings: Mapping,
                  out: str) -> None:
    """Rule ``bedtopo_baseline``: ``kriging`` or ``linear`` from the training lines."""
    inputs = read_inputs(inputs_store)
    holdout = holdout_from_json(holdout_json, inputs)
    x, y, bed = training_radar(inputs, holdout)
    log.info("%s from %d radar cells of the training lines", method, len(bed))
    if method == "linear":
        estimate = linear_bed(x, y, bed, inputs.grid)
        write_bed(out, inputs.grid, estimate, np.full_like(estimate, np.nan), method=method,
                  error_name="none")
        return
    if method != "kriging":
        raise ValueError(f"unknown baseline {method!r} (kriging, linear)")
    kriging = settings_from(KrigingSettings, settings, "bedtopo.baselines.kriging")
    estimate, sd, variogram = kriging_bed(x, y, bed, inputs.grid, kriging)
    write_bed(out, inputs.grid, estimate, sd, method=method,
              error_name="kriging standard deviation", extra={"variogram": variogram.summary()})


def evaluate_step(inputs_store: str, holdout_json: str, predictions: Mapping[str, str],
                  faithful_model: str | None, truth: str | None, settings: Mapping,
                  out: str) -> dict:
    """Rule ``evaluate_bedtopo``: every method on the same cells, and the faithful protocol."""
    inputs = read_inputs(inputs_store)
    holdout = holdout_from_json(holdout_json, inputs)
    evaluation = settings_from(EvaluationSettings, settings, "bedtopo.evaluation")
    truth_bed = read_bed(truth) if truth else None
    profiles = line_profiles(inputs, holdout)
    regions = scoring_regions(inputs, holdout, evaluation.far_m)
    methods: dict[str, dict] = {}
    beds = {"bedmachine": inputs.bedmachine["bed"],
            **{name: read_bed(path) for name, path in predictions.items()}}
    for name, bed in beds.items():
        factor = bed.shape[0] // inputs.grid.shape[0]
        methods[name] = score_method(block_mean(bed, factor), inputs, profiles, regions,
                                     truth_bed)
        if factor > 1:
            methods[name]["subgrid"] = subgrid_scores(bed, inputs, holdout, factor)
    methods["bedmachine"]["note"] = BEDMACHINE_NOTE
    result = {
        "holdout": holdout_record(holdout, inputs),
        "regions": {"far_m": evaluation.far_m,
                    "cells": {name: int(getattr(regions, name).sum())
                              for name in ("holdout_block", "far_from_radar", "whole_grid")}},
        "truth": truth is not None,
        "rmse_on_holdout_lines": rmse_table(methods),
        "methods": methods,
    }
    if faithful_model:
        run = load_run(faithful_model)
        result["faithful_protocol"] = {"mode": run.settings.mode,
                                       **faithful_protocol(run, inputs, truth_bed)}
    write_json_atomic(out, result)
    return result
