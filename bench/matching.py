"""Matching throughput and recall: our two backends against scikit-learn, side by side.

On 200,000 library waveforms x 544 samples and 50,000 queries (forward-modelled
tiles of the synthetic world, ``bench/matching_data.py``; queries from patches
the library never saw), in the matching space (unit peak, smoothed), k = 10:

* scikit-learn ``NearestNeighbors(algorithm="brute")``, the library a user would
  otherwise pick (the original's LSH forest has been removed from it);
* our exact backend (blocked matrix products with a running top-k, PyTorch);
* our approximate backend (faiss, the configured factory string), build time
  reported apart.

recall@10 is measured twice: against scikit-learn's answer for every query,
and against a float64 brute force for the first 1,000 queries (the truth:
near-duplicate waveforms are closer than float32 rounding of
``|q|² - 2q·x + |x|²``, which scikit-learn's brute force uses). Every timing is
one run on all CPU threads; when a CUDA GPU is present, the exact backend is
also timed there.

Run: ``python bench/matching.py [--library 200000] [--queries 50000]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import faiss
import numpy as np
import torch
from matching_data import benchmark_waveforms
from sklearn.neighbors import NearestNeighbors

from cryolearn.crevasse.evaluate.matching import recall_at
from cryolearn.crevasse.matching.match import library_vectors
from cryolearn.crevasse.matching.search import (
    ApproximateIndex,
    ApproximateParams,
    ExactIndex,
    ExactParams,
)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def float64_truth(library: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The k nearest by a float64 brute force, library in blocks."""
    q = queries.astype(np.float64)
    best_d = np.full((len(q), 0), np.inf)
    best_i = np.zeros((len(q), 0), np.int64)
    for start in range(0, len(library), 20000):
        block = library[start:start + 20000].astype(np.float64)
        d2 = (q * q).sum(1)[:, None] - 2 * q @ block.T + (block * block).sum(1)[None, :]
        d = np.concatenate([best_d, d2], axis=1)
        i = np.concatenate([best_i, np.arange(start, start + len(block))[None].repeat(len(q), 0)],
                           axis=1)
        keep = np.argsort(d, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(d, keep, 1), np.take_along_axis(i, keep, 1)
    return best_i


def row(name: str, n: int, seconds: float, ref_seconds: float, ids: np.ndarray,
        ref_ids: np.ndarray, truth_ids: np.ndarray) -> str:
    m = len(truth_ids)
    return (f"| {name} | {n:,} | {n / seconds:,.0f} | {recall_at(ids[:m], truth_ids, 10):.4f} | "
            f"{recall_at(ids, ref_ids, 10):.4f} | {ref_seconds / seconds:,.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=50_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--factory", default=ApproximateParams.factory)
    parser.add_argument("--ef-search", type=int, default=ApproximateParams.ef_search)
    args = parser.parse_args()

    library, queries = benchmark_waveforms(args.library, args.queries)
    library = library_vectors(library, 0.8)
    queries = library_vectors(queries, 0.8)
    k, n = args.k, len(queries)
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)

    reference = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(library)
    t_ref, (_, ref_ids) = timed(lambda: reference.kneighbors(queries))
    exact = ExactIndex(library, ExactParams(device="cpu"))
    t_exact, (_, exact_ids) = timed(lambda: exact.search(queries, k))
    params = ApproximateParams(factory=args.factory, ef_search=args.ef_search)
    t_build, approx = timed(lambda: ApproximateIndex.build(library, params))
    t_approx, (_, approx_ids) = timed(lambda: approx.search(queries, k))

    truth = float64_truth(library, queries[:1000], 10)
    rows = [row("scikit-learn NearestNeighbors (brute)", n, t_ref, t_ref, ref_ids, ref_ids,
                truth),
            row("ours, exact (CPU)", n, t_exact, t_ref, exact_ids, ref_ids, truth),
            row(f"ours, approximate ({params.factory}, ef {params.ef_search}, "
                f"refine x{params.refine_factor})", n, t_approx, t_ref, approx_ids, ref_ids,
                truth)]
    if torch.cuda.is_available():
        gpu = ExactIndex(library, ExactParams(device="cuda", block_rows=200_000,
                                              query_rows=4096))
        gpu.search(queries[:100], k)
        t_gpu, (_, gpu_ids) = timed(lambda: gpu.search(queries, k))
        rows.append(row(f"ours, exact ({torch.cuda.get_device_name()})", n, t_gpu, t_ref,
                        gpu_ids, ref_ids, truth))

    print(f"### {date.today()}, {platform.node()} ({threads} threads, {platform.machine()}, "
          f"Python {platform.python_version()}, faiss {faiss.__version__}, "
          f"torch {torch.__version__})\n")
    print(f"library {library.shape[0]:,} x {library.shape[1]}, {n:,} queries, k = {k}; "
          f"approximate index built in {t_build:.1f} s\n")
    print("| method | queries | queries/s | recall@10 (float64 truth, 1,000 queries) | "
          "recall@10 (vs scikit-learn, all) | throughput vs scikit-learn |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
