"""OPTICS over a SOM codebook as the map grows: on a neighbour graph against on the vectors.

Rule ``cluster_som`` (``cluster_codebook``) runs scikit-learn's OPTICS on a table of
each node's nearest neighbours, computed once in blocks (``neighbour_graph``, as many
neighbours as ``clusters.graph_memory_mb`` holds). The reference is scikit-learn's
OPTICS on the codebook vectors themselves, as the rule ran before: each of its steps
computes one node's distances to every unprocessed node, a pass over the codebook, so
its time grows with the square of the nodes times the 5,041 coefficients.

(a) both on codebooks of N nodes (a smooth 2-D manifold in 5,041 dimensions with
    noise, as a trained map's codebook is): seconds, the ratio, whether the graph
    run certifies itself exact, and the adjusted Rand index (ARI) of the two
    labellings. Above ``--reference-max`` nodes the reference is projected as N²
    from the largest size it ran at. Each size runs in its own process, so its peak
    RSS is its own.
(b) with ``--features``: a map of ``--rows`` × ``--columns`` nodes trained on a
    feature store (the demo's ``results/features/tiles_dct.zarr``), clustered with
    every pair in the graph, with the reference, and with graphs that hold fewer
    neighbours (``--memory-mb``): their labels against the full graph's.

Run:  python bench/optics.py [--nodes 1000 2000 4000 16000 60000]
      python bench/optics.py --nodes --features results/features/tiles_dct.zarr
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from sklearn.cluster import OPTICS
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.surfaces.clusters import OpticsParams, cluster_codebook, cluster_settings
from cryolearn.crevasse.surfaces.som import som_features, som_settings, train_som

REPO = Path(__file__).resolve().parents[1]
N_FEATURES = 71 * 71
FULL_NODES = 200 * 300


def manifold_codebook(n: int, seed: int = 0, block_rows: int = 4096) -> np.ndarray:
    """n float32 vectors (a map's codebook is float32) on a smooth 2-D sheet in
    N_FEATURES dimensions, with 5 % noise; made in blocks, so that the peak RSS a size
    reports is the clustering's."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(n, 2))
    basis = rng.standard_normal((2, N_FEATURES))
    codebook = np.empty((n, N_FEATURES), np.float32)
    for start in range(0, n, block_rows):
        b = u[start:start + block_rows]
        codebook[start:start + len(b)] = (np.sin(3.0 * b[:, :1]) * basis[0]
                                           + np.cos(2.0 * b[:, 1:]) * basis[1]
                                           + 0.05 * rng.standard_normal((len(b), N_FEATURES)))
    return codebook


def reference_labels(codebook: np.ndarray, params: OpticsParams) -> np.ndarray:
    """scikit-learn's OPTICS on the vectors, as rule cluster_som ran it before."""
    optics = OPTICS(min_samples=params.min_samples, xi=params.xi,
                    min_cluster_size=params.min_cluster_size,
                    max_eps=params.max_eps if params.max_eps > 0 else np.inf,
                    cluster_method="xi")
    return optics.fit(codebook).labels_


def timed(function, *args) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def one_size(n: int, with_reference: bool) -> dict:
    """Both methods on an n-node manifold codebook (run in a child process)."""
    import resource

    params = cluster_settings(yaml.safe_load((REPO / "config/config.yaml").read_text())
                              ["clusters"])
    codebook = manifold_codebook(n)
    ours, seconds = timed(cluster_codebook, codebook, params)
    row = {"nodes": n, "ours_s": seconds, "neighbours": ours.neighbours, "exact": ours.exact,
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
    if with_reference:
        labels, row["reference_s"] = timed(reference_labels, codebook, params)
        row["ari"] = adjusted_rand_score(labels, ours.labels)
    return row


def sizes_table(nodes: list[int], reference_max: int) -> None:
    print("| nodes | neighbours a node | ours (graph) s | peak RSS GB | certified exact | "
          "reference (vectors) s | ours faster by | ARI ours vs reference |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    largest = None
    for n in nodes:
        done = subprocess.run([sys.executable, __file__, "--child", str(n),
                               str(int(n <= reference_max))],
                              capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if "reference_s" in row:
            largest = row
            reference, ari = f"{row['reference_s']:,.1f}", f"{row['ari']:.3f}"
            ratio = row["reference_s"] / row["ours_s"]
        else:
            projected = largest["reference_s"] * (n / largest["nodes"]) ** 2
            reference, ari = f"{projected:,.0f} (projected N²)", "-"
            ratio = projected / row["ours_s"]
        print(f"| {n:,} | {row['neighbours']:,} | {row['ours_s']:,.1f} | "
              f"{row['peak_rss_gb']:.1f} | {row['exact']} | {reference} | {ratio:,.1f}x | "
              f"{ari} |", flush=True)


def trained_map_table(features: Path, rows: int, columns: int, budgets: list[float]) -> None:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    params = cluster_settings(config["clusters"])
    som_params, space = som_settings(config["som"])
    som_params = dataclasses.replace(som_params, rows=rows, columns=columns)
    som = train_som(som_features(features, space), som_params, progress=False)
    codebook = np.asarray(som.codebook, np.float64).reshape(som_params.n_nodes, -1)
    full, seconds = timed(cluster_codebook, codebook, params)
    reference, reference_s = timed(reference_labels, codebook, params)
    print(f"\n{rows} x {columns} map of {features}: every pair {seconds:.1f} s, "
          f"{full.n_clusters} clusters; the reference {reference_s:.1f} s, "
          f"{reference.max() + 1} clusters, ARI {adjusted_rand_score(full.labels, reference):.3f}"
          " against every pair\n")
    print("| graph_memory_mb | neighbours a node | share of nodes | seconds | certified exact "
          "| same labels as every pair | clusters | ARI with every pair |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for budget in budgets:
        part, seconds = timed(cluster_codebook, codebook,
                              dataclasses.replace(params, graph_memory_mb=budget))
        print(f"| {budget:g} | {part.neighbours:,} | {part.neighbours / len(codebook):.1%} | "
              f"{seconds:.1f} | {part.exact} | {np.array_equal(part.labels, full.labels)} | "
              f"{part.n_clusters} | {adjusted_rand_score(full.labels, part.labels):.3f} |",
              flush=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(one_size(int(sys.argv[2]), bool(int(sys.argv[3])))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="*", default=[1000, 2000, 4000, 16000,
                                                                  FULL_NODES])
    parser.add_argument("--reference-max", type=int, default=2000)
    parser.add_argument("--features", type=Path)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--memory-mb", type=float, nargs="+", default=[20, 10, 5, 2, 1, 0.5])
    args = parser.parse_args()
    params = cluster_settings(yaml.safe_load((REPO / "config/config.yaml").read_text())
                              ["clusters"])
    print(f"### {date.today()}, {platform.machine()}: min_samples {params.min_samples}, "
          f"xi {params.xi}, max_eps unbounded, graph_memory_mb {params.graph_memory_mb:g}\n")
    if args.nodes:
        sizes_table(args.nodes, args.reference_max)
    if args.features:
        trained_map_table(args.features, args.rows, args.columns, args.memory_mb)


if __name__ == "__main__":
    main()
