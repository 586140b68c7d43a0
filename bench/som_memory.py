"""Peak memory of rule fit_som as the library grows: the tiles streamed from the
feature store (ours, ``fit_som_store`` on the CPU) against all of them held in
memory (the reference, what fit_som did before), side by side.

A feature store of N synthetic tiles (5,041 coefficients each, decaying like a DCT
spectrum) is written once per size; each way then trains the demo's 15 × 20 map in
its own process, whose peak RSS (``ru_maxrss``) and time are printed. The two maps
are the same (``tests/crevasse/surfaces/test_som.py``).

Run:  python bench/som_memory.py [--tiles 30000 60000] [--root /tmp/cryolearn-som-memory]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from cryolearn.io.zarrstore import atomic_store, create_array, create_group, write_array

REPO = Path(__file__).resolve().parents[1]
N_FEATURES = 71 * 71

CHILD = """
import json, resource, sys, time, yaml
from cryolearn.crevasse.surfaces.som import (fit_som_store, som_features, som_settings,
                                              train_som)
store, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
params, space = som_settings(yaml.safe_load(open(sys.argv[4]))["som"])
start = time.perf_counter()
if mode == "streamed":
    result = fit_som_store(store, out, params, space, progress=False)
else:
    result = train_som(som_features(store, space), params, progress=False)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "qe": float(result.quantisation_error[-1])}))
"""


def write_features(path: Path, n_tiles: int, seed: int = 0, chunk: int = 4096) -> None:
    """N tiles of 71 × 71 coefficients whose scale falls with frequency, as DCT spectra do."""
    rng = np.random.default_rng(seed)
    k = np.arange(71)
    scale = (1.0 / (1.0 + np.add.outer(k, k))).ravel().astype(np.float32)
    with atomic_store(path) as tmp:
        group = create_group(tmp)
        features = create_array(group, "features", (n_tiles, N_FEATURES), np.float32,
                                ("tile", "coefficient"), (chunk, N_FEATURES))
        for start in range(0, n_tiles, chunk):
            rows = min(chunk, n_tiles - start)
            features[start:start + rows] = (rng.standard_normal((rows, N_FEATURES),
                                                                np.float32) * scale)
        write_array(group, "hash", np.array([f"t{i:07d}" for i in range(n_tiles)]), ("tile",),
                    dtype=str)
        write_array(group, "split", np.full(n_tiles, "train"), ("tile",), dtype=str)


def measure(store: Path, mode: str, root: Path) -> dict:
    out = root / f"som-{mode}.zarr"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", CHILD, str(store), mode, str(out),
                           str(REPO / "config/config.yaml")],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[30_000, 60_000])
    parser.add_argument("--root", type=Path, default=Path("/tmp/cryolearn-som-memory"))
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    som = yaml.safe_load((REPO / "config/config.yaml").read_text())["som"]
    print(f"{platform.node()}, {date.today()}: the demo's {som['rows']} x {som['columns']} "
          f"map, {som['epochs']} epochs, chunk_mb {som['chunk_mb']}, pca_sample "
          f"{som['pca_sample']}")
    print("| tiles | features in memory | streamed: peak RSS | in memory: peak RSS | "
          "streamed: time | in memory: time | ratio of RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in args.tiles:
        store = args.root / f"features_{n}.zarr"
        if not store.exists():
            write_features(store, n)
        streamed = measure(store, "streamed", args.root)
        held = measure(store, "in_memory", args.root)
        print(f"| {n:,} | {n * N_FEATURES * 4 / 2**20:,.0f} MB | "
              f"{streamed['peak_rss_mb']:,.0f} MB | {held['peak_rss_mb']:,.0f} MB | "
              f"{streamed['seconds']:.1f} s | {held['seconds']:.1f} s | "
              f"{held['peak_rss_mb'] / streamed['peak_rss_mb']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
