"""Scores of every method on the same features, over seeds; labels written as CSV and NetCDF.

Internal scores (silhouette with cosine distance as in DSC, Davies–Bouldin,
Calinski–Harabasz) are computed on the like-for-like scaled table for every
method. External scores (adjusted Rand index, normalised mutual information)
compare with the synthetic regimes when they are known. For the deep methods
the silhouette on their own embedding is reported apart, as
``silhouette_on_embedding``: it is what a score "in the latent space" measures,
and it is not comparable across methods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from sklearn import metrics

from cryolearn.climate.methods import ClusteringRun
from cryolearn.io.files import write_netcdf_atomic, write_text_atomic
from cryolearn.synth.climate import read_truth_regimes

INTERNAL = ("silhouette", "davies_bouldin", "calinski_harabasz")
EXTERNAL = ("adjusted_rand", "nmi")
#: direction of each score, for the table's arrows
HIGHER_IS_BETTER = {"silhouette": True, "davies_bouldin": False, "calinski_harabasz": True,
                    "adjusted_rand": True, "nmi": True}


def write_run(run: ClusteringRun, dates: np.ndarray, path: str | Path) -> None:
    """One method's labels (and embedding) for one seed, as NetCDF."""
    variables = {"label": (("time",), run.labels.astype(np.int32))}
    if run.embedding is not None:
        variables["embedding"] = (("time", "latent"), run.embedding.astype(np.float32))
    ds = xr.Dataset(variables, coords={"time": dates},
                    attrs={"method": run.method, "seed": run.seed,
                           "history": json.dumps(list(run.history))})
    write_netcdf_atomic(ds, path)


def read_run(path: str | Path) -> ClusteringRun:
    """Read what :func:`write_run` wrote."""
    return read_run_and_dates(path)[0]


def read_run_and_dates(path: str | Path) -> tuple[ClusteringRun, np.ndarray]:
    """Read what :func:`write_run` wrote, with the days it labels."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        embedding = ds["embedding"].values if "embedding" in ds else None
        run = ClusteringRun(str(ds.attrs["method"]), int(ds.attrs["seed"]),
                            ds["label"].values.astype(np.int64), embedding,
                            tuple(json.loads(ds.attrs["history"])))
        return run, ds["time"].values


def write_labels(runs: Sequence[ClusteringRun], dates: np.ndarray, csv_path: str | Path,
                 netcdf_path: str | Path) -> None:
    """Per-day labels of one method, one column per seed, as CSV and NetCDF."""
    seeds = [run.seed for run in runs]
    labels = np.stack([run.labels for run in runs]).astype(np.int32)
    table = pd.DataFrame({f"seed_{seed}": row for seed, row in zip(seeds, labels, strict=True)})
    table.insert(0, "date", _date_strings(dates))
    write_text_atomic(csv_path, table.to_csv(index=False))
    ds = xr.Dataset({"label": (("seed", "time"), labels)},
                    coords={"seed": seeds, "time": dates},
                    attrs={"method": runs[0].method})
    write_netcdf_atomic(ds, netcdf_path)


def _date_strings(dates: np.ndarray) -> list[str]:
    if np.issubdtype(np.asarray(dates).dtype, np.datetime64):
        return list(np.datetime_as_string(dates, unit="D"))
    return [str(d) for d in dates]


def clustering_scores(table: np.ndarray, labels: np.ndarray, truth: np.ndarray | None,
                      silhouette_metric: str = "cosine") -> dict[str, float | int | None]:
    """Internal scores on ``table`` and, with ``truth``, external ones.

    A clustering with a single cluster has no internal scores (None).
    """
    found = len(np.unique(labels))
    scores: dict[str, float | int | None] = {"clusters_found": found}
    if 1 < found < len(labels):
        scores["silhouette"] = float(metrics.silhouette_score(table, labels,
                                                              metric=silhouette_metric))
        scores["davies_bouldin"] = float(metrics.davies_bouldin_score(table, labels))
        scores["calinski_harabasz"] = float(metrics.calinski_harabasz_score(table, labels))
    else:
        scores.update({name: None for name in INTERNAL})
    if truth is not None:
        scores["adjusted_rand"] = float(metrics.adjusted_rand_score(truth, labels))
        scores["nmi"] = float(metrics.normalized_mutual_info_score(truth, labels))
    return scores


def _summary(per_seed: list[dict]) -> dict[str, dict[str, float | None]]:
    summary = {}
    for name in (*INTERNAL, *EXTERNAL, "silhouette_on_embedding"):
        values = [s[name] for s in per_seed if s.get(name) is not None]
        if values:
            summary[name] = {"mean": float(np.mean(values)), "std": float(np.std(values)),
                             "n": len(values)}
    return summary


def evaluate_methods(table: np.ndarray, runs: Mapping[str, Sequence[ClusteringRun]],
                     truth: np.ndarray | None, silhouette_metric: str = "cosine") -> dict:
    """Scores per method and seed, and their mean and standard deviation over seeds."""
    results = {}
    for method, method_runs in runs.items():
        per_seed = []
        for run in method_runs:
            scores = {"seed": run.seed,
                      **clustering_scores(table, run.labels, truth, silhouette_metric)}
            if run.embedding is not None and scores["silhouette"] is not None:
                scores["silhouette_on_embedding"] = float(metrics.silhouette_score(
                    run.embedding, run.labels, metric=silhouette_metric))
            per_seed.append(scores)
        results[method] = {"per_seed": per_seed, "summary": _summary(per_seed)}
    return results


def ranking(results: Mapping[str, dict], score: str) -> list[str]:
    """Methods from best to worst by the mean of ``score``."""
    scored = [(m, r["summary"][score]["mean"]) for m, r in results.items()
              if score in r["summary"]]
    return [m for m, _ in sorted(scored, key=lambda item: item[1],
                                 reverse=HIGHER_IS_BETTER[score])]


def markdown_table(results: Mapping[str, dict], rank_by: str) -> str:
    """Mean ± standard deviation over seeds, methods ranked by ``rank_by``."""
    columns = [c for c in (*EXTERNAL, *INTERNAL)
               if any(c in r["summary"] for r in results.values())]
    arrows = {c: "↑" if HIGHER_IS_BETTER[c] else "↓" for c in columns}
    header = ("| method | seeds | " + " | ".join(f"{c} {arrows[c]}" for c in columns)
              + " | silhouette on own embedding (not comparable) |")
    lines = [header, "|" + " --- |" * (len(columns) + 3)]
    ranked = ranking(results, rank_by)
    for method in ranked + [m for m in results if m not in ranked]:
        summary = results[method]["summary"]
        cells = [_cell(summary.get(c)) for c in columns]
        lines.append(f"| {method} | {len(results[method]['per_seed'])} | " + " | ".join(cells)
                     + f" | {_cell(summary.get('silhouette_on_embedding'))} |")
    return "\n".join(lines) + "\n"


def _cell(stats: dict | None) -> str:
    if not stats:
        return "–"
    return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def truth_for(dates: np.ndarray, truth_dir: str | None) -> np.ndarray | None:
    """The true regime of each day (synthetic data only)."""
    if truth_dir is None:
        return None
    regimes = read_truth_regimes(truth_dir)
    index = pd.DatetimeIndex(dates).normalize()
    missing = index.difference(regimes.index)
    if len(missing):
        raise ValueError(f"{truth_dir}: no true regime for {len(missing)} day(s), e.g. "
                         f"{missing[0].date()}")
    return regimes.loc[index].to_numpy()
