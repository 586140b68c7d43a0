"""The steps of the climate workflow (one per rule of ``workflow/rules/climate.smk``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cryolearn.climate.evaluate import (
    evaluate_methods,
    markdown_table,
    ranking,
    read_run,
    read_run_and_dates,
    truth_for,
    write_labels,
    write_run,
)
from cryolearn.climate.features import climate_features, read_features, write_features
from cryolearn.climate.figures import plot_cluster_anomalies
from cryolearn.climate.methods import run_method
from cryolearn.io.files import write_json_atomic, write_text_atomic
from cryolearn.io.reanalysis import read_reanalysis

log = logging.getLogger(__name__)


def features_step(paths: Sequence[str], data: Mapping[str, Any], output: str) -> None:
    """Read the reanalysis over the region and period, scale, and store."""
    ds = read_reanalysis(paths, data["variables"], lat_range=data["lat_range"],
                         lon_range=data["lon_range"], period=data.get("period"),
                         level=data.get("level"), time_dim=data.get("time_dim"))
    features = climate_features(ds, list(data["variables"]))
    log.info("%d days × %d variables × %d × %d cells", *features.fields.shape)
    write_features(features, output)


def cluster_step(features_path: str, method: str, seed: int, settings: Mapping[str, Any],
                 output: str, threads: int = 1) -> None:
    """Cluster the days with one method and seed."""
    features = read_features(features_path)
    run = run_method(method, features, {**settings, "threads": threads}, seed)
    sizes = np.bincount(run.labels).tolist()
    log.info("%s seed %d: cluster sizes %s", method, seed, sizes)
    write_run(run, features.dates, output)


def labels_step(run_paths: Sequence[str], csv_path: str, netcdf_path: str) -> None:
    """Gather one method's seeds into its per-day label files."""
    read = [read_run_and_dates(p) for p in run_paths]
    runs = sorted((run for run, _ in read), key=lambda r: r.seed)
    write_labels(runs, read[0][1], csv_path, netcdf_path)


def evaluate_step(features_path: str, run_paths: Sequence[str], truth_dir: str | None,
                  json_path: str, markdown_path: str, evaluation: Mapping[str, Any]) -> None:
    """Score every method and seed; write the JSON and the Markdown table beside it."""
    features = read_features(features_path)
    runs: dict[str, list] = {}
    for path in run_paths:
        run = read_run(path)
        runs.setdefault(run.method, []).append(run)
    truth = truth_for(features.dates, truth_dir)
    results = evaluate_methods(features.table, runs, truth, evaluation["silhouette_metric"])
    rank_by = "adjusted_rand" if truth is not None else "silhouette"
    report = {
        "features": "like_for_like: every method clusters, and is scored on, the same "
                    "min-max scaled table (days × variables·cells)",
        "days": int(features.fields.shape[0]),
        "variables": features.variables,
        "grid": list(features.fields.shape[2:]),
        "silhouette_metric": evaluation["silhouette_metric"],
        "truth": truth is not None,
        "ranked_by": rank_by,
        "ranking": ranking(results, rank_by),
        "methods": results,
    }
    write_json_atomic(json_path, report)
    title = (f"# Climate clustering: {report['days']} days, like-for-like features, mean ± "
             f"standard deviation over seeds, ranked by {rank_by}\n\n")
    write_text_atomic(markdown_path, title + markdown_table(results, rank_by))
    log.info("ranking by %s: %s", rank_by, report["ranking"])


def figure_step(features_path: str, run_path: str, truth_dir: str | None, output: str) -> None:
    """Mean anomaly maps of the clusters of one run."""
    features = read_features(features_path)
    run = read_run(run_path)
    plot_cluster_anomalies(features, run.labels, f"{run.method} (seed {run.seed})",
                           Path(output), truth_for(features.dates, truth_dir))
