"""SOM training: our PyTorch batch SOM against somoclu, side by side, and the original's problem.

On 20,000 tiles × 5,041 features (71 × 71 DCT coefficients of normalised tiles of
the synthetic world, ``bench/som_data.py``) and a 50 × 50 planar rectangular map,
both backends start from the same PCA codebook and follow the same schedule
(radius 25 → 1, linear, Gaussian with compact support):

* somoclu's dense CPU kernel (the original's tool), called once for all epochs;
* our PyTorch backend on the CPU, in the full feature space;
* our PyTorch backend on 256 principal components, its codebook lifted back to
  the full space; its quantisation error is measured there, with the BMUs it
  trained.

It prints seconds per epoch, the final quantisation error (full feature space,
the same function for all) and the ratio to somoclu, then projects the
original's full problem (212,534 × 5,041 on a 200 × 300 map, 10 epochs) from
the measured cost per sample × node × feature, plus the measured cost of the
neighbourhood update on a 200 × 300 map. With a CUDA GPU, the PyTorch backend
is also timed there, and the full problem measured on random features.

Run: ``python bench/som.py [--tiles 20000] [--epochs 2]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from datetime import date

import numpy as np
import somoclu
import torch
from som_data import benchmark_features

from cryolearn.crevasse.surfaces.som import (
    MapGrid,
    SampleChunks,
    SomParams,
    batch_update,
    chunk_rows_for,
    initial_codebook,
    sample_pass,
    train_som,
)

FULL_TILES, FULL_FEATURES, FULL_ROWS, FULL_COLUMNS, FULL_EPOCHS = 212_534, 5041, 200, 300, 10


def quantisation_error(data: np.ndarray, codebook: np.ndarray, grid: MapGrid) -> float:
    samples = SampleChunks(data, torch.device("cpu"), chunk_rows_for(grid.n_nodes, 256))
    return sample_pass(samples, torch.as_tensor(codebook.reshape(grid.n_nodes, -1)), grid,
                       accumulate=False).quantisation_error


def run_somoclu(data: np.ndarray, start: np.ndarray, params: SomParams) -> tuple[float, np.ndarray]:
    som = somoclu.Somoclu(params.columns, params.rows, initialcodebook=start.copy(),
                          maptype=params.maptype, gridtype=params.gridtype,
                          compactsupport=params.compact_support, std_coeff=params.std_coeff)
    tic = time.perf_counter()
    som.train(data, epochs=params.epochs, radius0=float(params.radii()[0]),
              radiusN=params.radius_n)
    return (time.perf_counter() - tic) / params.epochs, som.codebook.reshape(params.n_nodes, -1)


def update_seconds(features: int, device: torch.device) -> float:
    """Mean seconds of one neighbourhood update on the full 200 × 300 map over its schedule."""
    params = SomParams(rows=FULL_ROWS, columns=FULL_COLUMNS, epochs=FULL_EPOCHS)
    grid = params.grid()
    rng = np.random.default_rng(0)
    sums = torch.as_tensor(rng.normal(size=(grid.n_nodes, features)).astype(np.float32),
                           device=device)
    counts = torch.as_tensor(rng.poisson(3.5, grid.n_nodes).astype(np.float32), device=device)
    times = []
    for radius in params.radii()[[0, FULL_EPOCHS // 2, -1]]:
        tic = time.perf_counter()
        batch_update(sums, sums, counts, grid, float(radius), 0.5, True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - tic)
    return float(np.mean(times))


def full_problem_seconds(bmu_cost: float, features: int, device: torch.device) -> float:
    """Projected seconds of the original's problem from a cost per sample × node × feature."""
    per_epoch = bmu_cost * FULL_TILES * FULL_ROWS * FULL_COLUMNS * features
    return FULL_EPOCHS * (per_epoch + update_seconds(features, device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--side", type=int, default=50)
    parser.add_argument("--components", type=int, default=256)
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    data = np.ascontiguousarray(benchmark_features(args.tiles))
    params = SomParams(rows=args.side, columns=args.side, epochs=args.epochs, seed=1)
    grid = params.grid()
    start = initial_codebook(data, params)
    cpu = torch.device("cpu")
    nodes = params.n_nodes
    print(f"# {date.today()} · {platform.processor() or platform.machine()} · {threads} threads"
          f" · torch {torch.__version__}")
    print(f"# {len(data)} tiles × {data.shape[1]} features, {args.side} × {args.side} map, "
          f"{args.epochs} epochs, same PCA start and schedule\n")

    full_dims, pca_dims = data.shape[1], args.components
    # (method, seconds per epoch, final QE in the full space, dimensions trained in)
    rows = []
    s_somoclu, cb = run_somoclu(data, start, params)
    rows.append(("somoclu (dense CPU kernel)", s_somoclu, quantisation_error(data, cb, grid),
                 full_dims))
    ours = train_som(data, replace(params, device="cpu"), start, progress=False)
    rows.append(("ours, PyTorch CPU, full space", float(ours.epoch_seconds.mean()),
                 quantisation_error(data, ours.codebook, grid), full_dims))
    tic = time.perf_counter()
    projected = train_som(data, replace(params, device="cpu", pca_components=pca_dims), start,
                          progress=False)
    # PCA fit and projection, the lift to the full space and the error passes
    projection_overhead = time.perf_counter() - tic - float(projected.epoch_seconds.sum())
    rows.append((f"ours, PyTorch CPU, {args.components} PCA components",
                 float(projected.epoch_seconds.mean()), projected.quantisation_error_full,
                 pca_dims))
    gpu = torch.cuda.is_available()
    if gpu:
        on_gpu = train_som(data, replace(params, device="cuda"), start, progress=False)
        rows.append((f"ours, PyTorch {torch.cuda.get_device_name()}, full space",
                     float(on_gpu.epoch_seconds[1:].mean() if args.epochs > 1 else
                           on_gpu.epoch_seconds.mean()),
                     quantisation_error(data, on_gpu.codebook, grid), full_dims))
    print("| method | s / epoch | final QE (full space) | QE vs somoclu | speed vs somoclu |")
    print("| --- | --- | --- | --- | --- |")
    for name, seconds, qe, _ in rows:
        print(f"| {name} | {seconds:.2f} | {qe:.3f} | {qe / rows[0][2] - 1:+.2%} | "
              f"{s_somoclu / seconds:.1f}× |")

    # seconds per sample × node × feature of each method
    per_unit = [seconds / (len(data) * nodes * dims) for _, seconds, _, dims in rows]
    print(f"\n# projected: the original's problem, {FULL_TILES} × {FULL_FEATURES} on "
          f"{FULL_ROWS} × {FULL_COLUMNS}, {FULL_EPOCHS} epochs (the original: about 4 h)\n")
    print("| method | projected time |")
    print("| --- | --- |")
    # somoclu's measured epoch includes its update, so its cost scales as a whole
    somoclu_total = FULL_EPOCHS * per_unit[0] * FULL_TILES * FULL_ROWS * FULL_COLUMNS \
        * FULL_FEATURES
    print(f"| somoclu, {threads} CPU threads | {somoclu_total / 3600:.0f} h |")
    full = full_problem_seconds(per_unit[1], FULL_FEATURES, cpu)
    print(f"| ours, CPU, full space | {full / 3600:.1f} h |")
    reduced = full_problem_seconds(per_unit[2], pca_dims, cpu)
    overhead = projection_overhead * FULL_TILES / len(data)  # linear in the tiles: an upper bound
    print(f"| ours, CPU, {args.components} PCA components (incl. {overhead / 60:.1f} min of PCA, "
          f"lift and error passes) | {(reduced + overhead) / 60:.1f} min |")
    if gpu:
        device = torch.device("cuda")
        rng = np.random.default_rng(0)
        big = rng.normal(size=(FULL_TILES, args.components)).astype(np.float32)
        tic = time.perf_counter()
        train_som(big, SomParams(rows=FULL_ROWS, columns=FULL_COLUMNS, epochs=FULL_EPOCHS,
                                 device="cuda", initialization="random"), progress=False)
        measured = time.perf_counter() - tic
        print(f"| ours, {torch.cuda.get_device_name()}, {args.components} components "
              f"(measured on random data) | {measured:.0f} s |")
        full_gpu = full_problem_seconds(per_unit[-1], FULL_FEATURES, device)
        print(f"| ours, {torch.cuda.get_device_name()}, full space | {full_gpu / 60:.1f} min |")


if __name__ == "__main__":
    main()
