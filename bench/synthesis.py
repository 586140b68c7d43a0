"""The full-size synthetic inputs, measured on their own shards: how long the original's
frames and shots take to make on 2 cores.

``config/scale.yaml`` asks for 210 flights of 40 frames and 19 campaigns of about
55,000 shots (1.04 million). This script runs the workflow's own rules
(``synth_glas`` and ``synth_flight_*``, with Snakemake's start-up of each job) at that
size for one campaign and a few flights, two jobs at a time on 2 cores as a run of
the whole would, and projects the whole from the jobs' CPU time: every campaign flies
the same tracks and every flight copies one of the ten lines, so each is one more job
of the same kind. ``bench/world.py`` compares the world's evaluation with its
composed form; this is the cost of the inputs as the workflow makes them.

Run from the repository root:  python bench/synthesis.py [--flights 4] [--campaign L2E]
"""

from __future__ import annotations

import argparse
import copy
import csv
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
import yaml

from cryolearn.io.zarrstore import open_group
from cryolearn.synth.flights import FlightSpec, flight_configs, frame_paths
from cryolearn.synth.scale import ScaleFactors, scale_synth

ROOT = Path(__file__).resolve().parents[1]


def scaled_synth() -> tuple[dict, dict]:
    """The demo's config, and its ``synth`` section at the original's size."""
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    scale = yaml.safe_load((ROOT / "config/scale.yaml").read_text())
    synth = scale_synth(copy.deepcopy(base["synth"]), ScaleFactors.from_dict(scale["scale"]))
    return base, synth


def targets(base: dict, synth: dict, campaign: str, n_flights: int) -> tuple[list[str], list]:
    """One campaign's GLAH01 and the first frame of ``n_flights`` flights spread over the
    ten lines and their copies (the rule writes a flight's frames all at once)."""
    flights = flight_configs(synth)
    chosen = [flights[i] for i in np.linspace(0, len(flights) - 1, n_flights).astype(int)]
    glas = f"{base['glas']['dir']}/{campaign}/GLAH01_033_{campaign}_synthetic_0001.H5"
    frames = [str(frame_paths(FlightSpec.from_dict(f), base["dem"]["dir"])[0]) for f in chosen]
    return [glas, *frames], chosen


def read_benchmark(path: Path) -> dict[str, float]:
    """Wall (s), CPU (s) and peak RSS (MB) of one Snakemake benchmark file."""
    with path.open() as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    return {"wall": float(row["s"]), "cpu": float(row["cpu_time"]),
            "rss": float(row["max_rss"])}


def frame_pixels(flight_dir: Path) -> int:
    """Pixels with data in a flight's frames."""
    total = 0
    for path in sorted(flight_dir.glob("*_DEM.tif")):
        with rasterio.open(path) as src:
            total += int((src.read(1) != src.nodata).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=4)
    parser.add_argument("--campaign", default="L2E")
    args = parser.parse_args()
    base, synth = scaled_synth()
    wanted, chosen = targets(base, synth, args.campaign, args.flights)
    n_flights = len(flight_configs(synth))
    n_campaigns = len(yaml.safe_load((ROOT / "config/scale.yaml").read_text())
                      ["synth"]["glas"]["campaigns"])
    with tempfile.TemporaryDirectory(prefix="cryolearn-synthesis-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "snakemake", *wanted, "-s", str(ROOT / "Snakefile"),
             "--directory", str(work), "--cores", "2", "--quiet", "all", "--configfile",
             str(ROOT / "config/config.yaml"), str(ROOT / "config/scale.yaml")],
            check=True)
        campaign = read_benchmark(work / f"benchmarks/synth_glas/{args.campaign}.tsv")
        truth = open_group(work / base["synth"]["truth_dir"] / f"glas/{args.campaign}.zarr")
        shots = int(truth["x"].shape[0])
        flights = [read_benchmark(work / f"benchmarks/synth_flight/{f['name']}.tsv")
                   for f in chosen]
        pixels = [frame_pixels(work / base["dem"]["dir"] / f["name"]) for f in chosen]
    flight_cpu = float(np.mean([f["cpu"] for f in flights]))
    total_cpu = n_campaigns * campaign["cpu"] + n_flights * flight_cpu
    print(f"### {date.today()}, {platform.machine()}, Python {platform.python_version()}, "
          "2 jobs at a time on 2 cores\n")
    print("| job | n | wall s | CPU s | peak RSS MB | rate (CPU) |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| synth_glas {args.campaign} | {shots:,} shots | {campaign['wall']:.1f} | "
          f"{campaign['cpu']:.1f} | {campaign['rss']:.0f} | "
          f"{shots / campaign['cpu']:.0f} shots/s |")
    for f, bench, px in zip(chosen, flights, pixels, strict=True):
        print(f"| synth_flight {f['name']} | {px:,} pixels | {bench['wall']:.1f} | "
              f"{bench['cpu']:.1f} | {bench['rss']:.0f} | {px / bench['cpu'] / 1e6:.2f} M px/s |")
    print(f"\nfull size: {n_campaigns} campaigns × {campaign['cpu']:.0f} s + {n_flights} "
          f"flights × {flight_cpu:.1f} s = {total_cpu / 3600:.2f} CPU h, at least "
          f"{total_cpu / 2 / 60:.0f} min on 2 cores")


if __name__ == "__main__":
    main()
