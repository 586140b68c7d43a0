"""OPTICS over a SOM codebook as the map grows: the stage that breaks first at full size.

Rule ``cluster_som`` runs scikit-learn's OPTICS (``cluster_codebook``, the
original's method) on every codebook vector of the map in the full feature space
(5,041 DCT coefficients). With ``max_eps`` unbounded, each step of OPTICS computes
the distances from one node to every unprocessed node, a pass over the codebook, so
its time grows with the square of the nodes and, at 5,041 coefficients, with the
memory traffic of those passes.

(a) seconds of ``cluster_codebook`` on codebooks of N nodes (a smooth 2-D manifold in
    5,041 dimensions with noise, as a trained map's codebook is), projected to the
    original's 200 × 300 = 60,000 nodes as N²;
(b) with ``--features``: a map of ``--rows`` × ``--columns`` nodes trained on a
    feature store (the demo's ``results/features/tiles_dct.zarr``), clustered in the
    full space (ours) and after projecting the codebook on its k leading principal
    axes (the reference shortcut): time, retained variance, clusters and the
    adjusted Rand index of the two labellings.

Run:  python bench/optics.py [--nodes 1000 2000 4000]
      python bench/optics.py --nodes --features results/features/tiles_dct.zarr
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.surfaces.clusters import cluster_codebook, cluster_settings
from cryolearn.crevasse.surfaces.som import som_features, som_settings, train_som

REPO = Path(__file__).resolve().parents[1]
N_FEATURES = 71 * 71
FULL_NODES = 200 * 300


def manifold_codebook(n: int, seed: int = 0) -> np.ndarray:
    """n vectors on a smooth 2-D sheet in N_FEATURES dimensions, with 5 % noise."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(n, 2))
    basis = rng.standard_normal((2, N_FEATURES))
    sheet = np.sin(3.0 * u[:, :1]) * basis[0] + np.cos(2.0 * u[:, 1:]) * basis[1]
    return sheet + 0.05 * rng.standard_normal((n, N_FEATURES))


def timed(codebook: np.ndarray, params) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    labels = cluster_codebook(codebook, params).labels
    return labels, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="*", default=[1000, 2000, 4000])
    parser.add_argument("--features", type=Path)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--components", type=int, nargs="+", default=[16, 32, 64, 128])
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    params = cluster_settings(config["clusters"])
    print(f"### {date.today()}, {platform.machine()}: OPTICS as rule cluster_som runs it "
          f"(min_samples {params.min_samples}, xi {params.xi}, max_eps unbounded)\n")
    if args.nodes:
        print("| nodes | dimensions | seconds | projected to 60,000 nodes (N²) |")
        print("| --- | --- | --- | --- |")
        for n in args.nodes:
            _, seconds = timed(manifold_codebook(n), params)
            hours = seconds * (FULL_NODES / n) ** 2 / 3600
            print(f"| {n:,} | {N_FEATURES:,} | {seconds:.1f} | {hours:,.1f} h |", flush=True)
    if args.features:
        som_params, space = som_settings(config["som"])
        som_params = dataclasses.replace(som_params, rows=args.rows, columns=args.columns)
        som = train_som(som_features(args.features, space), som_params, progress=False)
        codebook = np.asarray(som.codebook, np.float64).reshape(som_params.n_nodes, -1)
        full, seconds = timed(codebook, params)
        print(f"\n{args.rows} x {args.columns} map of {args.features}: full space "
              f"{seconds:.1f} s, {full.max() + 1} clusters\n")
        print("| principal axes | variance kept | seconds | clusters | ARI with the full "
              "space |")
        print("| --- | --- | --- | --- | --- |")
        centred = codebook - codebook.mean(axis=0)
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        share = singular**2 / (singular**2).sum()
        for k in args.components:
            labels, seconds = timed(centred @ axes[:k].T, params)
            print(f"| {k} | {share[:k].sum():.1%} | {seconds:.1f} | {labels.max() + 1} | "
                  f"{adjusted_rand_score(full, labels):.3f} |", flush=True)


if __name__ == "__main__":
    main()
