"""Tile features for the SOM benchmark: normalised, DCT-compressed tiles of the synthetic world.

Tiles are cut at random positions (and in random years, 2003-2013) from 1 km x
1 km patches spread over the whole 20 km world, normalised and compressed to
71 x 71 DCT coefficients exactly as rule ``normalise_tiles`` does, then mapped
to the SOM's default feature space (``log_magnitude``). Rendering and
normalisation take minutes, so the result is cached in ``bench/.cache/``.

Run: ``python bench/som_data.py [--tiles 20000]``
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from matching_data import cut_tiles, render_patch

from cryolearn.crevasse.surfaces.normalise import (
    NormaliseParams,
    dct_features,
    feature_vectors,
    normalise_tiles,
)

CACHE = Path(__file__).parent / ".cache"


def patch_features(args: tuple[int, int, int]) -> np.ndarray:
    """SOM features of ``n`` random tiles from one patch (seeded by ``patch``)."""
    patch, n, seed = args
    z, rng = render_patch(patch, seed)
    params = NormaliseParams()
    out = np.empty((n, params.dct_size ** 2), np.float32)
    for start in range(0, n, 250):
        m = min(250, n - start)
        out[start:start + m] = dct_features(normalise_tiles(cut_tiles(z, rng, m), params),
                                            params.dct_size)
    return feature_vectors(out)


def benchmark_features(n: int, *, per_patch: int = 1000, seed: int = 2006,
                       workers: int = 2) -> np.ndarray:
    """(n, 5041) SOM features, from the cache when it holds this size."""
    path = CACHE / f"som_{n}_{per_patch}_{seed}.npy"
    if path.exists():
        return np.load(path)
    jobs = [(patch, min(per_patch, n - start), seed)
            for patch, start in enumerate(range(0, n, per_patch))]
    with ProcessPoolExecutor(workers) as pool:
        features = np.concatenate(list(pool.map(patch_features, jobs)))
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, features)
    tmp.rename(path)
    return features


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=20000)
    args = parser.parse_args()
    print(benchmark_features(args.tiles).shape)
