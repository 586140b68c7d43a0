"""Synthetic-world benchmarks: the fused world against its composed form, side by side.

``SyntheticWorld.evaluate`` draws each zone's parameters once and evaluates the points
in one compiled pass (:mod:`cryolearn.synth._world_kernel`);
``SyntheticWorld.evaluate_composed`` is the same arithmetic as array expressions per
surface class around smaller kernels (the world's form before 2026-12-04), the
reference it is checked against (``tests/synth/test_world_kernel.py``: the same
classes, elevations within picometres).

(a) pixels/s of evaluating a 0.5 m grid in blocks of rows (what ``synth_flight_*``
    renders), over the interior and over the outlet trunk;
(b) shots/s of ``simulate_campaign`` on the demo's three 22 km tracks (what
    ``synth_glas`` does per campaign: footprints rendered from the world, waveforms,
    degradation).

Run:  python bench/world.py [--pixels 2000000] [--tracks 3]
Per-core numbers: the kernels run on one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
from collections.abc import Iterator
from datetime import date

import numba
import numpy as np
import yaml

from cryolearn.crevasse.library.forward import forward_model
from cryolearn.synth.glas import (
    Instrument,
    campaign_from_config,
    simulate_campaign,
    tracks_from_config,
)
from cryolearn.synth.world import SyntheticWorld, WorldParams


@contextlib.contextmanager
def composed_world() -> Iterator[None]:
    """Evaluate the world in its composed form wherever it is evaluated."""
    fused = SyntheticWorld.evaluate
    SyntheticWorld.evaluate = SyntheticWorld.evaluate_composed
    try:
        yield
    finally:
        SyntheticWorld.evaluate = fused


def evaluate_rate(world: SyntheticWorld, x0: float, y0: float, n_pixels: int) -> float:
    """Pixels/s of evaluating a square 0.5 m grid of ``n_pixels`` at (x0, y0)."""
    side = int(np.sqrt(n_pixels))
    x, y = np.meshgrid(x0 + 0.5 * np.arange(side), y0 + 0.5 * np.arange(side))
    t0 = time.perf_counter()
    for start in range(0, side, 250):  # frames are rendered in blocks of rows
        world.evaluate(x[start:start + 250], y[start:start + 250], 2009.0)
    return side * side / (time.perf_counter() - t0)


def campaign_rate(config: dict, n_tracks: int) -> tuple[float, int]:
    """Shots/s of flying one campaign over the first ``n_tracks`` tracks, and the shots."""
    synth = config["synth"]
    world = SyntheticWorld(WorldParams.from_dict(synth["world"]))
    glas = synth["glas"]
    forward = forward_model(n_samples=544, lead_ns=10.0, pulse_fwhm_ns=6.0)
    t0 = time.perf_counter()
    shots = simulate_campaign(world, campaign_from_config(glas, "L3I"),
                              tracks_from_config(glas)[:n_tracks], forward,
                              instrument=Instrument.from_dict(glas.get("instrument", {})),
                              seed=int(glas["seed"]), spacing_m=float(glas["spacing_m"]))
    return len(shots) / (time.perf_counter() - t0), len(shots)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=2_000_000)
    parser.add_argument("--tracks", type=int, default=3)
    args = parser.parse_args()
    numba.set_num_threads(1)
    config = yaml.safe_load(open("config/config.yaml"))
    world = SyntheticWorld(WorldParams.from_dict(config["synth"]["world"]))
    p = world.params
    evaluate_rate(world, p.origin_x_m, p.origin_y_m, 10_000)  # compile and cache the kernels
    sites = {"interior": (p.origin_x_m + 4000.0, p.origin_y_m + 6000.0),
             "outlet trunk": (p.origin_x_m + 26000.0, -2280500.0)}
    rows = []
    for name, (x0, y0) in sites.items():
        ours = evaluate_rate(world, x0, y0, args.pixels)
        with composed_world():
            reference = evaluate_rate(world, x0, y0, args.pixels)
        rows.append((f"(a) world, {name} (pixels/s)", args.pixels, ours, reference))
    ours, n = campaign_rate(config, args.tracks)
    with composed_world():
        reference, _ = campaign_rate(config, args.tracks)
    rows.append(("(b) one campaign's shots (shots/s)", n, ours, reference))
    print(f"### {date.today()}, {platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, numba {numba.__version__}\n")
    print("| comparison | n | fused | composed | fused faster by |")
    print("| --- | --- | --- | --- | --- |")
    for name, n, a, b in rows:
        print(f"| {name} | {n:,} | {a:,.0f} | {b:,.0f} | {a / b:.1f}x |")


if __name__ == "__main__":
    main()
