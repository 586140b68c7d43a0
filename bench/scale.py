"""Cost as the work grows: the crevasse workflow at several sizes, every rule's wall
time, CPU time and peak RSS, their growth exponents, and the original's full size
projected from them.

Each size is the demo (config/config.yaml) with config ``scale``
(:mod:`cryolearn.synth.scale`) set as in ``SIZES``; bed topography and climate are
off, as they do not grow with it. A run goes into its own folder under ``--root``;
its per-job benchmark files (``benchmarks/{rule}/...``, written by every rule) are
summed per rule (:func:`cryolearn.scaling.read_benchmarks`) and kept in
``bench/scale_runs.json``, so ``--analyse-only`` refits without rerunning.

Each rule's cost is fitted as a power law of the work that drives it: unique
library tiles for the rules of the flights and library, GLAS shots for those of the
shots and maps. ``b`` is the log-log slope over every size; the projection to the
original's size (212,534 tiles; 10⁶ shots, the floor of issue 23, of the original's
3 million) follows the slope between the two largest sizes, where each job's
start-up weighs least and a cap (a sample of tiles, a memory budget) already shows.
The reference each rule is held against is linear growth (exponent 1): a rule
growing faster is where the full size breaks. Sizes run the demo's 15 × 20 SOM; the
original's 200 × 300 map is measured on its own by bench/som.py, and OPTICS over its
60,000 codebook vectors by bench/optics.py.

Run:  python bench/scale.py [--sizes 0.25 0.5 1 2] [--cores 2] [--root /tmp/cryolearn-scale]
      python bench/scale.py --analyse-only
Writes bench/scale_runs.json and bench/scale.png; results go in bench/README.md.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import yaml
import zarr

from cryolearn.constants import CAMPAIGN_YEARS
from cryolearn.crevasse.shots.autoencoder import denoise
from cryolearn.crevasse.surfaces.clusters import central_tiles
from cryolearn.scaling import RuleCost, fit_job_cost, growth_table, read_benchmarks
from cryolearn.synth.scale import ScaleFactors, scale_synth

REPO = Path(__file__).resolve().parents[1]
RUNS_JSON = REPO / "bench" / "scale_runs.json"
FIGURE = REPO / "bench" / "scale.png"
REAL_SHOTS = REPO.parent / "shared" / "data" / "glas_jakobshavn"

#: config ``scale`` of each size, against the demo (10 flights of 10 frames, 2,540
#: tiles; 7 campaigns of 3 tracks of 22 km, 2,626 shots)
SIZES: dict[str, dict] = {
    "0.25": {"frames": 0.25, "track_length": 0.25},
    "0.5": {"frames": 0.5, "track_length": 0.5},
    "1": {},
    "2": {"flights": 2, "tracks": 2},
    "4": {"flights": 4, "tracks": 4},
    "16": {"flights": 16, "tracks": 16},
}
#: the original's problem (issue 23): unique tiles in the SOM, shots matched
FULL = {"tiles": 212_534, "shots": 1_000_000}
#: rules whose work is the shots (per campaign, maps, their figures); the rest follow
#: the library's tiles
SHOT_RULES = {"synth_glas", "ingest_glas", "empirical_distributions", "evaluate_realism",
              "denoise_shots", "match_shots", "classify_shots", "shot_probabilities",
              "map_grid", "rasterise_year", "change_map", "evaluate_crevasse",
              "figure_crevasse_maps", "figure_reliability", "figure_cleaned_shots",
              "figure_matches"}
MEMORY_LIMIT_MB = 8000.0
PER_FLIGHT = {"synth_flight", "tile_flight", "tile_truth", "simulate_flight"}
PER_CAMPAIGN = {"synth_glas", "ingest_glas", "denoise_shots", "match_shots",
                "classify_shots", "shot_probabilities"}
#: rules whose memory stops growing at a number of tiles, and why: the peak RSS is
#: projected from the slope up to that number (cryolearn's own bounds, in its code)
DEMO = yaml.safe_load((REPO / "config/config.yaml").read_text())
FULL_CONFIG = {**DEMO, **yaml.safe_load((REPO / "config/scale.yaml").read_text())}
#: bytes of one library tile in the merge: 200 x 200 float32 heights, 544 float32 samples
LIBRARY_TILE_BYTES = 4 * (200 * 200 + DEMO["waveform"]["n_samples"])
def _default(function: Callable, name: str) -> int:
    """A keyword's default in cryolearn's code: the caps follow the code, not a copy."""
    return int(inspect.signature(function).parameters[name].default)


MEMORY_CAPS = {
    "evaluate_som": (DEMO["clusters"]["evaluation"]["sample"],
                     "clusters.evaluation.sample: neighbours of the sampled tiles"),
    # plot_neighbours_before_after samples at most 3,000 tiles
    "figure_som": (3000, "the neighbour figure's 3,000 sampled tiles"),
    "build_library": (int(DEMO["library"]["memory_mb"] * 2**20 / LIBRARY_TILE_BYTES),
                      "library.memory_mb: the merge's buckets"),
    # beyond one chunk the tiles stream from the store; the PCA start reads its sample
    "fit_som": (DEMO["som"]["pca_sample"],
                "som.pca_sample: the PCA start's sample; the rest streams"),
    # the network's activations grow with its batch, up to that many shots; beyond it
    # only the campaign's arrays (about 10 KB a shot)
    "denoise_shots": (_default(denoise, "batch_size"), "the network's batch of shots"),
    # central tiles are found in two passes over blocks of tiles
    "cluster_som": (_default(central_tiles, "block_rows"), "the central tiles' blocks"),
    # a pulse's examples come from at most this many tiles, degraded at once: beyond
    # it only the tiles' energy histograms grow (544 float32, 2 KB a tile)
    "train_classifier": (DEMO["classifier"]["examples"]["max_tiles_per_pulse"],
                         "classifier.examples.max_tiles_per_pulse: a pulse's examples"),
}
METRICS = ("wall_s", "cpu_s", "max_rss_mb")
#: Snakemake samples a job's memory about once a second: a job this short may be read
#: before its imports, and a line through such readings projects nothing
SHORT_JOB_S = 2.0


def overlay(size: str) -> dict:
    """The config laid over config/config.yaml for one size."""
    extra: dict = {"scale": SIZES[size], "bedtopo": {"enabled": False}}
    if REAL_SHOTS.is_dir():
        extra["realism"] = {"real": [str(REAL_SHOTS)]}
    return extra


def run_size(size: str, root: Path, cores: int) -> dict:
    """Run the workflow at one size in its own folder; its costs and work."""
    workdir = root / size
    workdir.mkdir(parents=True, exist_ok=True)
    overlay_file = workdir / "overlay.yaml"
    overlay_file.write_text(yaml.safe_dump(overlay(size), sort_keys=False))
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(REPO / "config/config.yaml"),
               str(overlay_file), "--cores", str(cores)]
    print(f"size {size}: {' '.join(command[2:])}", flush=True)
    start = time.perf_counter()
    with (workdir / "snakemake.txt").open("w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"size {size}: snakemake failed (exit {done.returncode}); see "
                         f"{workdir / 'snakemake.txt'}")
    costs = read_benchmarks(workdir / "benchmarks")
    return {"factors": SIZES[size], "wall_s": wall, "cores": cores,
            "tiles": int(zarr.open_group(workdir / "results/library.zarr",
                                         mode="r")["hash"].shape[0]),
            "shots": sum(int(zarr.open_group(p, mode="r")["saturated"].shape[0])
                         for p in sorted((workdir / "results/shots").glob("*.zarr"))),
            "rules": {rule: vars(cost) for rule, cost in costs.items()}}


def driver(rule: str) -> str:
    return "shots" if rule in SHOT_RULES else "tiles"


def full_jobs(rule: str) -> int:
    """Jobs of a rule at config/scale.yaml's size: one per flight, campaign, mapped year
    or change pair."""
    synth = scale_synth(DEMO["synth"], ScaleFactors.from_dict(FULL_CONFIG["scale"]))
    campaigns = [c["name"] for c in FULL_CONFIG["synth"]["glas"]["campaigns"]]
    if rule in PER_FLIGHT:
        return len(synth["flights"])
    if rule in PER_CAMPAIGN:
        return len(campaigns)
    if rule == "rasterise_year":
        return len({CAMPAIGN_YEARS[c] for c in campaigns})
    if rule == "change_map":
        return len(DEMO["maps"]["change_pairs"])
    return 1


def analyse(runs: dict) -> list[dict]:
    """Per rule: costs at each size, growth exponents, and the full-size projection.

    ``b`` is the log-log slope over all sizes, ``b_top`` the slope between the two
    largest. Time is projected with :func:`cryolearn.scaling.fit_job_cost` (start-up
    per job plus work per tile or shot, fitted over all sizes), as start-up makes the
    slopes understate the growth; peak memory with :func:`_memory_projection`.
    """
    names = sorted(runs, key=lambda n: runs[n]["tiles"])
    costs = {n: {r: RuleCost(**c) for r, c in runs[n]["rules"].items()} for n in names}
    top = names[-2:]
    rows = []
    fits: dict[str, dict] = {}
    local: dict[str, dict] = {}
    for work in ("tiles", "shots"):
        sizes = {n: runs[n][work] for n in names}
        fits[work] = {m: growth_table(costs, sizes, m) for m in METRICS}
        local[work] = {m: growth_table({n: costs[n] for n in top}, sizes, m) for m in METRICS}
    for rule in sorted({r for n in names for r in costs[n]}):
        work = driver(rule)
        ran = [n for n in names if rule in costs[n]]
        row = {"rule": rule, "driver": work, "jobs_full": full_jobs(rule),
               "wall_s": [costs[n][rule].wall_s if rule in costs[n] else None for n in names],
               "max_rss_mb": [costs[n][rule].max_rss_mb if rule in costs[n] else None
                              for n in names],
               # jobs this short at the two largest sizes: memory not projected (None)
               "short": all(costs[n][rule].max_job_wall_s < SHORT_JOB_S for n in ran[-2:])}
        for metric in METRICS:
            law, near = fits[work][metric].get(rule), local[work][metric].get(rule)
            row[f"{metric}_exponent"] = law.exponent if law else None
            row[f"{metric}_local_exponent"] = near.exponent if near else None
            projected = None
            if metric == "max_rss_mb" and near and not row["short"]:
                projected, row["max_rss_mb_linear_full"] = _memory_projection(
                    rule, [runs[n][work] for n in ran], [costs[n][rule] for n in ran],
                    FULL[work], row["jobs_full"], near.exponent)
            elif metric != "max_rss_mb" and len({runs[n][work] for n in ran}) >= 2:
                model = fit_job_cost([costs[n][rule].jobs for n in ran],
                                     [runs[n][work] for n in ran],
                                     [getattr(costs[n][rule], metric) for n in ran])
                projected = model(row["jobs_full"], FULL[work])
                row[f"{metric}_per_unit"] = model.per_unit
            row[f"{metric}_full"] = projected
        rows.append(row)
    return rows


def _memory_projection(rule: str, work: list[float], costs: list[RuleCost], full_work: float,
                       jobs_full: int, exponent: float) -> tuple[float, float]:
    """A job's peak RSS at full size: the larger of the power law and of a baseline plus
    a cost per unit of its own work, both through the two largest sizes, under the
    rule's cap.

    A per-flight or per-campaign job's work is its shard's, the run's over its jobs.
    The power law alone hides linear growth under a large baseline (imports, a
    model): 600 MB growing by 30 MB per thousand tiles has a slope of 0.1 at the demo's
    size and reaches 7 GB at the original's.
    """
    per_job = [w / c.jobs if rule in PER_FLIGHT | PER_CAMPAIGN else w
               for w, c in zip(work, costs, strict=True)]
    full = full_work / jobs_full if rule in PER_FLIGHT | PER_CAMPAIGN else full_work
    measured = per_job[-1]
    if rule in MEMORY_CAPS:
        cap = MEMORY_CAPS[rule][0]
        full, measured = min(full, cap), min(measured, cap)
    law = costs[-1].max_rss_mb * (full / measured) ** max(exponent, 0.0)
    # the same start-up-plus-work model as the times, a "job" standing for the baseline,
    # through the two largest sizes (a small size's odd reading, 3 MB for a job that
    # takes 70, would otherwise set the slope)
    top = [min(w, MEMORY_CAPS[rule][0]) if rule in MEMORY_CAPS else w for w in per_job[-2:]]
    if top[0] == top[1]:  # both beyond the cap: no growth left
        return law, costs[-1].max_rss_mb
    linear = fit_job_cost([1.0, 1.0], top, [c.max_rss_mb for c in costs[-2:]])
    straight = linear(1, full)
    return max(law, straight), straight


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(runs: dict, rows: list[dict]) -> None:
    names = sorted(runs, key=lambda n: runs[n]["tiles"])
    print("sizes: " + "; ".join(f"{n}: {runs[n]['tiles']:,} tiles, {runs[n]['shots']:,} shots, "
                                 f"{runs[n]['wall_s'] / 60:.1f} min on {runs[n]['cores']} cores"
                                 for n in names))
    print(f"full size: {FULL['tiles']:,} tiles, {FULL['shots']:,} shots, the demo's "
          "15 x 20 SOM (the 200 x 300 map: bench/som.py)")
    header = (["rule", "by"] + [f"wall {n}" for n in names]
              + ["b(wall)", "b(wall) top", "jobs at full size", "full CPU h", "full wall h"]
              + [f"RSS {n}" for n in names] + ["b(RSS) top", "full RSS GB"])
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for row in sorted(rows, key=lambda r: -(r["wall_s_full"] or 0)):
        rss_full = row["max_rss_mb_full"]
        flag = " (over 8 GB)" if rss_full and rss_full > MEMORY_LIMIT_MB else ""
        if row["rule"] in MEMORY_CAPS:
            flag += f" (capped at {MEMORY_CAPS[row['rule']][0]:,} {row['driver']})"
        if row["short"]:
            flag += f" (jobs under {SHORT_JOB_S:.0f} s: memory read too early to project)"
        cells = ([row["rule"], row["driver"]] + [_fmt(w, 1) for w in row["wall_s"]]
                 + [_fmt(row["wall_s_exponent"], 2), _fmt(row["wall_s_local_exponent"], 2),
                    f"{row['jobs_full']:,}",
                    _fmt(row["cpu_s_full"] / 3600 if row["cpu_s_full"] else None, 2),
                    _fmt(row["wall_s_full"] / 3600 if row["wall_s_full"] else None, 2)]
                 + [_fmt(m) for m in row["max_rss_mb"]]
                 + [_fmt(row["max_rss_mb_local_exponent"], 2),
                    _fmt(rss_full / 1000 if rss_full else None, 1) + flag])
        print(" | ".join(cells))
    cpu = sum(r["cpu_s_full"] or 0 for r in rows)
    wall = sum(r["wall_s_full"] or 0 for r in rows)
    over = [r["rule"] for r in rows if (r["max_rss_mb_full"] or 0) > MEMORY_LIMIT_MB]
    print(f"projected at full size: {cpu / 3600:,.1f} h of CPU and {wall / 3600:,.1f} h of "
          f"job wall time, at least {max(cpu, wall) / 2 / 3600:,.1f} h on 2 cores (perfect "
          f"packing of the larger); rules projected over 8 GB: {', '.join(over) or 'none'}")
    print("one GPU node: not measured here (no GPU in the session that ran this); "
          "bench/README.md records the GPU runs of the SOM, autoencoder and matching")


def plot(runs: dict, rows: list[dict], out: Path, top: int = 10) -> None:
    names = sorted(runs, key=lambda n: runs[n]["tiles"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    shown = sorted(rows, key=lambda r: -(r["wall_s_full"] or 0))[:top]
    for row in shown:
        work = np.array([runs[n][row["driver"]] for n in names], dtype=float)
        for ax, key in zip(axes, ("wall_s", "max_rss_mb"), strict=True):
            values = np.array([np.nan if v is None else v for v in row[key]], dtype=float)
            ax.loglog(work, values, "o-", label=f"{row['rule']} ({row['driver']}, "
                      f"b={row[f'{key}_exponent'] or float('nan'):.2f})")
    for ax, label in zip(axes, ("wall time summed over jobs, s", "peak RSS of a job, MB"),
                         strict=True):
        ax.set_xlabel("work: unique tiles or shots (legend)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].axhline(MEMORY_LIMIT_MB, color="k", ls="--", lw=1)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"cryolearn rules as the work grows ({platform.node()}, {date.today()}); "
                 f"the {top} rules of most projected time at full size")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["0.25", "0.5", "1"], choices=SIZES)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--root", type=Path, default=Path("/tmp/cryolearn-scale"))
    parser.add_argument("--analyse-only", action="store_true",
                        help="refit bench/scale_runs.json without running")
    args = parser.parse_args()
    runs = json.loads(RUNS_JSON.read_text()) if RUNS_JSON.exists() else {}
    if not args.analyse_only:
        for size in args.sizes:
            runs[size] = run_size(size, args.root, args.cores)
            runs[size]["machine"] = f"{platform.node()}, {date.today()}"
            RUNS_JSON.write_text(json.dumps(runs, indent=1))
    if len(runs) < 2:
        raise SystemExit("a growth fit needs runs at two or more sizes")
    rows = analyse(runs)
    print_table(runs, rows)
    plot(runs, rows, FIGURE)
    print(f"figure: {FIGURE}")


if __name__ == "__main__":
    main()
