"""Waveforms for the matching benchmark: forward-modelled tiles of the synthetic world.

Tiles are cut at random positions (and in random years, 2003-2013) from 1 km x
1 km patches spread over the whole 20 km world, so they cover every surface
class. Library and query waveforms come from disjoint patches, as held-out
flights would. Rendering the world dominates (about 6 s per patch), so the
result is cached in ``bench/.cache/``.

Run: ``python bench/matching_data.py [--library 200000] [--queries 50000]``
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.synth.world import SyntheticWorld, WorldParams

CACHE = Path(__file__).parent / ".cache"
PATCH_M = 1000.0
PIXEL_M = 0.5
TILE_PX = 200


def render_patch(patch: int, seed: int) -> tuple[np.ndarray, np.random.Generator]:
    """One 1 km patch of the world at 0.5 m in a random place and year, and its generator."""
    rng = np.random.default_rng([seed, patch])
    world = SyntheticWorld(WorldParams())
    p = world.params
    x0 = p.origin_x_m + rng.uniform(0, p.extent_m - PATCH_M)
    y0 = p.origin_y_m + rng.uniform(0, p.extent_m - PATCH_M)
    year = rng.uniform(2003.0, 2013.0)
    c = np.arange(0, PATCH_M, PIXEL_M)
    xx, yy = np.meshgrid(x0 + c, y0 + c)
    return world.evaluate(xx, yy, year)[0].astype(np.float32), rng


def cut_tiles(z: np.ndarray, rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` tiles of ``TILE_PX`` pixels at random places in the patch ``z``."""
    rows = rng.integers(0, z.shape[0] - TILE_PX, m)
    cols = rng.integers(0, z.shape[1] - TILE_PX, m)
    return np.stack([z[a:a + TILE_PX, b:b + TILE_PX] for a, b in zip(rows, cols, strict=True)])


def patch_waveforms(args: tuple[int, int, int]) -> np.ndarray:
    """``n`` waveforms of random tiles from one patch (seeded by ``patch``)."""
    patch, n, seed = args
    z, rng = render_patch(patch, seed)
    out = np.empty((n, 544), np.float32)
    for start in range(0, n, 1000):
        m = min(1000, n - start)
        tiles = cut_tiles(z, rng, m)
        out[start:start + m] = simulate_waveforms(tiles - tiles.mean(axis=(1, 2), keepdims=True))
    return out


def generate(n: int, first_patch: int, per_patch: int, seed: int, workers: int) -> np.ndarray:
    """``n`` waveforms from patches ``first_patch``, ``first_patch + 1``, ..."""
    jobs = []
    left = n
    patch = first_patch
    while left > 0:
        jobs.append((patch, min(per_patch, left), seed))
        left -= per_patch
        patch += 1
    with ProcessPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(patch_waveforms, jobs)))


def benchmark_waveforms(n_library: int, n_queries: int, *, per_patch: int = 5000,
                        seed: int = 2009, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Library and query waveforms, from the cache when it holds this size."""
    path = CACHE / f"matching_{n_library}_{n_queries}_{per_patch}_{seed}.npz"
    if path.exists():
        with np.load(path) as data:
            return data["library"], data["queries"]
    library = generate(n_library, 0, per_patch, seed, workers)
    n_library_patches = -(-n_library // per_patch)
    queries = generate(n_queries, n_library_patches, per_patch, seed, workers)
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, library=library, queries=queries)
    tmp.rename(path)
    return library, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    library, queries = benchmark_waveforms(args.library, args.queries, workers=args.workers)
    print(f"library {library.shape}, queries {queries.shape}")


if __name__ == "__main__":
    main()
