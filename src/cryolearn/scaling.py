"""What each rule costs as the work grows: Snakemake's benchmark files, power-law fits
and projections (``bench/scale.py``).

Snakemake writes one tab-separated file per job under ``benchmarks/{rule}/``, with
columns ``s`` (wall seconds), ``max_rss`` (peak resident memory, MB) and
``cpu_time`` (seconds of CPU, all threads). A rule's cost at a size is the sum of
its jobs' wall and CPU time and the largest of their peak RSS. Across sizes, each
is fitted as ``cost = a · n^b`` by least squares in log-log; ``b`` is the growth
exponent (1: linear in the work) and the fit projects the cost to a larger ``n``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import nnls


@dataclass(frozen=True)
class RuleCost:
    """One rule's jobs at one size."""

    jobs: int
    wall_s: float  #: summed over the jobs
    cpu_s: float  #: summed over the jobs
    max_rss_mb: float  #: the largest of the jobs'
    max_job_wall_s: float  #: the longest job


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "NA" where psutil could not read a value
        return math.nan


def read_benchmarks(benchmarks_dir: str | Path) -> dict[str, RuleCost]:
    """Costs per rule from a run's ``benchmarks/`` folder (the first path component
    under it names the rule).

    Raises
    ------
    ValueError
        Where the folder holds no benchmark file, or a file lacks the columns.
    """
    root = Path(benchmarks_dir)
    rows: dict[str, list[dict[str, float]]] = {}
    for path in sorted(root.rglob("*.tsv")):
        with path.open() as handle:
            records = list(csv.DictReader(handle, delimiter="\t"))
        if not records or not {"s", "max_rss", "cpu_time"} <= set(records[0]):
            raise ValueError(f"{path}: not a Snakemake benchmark file (needs columns s, "
                             "max_rss, cpu_time)")
        rule = path.relative_to(root).parts[0]
        for record in records:  # one row per repeat; a workflow run writes one
            rows.setdefault(rule, []).append({k: _number(record[k])
                                              for k in ("s", "max_rss", "cpu_time")})
    if not rows:
        raise ValueError(f"{root}: no benchmark files")
    return {rule: RuleCost(jobs=len(jobs), wall_s=float(sum(j["s"] for j in jobs)),
                           cpu_s=float(np.nansum([j["cpu_time"] for j in jobs])),
                           max_rss_mb=float(np.nanmax([j["max_rss"] for j in jobs])),
                           max_job_wall_s=float(max(j["s"] for j in jobs)))
            for rule, jobs in rows.items()}


@dataclass(frozen=True)
class PowerLaw:
    """``value = coefficient · n^exponent``, fitted in log-log."""

    coefficient: float
    exponent: float

    def __call__(self, n: float | np.ndarray) -> float | np.ndarray:
        return self.coefficient * np.asarray(n, dtype=float) ** self.exponent


def fit_power_law(sizes: Sequence[float], values: Sequence[float]) -> PowerLaw:
    """Least-squares power law through (size, value) pairs, in log-log.

    Raises
    ------
    ValueError
        With fewer than two distinct sizes, or non-positive sizes or values.
    """
    n = np.asarray(sizes, dtype=float)
    v = np.asarray(values, dtype=float)
    if n.shape != v.shape or len(np.unique(n)) < 2:
        raise ValueError("a growth fit needs values at two or more distinct sizes")
    if np.any(n <= 0) or np.any(~(v > 0)):
        raise ValueError(f"sizes and values must be positive: {n.tolist()}, {v.tolist()}")
    exponent, intercept = np.polyfit(np.log(n), np.log(v), 1)
    return PowerLaw(float(math.exp(intercept)), float(exponent))


def growth_table(runs: Mapping[str, Mapping[str, RuleCost]], sizes: Mapping[str, float],
                 metric: str) -> dict[str, PowerLaw]:
    """Per rule, the power law of ``metric`` (a :class:`RuleCost` field) against size,
    over the runs in which the rule ran with a positive value."""
    by_rule: dict[str, list[tuple[float, float]]] = {}
    for name, costs in runs.items():
        for rule, cost in costs.items():
            value = getattr(cost, metric)
            if value > 0:
                by_rule.setdefault(rule, []).append((sizes[name], value))
    fits = {}
    for rule, points in by_rule.items():
        if len({size for size, _ in points}) >= 2:
            fits[rule] = fit_power_law(*zip(*points, strict=True))
    return fits


@dataclass(frozen=True)
class JobCost:
    """``cost = per_job · jobs + per_unit · n``: each job's start-up (imports, reading its
    inputs' metadata) and the work per tile or shot."""

    per_job: float
    per_unit: float

    def __call__(self, jobs: float, n: float) -> float:
        return self.per_job * jobs + self.per_unit * n


def fit_job_cost(jobs: Sequence[float], units: Sequence[float],
                 values: Sequence[float]) -> JobCost:
    """Non-negative least-squares :class:`JobCost` through (jobs, units, value) triples.

    Where a rule's start-up is a large part of its cost at the sizes measured, its
    log-log slope understates how it grows; this model separates the two, and
    projects with the number of jobs the larger problem has.

    Raises
    ------
    ValueError
        With fewer than two distinct sizes.
    """
    a = np.column_stack([np.asarray(jobs, float), np.asarray(units, float)])
    v = np.asarray(values, float)
    if len(np.unique(a[:, 1])) < 2:
        raise ValueError("a cost model needs values at two or more distinct sizes")
    (per_job, per_unit), _ = nnls(a, v)
    return JobCost(float(per_job), float(per_unit))
