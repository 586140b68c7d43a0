"""The waveform library: every flight's tiles and waveforms, deduplicated, ordered by hash.

Merging streams through the flights in two passes with bounded memory: tiles
are first scattered into buckets by hash prefix (hashes are uniform, so buckets
are balanced), then each bucket is sorted and appended. The train/holdout split
is a pure function of the tile hash and a seed, so a tile keeps its split when
flights are added or removed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryolearn.crevasse.library.tiles import TILE_CHUNK
from cryolearn.io.zarrstore import append, atomic_store, create_array, create_group, open_group

log = logging.getLogger(__name__)

_META = ("z0", "x", "y", "lat", "lon")
_TEXT = ("hash", "source", "flight")


def holdout_draw(hashes: Sequence[str], seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per tile, from its hash and a seed."""
    return np.array(
        [int(hashlib.sha256(f"{seed}:{h}".encode()).hexdigest()[:15], 16) / 16**15
         for h in hashes]
    )


def assign_split(hashes: Sequence[str], holdout_share: float, seed: int) -> np.ndarray:
    """``"holdout"`` for about ``holdout_share`` of the tiles, ``"train"`` for the rest."""
    if not 0.0 <= holdout_share < 1.0:
        raise ValueError(f"holdout_share must be in [0, 1), got {holdout_share}")
    draw = holdout_draw(hashes, seed)
    return np.where(draw < holdout_share, "holdout", "train").astype(object)


def _first_occurrences(hash_lists: list[np.ndarray]) -> list[np.ndarray]:
    """Per flight, a mask of the rows whose hash was not seen in an earlier row."""
    seen: set[str] = set()
    masks = []
    for hashes in hash_lists:
        keep = np.zeros(len(hashes), dtype=bool)
        for i, h in enumerate(hashes):
            if h not in seen:
                seen.add(h)
                keep[i] = True
        masks.append(keep)
    return masks


def _check_shards(flights: Sequence[str], tile_stores, wave_stores) -> list[np.ndarray]:
    hash_lists = []
    for flight, tiles, waves in zip(flights, tile_stores, wave_stores, strict=True):
        th = tiles["hash"][:] if tiles["hash"].shape[0] else np.empty(0, dtype=object)
        wh = waves["hash"][:] if waves["hash"].shape[0] else np.empty(0, dtype=object)
        if len(th) != len(wh) or not np.array_equal(th, wh):
            raise ValueError(
                f"flight {flight}: the waveform shard does not match the tile shard "
                f"({len(wh)} waveforms for {len(th)} tiles); re-run simulate_flight"
            )
        hash_lists.append(np.asarray(th, dtype=object))
    return hash_lists


def build_library(
    tile_paths: Sequence[str | Path],
    waveform_paths: Sequence[str | Path],
    out_store: str | Path,
    *,
    flights: Sequence[str],
    holdout_share: float = 0.2,
    seed: int = 0,
    memory_mb: float = 2048.0,
) -> dict:
    """Merge flight shards into the library store.

    Parameters
    ----------
    tile_paths, waveform_paths : the flights' tile and waveform shards, same order
    out_store : ``results/library.zarr``
    flights : flight names, same order
    holdout_share : share of tiles in the holdout split
    seed : salt of the split
    memory_mb : memory budget of one bucket

    Returns
    -------
    summary: tiles in, unique tiles, duplicates, empty flights, holdout count
    """
    tile_stores = [open_group(p) for p in tile_paths]
    wave_stores = [open_group(p) for p in waveform_paths]
    hash_lists = _check_shards(flights, tile_stores, wave_stores)
    empty = [f for f, h in zip(flights, hash_lists, strict=True) if len(h) == 0]
    for flight in empty:
        log.warning("flight %s yielded no valid tiles; it adds nothing to the library", flight)
    keep = _first_occurrences(hash_lists)
    n_in = sum(len(h) for h in hash_lists)
    n_unique = int(sum(k.sum() for k in keep))
    if n_unique == 0:
        raise ValueError(f"no valid tiles in any flight ({', '.join(flights)}): empty library")
    size_px = tile_stores[0]["elevation"].shape[1]
    n_samples = wave_stores[0]["waveform"].shape[1]
    forward = _common_forward_parameters(flights, wave_stores)
    bytes_per_tile = 4 * (size_px * size_px + n_samples) + 400
    n_buckets = max(1, math.ceil(n_unique * bytes_per_tile / (memory_mb * 2**20)))
    log.info("library: %d tiles in, %d unique, %d buckets", n_in, n_unique, n_buckets)

    attrs = {
        "flights": list(flights), "empty_flights": empty, "n_tiles_in": n_in,
        "n_duplicates": n_in - n_unique, "holdout_share": holdout_share, "split_seed": seed,
        "forward": forward, "crs": sorted({str(t.attrs.get("crs")) for t in tile_stores}),
    }
    scratch = Path(tempfile.mkdtemp(prefix="library-buckets-", dir=Path(out_store).parent))
    try:
        buckets = _scatter(flights, tile_stores, wave_stores, hash_lists, keep, n_buckets,
                           scratch, size_px, n_samples)
        with atomic_store(out_store) as tmp:
            group = create_group(tmp, attrs)
            arrays = _library_arrays(group, size_px, n_samples)
            for bucket in buckets:
                _append_sorted_bucket(bucket, arrays, holdout_share, seed)
            n_holdout = int(np.sum(arrays["split"][:] == "holdout"))
            group.attrs["n_holdout"] = n_holdout
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"n_tiles_in": n_in, "n_unique": n_unique, "n_duplicates": n_in - n_unique,
            "empty_flights": empty, "n_holdout": n_holdout}


def _common_forward_parameters(flights: Sequence[str], wave_stores) -> dict:
    params = [dict(w.attrs.get("forward", {})) for w in wave_stores]
    for flight, p in zip(flights, params, strict=True):
        if p != params[0]:
            raise ValueError(
                f"flight {flight}: simulated with forward parameters {p}, but "
                f"{flights[0]} with {params[0]}; re-run simulate_flight for all flights"
            )
    return params[0]


def _library_arrays(group, size_px: int, n_samples: int, with_split: bool = True) -> dict:
    arrays = {
        "elevation": create_array(group, "elevation", (0, size_px, size_px), np.float32,
                                  ("tile", "y_px", "x_px"), (TILE_CHUNK, size_px, size_px),
                                  {"units": "m"}),
        "waveform": create_array(group, "waveform", (0, n_samples), np.float32,
                                 ("tile", "sample"), (1024, n_samples)),
    }
    for name in _META:
        arrays[name] = create_array(group, name, (0,), np.float64, ("tile",), (8192,))
    for name in (*_TEXT, "split") if with_split else _TEXT:
        arrays[name] = create_array(group, name, (0,), str, ("tile",), (8192,))
    return arrays


def _bucket_of(hashes: np.ndarray, n_buckets: int) -> np.ndarray:
    prefix = np.array([int(h[:8], 16) for h in hashes], dtype=np.int64)
    return (prefix * n_buckets) >> 32


def _scatter(flights, tile_stores, wave_stores, hash_lists, keep, n_buckets, scratch,
             size_px, n_samples) -> list[dict]:
    """Pass 1: stream each flight's kept rows into per-bucket scratch stores."""
    groups = []
    for b in range(n_buckets):
        g = create_group(scratch / f"bucket{b:04d}.zarr")
        groups.append(_library_arrays(g, size_px, n_samples, with_split=False))
    for flight, tiles, waves, hashes, mask in zip(
        flights, tile_stores, wave_stores, hash_lists, keep, strict=True
    ):
        n = len(hashes)
        for start in range(0, n, 1024):
            rows = np.flatnonzero(mask[start : start + 1024])
            if len(rows) == 0:
                continue
            sl = slice(start, min(n, start + 1024))
            block = {
                "elevation": tiles["elevation"][sl][rows],
                "waveform": waves["waveform"][sl][rows],
                "hash": hashes[sl][rows],
                "source": tiles["source"][sl][rows],
                "flight": np.full(len(rows), flight, dtype=object),
            }
            for name in _META:
                block[name] = tiles[name][sl][rows]
            bucket = _bucket_of(block["hash"], n_buckets)
            for b in np.unique(bucket):
                sel = bucket == b
                for name, values in block.items():
                    append(groups[b][name], values[sel])
    return groups


def _append_sorted_bucket(bucket: dict, arrays: dict, holdout_share: float, seed: int) -> None:
    """Pass 2: load one bucket, sort it by hash and append it to the library."""
    if bucket["hash"].shape[0] == 0:
        return
    hashes = bucket["hash"][:]
    order = np.argsort(np.asarray(hashes, dtype="U64"), kind="stable")
    for name, array in bucket.items():
        append(arrays[name], array[:][order])
    append(arrays["split"], assign_split(hashes[order], holdout_share, seed))
