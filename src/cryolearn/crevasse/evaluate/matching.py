"""The hold-out experiment: does matching find tiles of the same kind of ice?

The original work first proved matching with 200,000 library waveforms
against 50,000 held-out ones. Here the library's holdout split is matched
against its training split, twice: as clean waveforms (a perfect cleaner, in
the library space) and degraded like real shots then cleaned by the
autoencoder (the pipeline as run, against the index in its own matching
space). Each query tile's truth class (the class with the largest share under
the footprint) is compared with its neighbours':

* ``class_agreement``: share of the k neighbours whose class equals the query's;
* ``chance``: the same share if neighbours were drawn at random from the
  training split, ``Σ_c f_query(c) · f_train(c)``;
* ``crevasse_agreement`` and its chance: the same for crevassed/not crevassed,
  the distinction the crevasse maps rest on;
* ``majority_accuracy``: how often the neighbours' majority class is the query's;
* ``queries_per_second`` of the whole multi-offset look-up, and for the
  approximate backend ``recall_at_10`` against exact search.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES
from cryolearn.crevasse.matching.match import (
    Matches,
    autoencoder_vectors,
    index_library_rows,
    library_split_rows,
    library_vectors,
    match_with_offsets,
    offsets_bins,
)
from cryolearn.crevasse.matching.search import (
    ApproximateParams,
    ExactIndex,
    ExactParams,
    NeighbourIndex,
    load_index,
    read_index_meta,
)
from cryolearn.crevasse.shots.align import AlignSettings, align
from cryolearn.crevasse.shots.augment import degrade, read_distributions
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.synth.truth import class_fractions_for_hashes, dominant_class

log = logging.getLogger(__name__)


def recall_at(found: np.ndarray, truth: np.ndarray, n: int = 10) -> float:
    """Mean share of each query's true n nearest that the search also returned in its n."""
    if len(found) == 0:
        return float("nan")
    a, b = found[:, :n], truth[:, :n]
    hits = (a[:, :, None] == b[:, None, :]) & (b[:, None, :] >= 0)
    return float(hits.any(axis=1).sum(axis=1).mean() / n)


def agreement_scores(query_class: np.ndarray, neighbour_class: np.ndarray,
                     train_class: np.ndarray) -> dict:
    """Agreement of neighbour classes with query classes, and what chance would give.

    Parameters
    ----------
    query_class : (n,) class code of each query (-1: unknown, left out)
    neighbour_class : (n, k) class codes of its neighbours (-1: none or unknown)
    train_class : class codes of the indexed tiles (for the chance level)
    """
    known = query_class >= 0
    q, nb = query_class[known], neighbour_class[known]
    valid = nb >= 0
    same = (nb == q[:, None]) & valid
    codes = np.arange(max(int(train_class.max(initial=0)), int(q.max(initial=0))) + 1)
    f_train = np.array([(train_class == c).mean() for c in codes]) if len(train_class) else 0
    f_query = np.array([(q == c).mean() for c in codes]) if len(q) else 0
    votes = np.stack([((nb == c) & valid).sum(axis=1) for c in codes], axis=1)
    crevassed = np.array([CLASS_CODE[c] for c in CREVASSED_CLASSES])
    q_crev = np.isin(q, crevassed)
    nb_crev = np.isin(nb, crevassed)
    p_crev_train = float(np.isin(train_class, crevassed).mean()) if len(train_class) else 0.0
    p_crev_query = float(q_crev.mean()) if len(q) else 0.0
    per_class = {}
    for c in np.unique(q):
        rows = q == c
        per_class[str(int(c))] = {"n": int(rows.sum()),
                                  "class_agreement": _share(same[rows], valid[rows])}
    return {
        "class_agreement": _share(same, valid),
        "chance": float(np.sum(f_train * f_query)),
        "crevasse_agreement": _share((nb_crev == q_crev[:, None]) & valid, valid),
        "crevasse_chance": p_crev_query * p_crev_train + (1 - p_crev_query) * (1 - p_crev_train),
        "majority_accuracy": float((np.argmax(votes, axis=1) == q).mean()) if len(q) else
        float("nan"),
        "n_queries": int(known.sum()),
        "per_class": per_class,
    }


def _share(hits: np.ndarray, valid: np.ndarray) -> float:
    total = int(valid.sum())
    return float(hits.sum() / total) if total else float("nan")


def _classes_of(found: Matches, tile_class: np.ndarray) -> np.ndarray:
    """Truth class of every neighbour (ids are library rows; -1 where there is none)."""
    return np.where(found.ids >= 0, tile_class[np.maximum(found.ids, 0)], -1)


def timed_match(index: NeighbourIndex, queries: np.ndarray, k: int, offsets: Sequence[int],
                item_rows: np.ndarray) -> tuple[Matches, float]:
    """Matches (ids are library rows) and queries per second of the multi-offset look-up."""
    t0 = time.perf_counter()
    found = match_with_offsets(index, queries, k, offsets, item_rows=item_rows)
    elapsed = max(time.perf_counter() - t0, 1e-9)
    return found, len(queries) / elapsed


def holdout_queries(library_store: str | Path, model_path: str | Path,
                    distributions_store: str | Path, *, sigma_bins: float, seed: int,
                    align_settings: AlignSettings | None = None, block_rows: int = 16384,
                    max_queries: int | None = None
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Holdout rows and their query sets: ``clean`` and ``degraded_cleaned`` (cleaned by
    the autoencoder, or, given ``align_settings``, aligned on the leading edge as the
    aligned space's shots are; a waveform without a return is a NaN row, never matched).
    With ``max_queries``, a sample of that many holdout rows seeded by ``seed`` where the
    split holds more."""
    rows, waveforms = library_split_rows(library_store, "holdout", max_queries, seed)
    if align_settings is None:  # one degradation of each, cleaned as the index's are
        prepared = autoencoder_vectors(waveforms, model_path, distributions_store, draws=1,
                                       seed=seed, block_rows=block_rows)
    else:
        # a block at a time: the degradation's temporaries (about 60 KB a waveform) stay
        # bounded; the generator runs through the blocks in order
        dist, rng = read_distributions(distributions_store), np.random.default_rng(seed)
        prepared = np.concatenate([
            align(degrade(waveforms[start:start + block_rows], dist, rng)[0], align_settings)[0]
            for start in range(0, max(len(waveforms), 1), block_rows)])
    return rows, {"clean": library_vectors(waveforms, sigma_bins),
                  "degraded_cleaned": prepared}


def write_holdout_matches(out_store: str | Path, holdout_rows: np.ndarray, found: Matches,
                          space: str, k: int) -> None:
    """The hold-out experiment's exact matches: every query's library row, and its k
    nearest training tiles (library rows) with their distances."""
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {"space": space, "k": int(k), "backend": "exact"})
        write_array(group, "holdout_row", np.asarray(holdout_rows, np.int64), ("query",),
                    {"meaning": "library row of the held-out tile whose degraded waveform "
                                "was the query"})
        write_array(group, "neighbour", np.asarray(found.ids, np.int64), ("query", "rank"),
                    {"meaning": "library rows of the nearest training tiles, nearest first"})
        write_array(group, "distance", np.asarray(found.distances, np.float32),
                    ("query", "rank"), {"meaning": "distance in the matching space"})


class _Scorer:
    """Agreement of matches with the truth classes of holdout and training tiles."""

    def __init__(self, tile_class: np.ndarray, holdout_rows: np.ndarray,
                 train_rows: np.ndarray) -> None:
        self.tile_class = tile_class
        self.query_class = tile_class[holdout_rows]
        self.train_class = tile_class[train_rows]

    def __call__(self, found: Matches) -> dict:
        scores = agreement_scores(self.query_class, _classes_of(found, self.tile_class),
                                  self.train_class)
        scores["median_distance"] = (float(np.median(found.distances[:, 0]))
                                     if len(found.distances) else float("nan"))
        return scores


def evaluate_matching(
    index_folder: str | Path,
    library_store: str | Path,
    model_path: str | Path,
    distributions_store: str | Path,
    truth_stores: Sequence[str | Path],
    out_json: str | Path,
    *,
    k: int = 30,
    offsets: Sequence[int] = (0,),
    seed: int = 0,
    offset_sweep: Sequence[int] = (),
    exact: ExactParams | None = None,
    approximate: ApproximateParams | None = None,
    out_holdout: str | Path | None = None,
    max_queries: int | None = None,
) -> dict:
    """Run the hold-out experiment; write ``results/eval/matching.json``.

    Under ``exact`` and ``approximate``: the holdout split degraded like shots
    and cleaned by the autoencoder, matched with that backend against the
    index (in its matching space) as ``match_shots`` would; ``recall_at_10`` of
    the approximate backend is against exact search of the same index. Beside
    them, with exact search in the library space (the original's):
    ``clean`` (a perfect cleaner: the upper bound) and
    ``library_space_degraded_cleaned`` (what the library space gives on the
    same cleaned queries). ``offset_sweep`` lists further largest offsets
    (bins) scored with exact search on the index, so that a user can see how
    the multi-offset look-up trades alignment against specificity.

    ``out_holdout`` (``results/eval/holdout_matches.zarr``) keeps the exact
    backend's matches, so that figures show the experiment's own answers. With
    ``max_queries``, at most that many held-out tiles are queried (a sample seeded by
    ``seed``), which bounds the job's memory and time as the library grows.
    """
    meta = read_index_meta(index_folder)
    aligned = AlignSettings(**meta["align"]) if meta["space"] == "aligned" else None
    holdout_rows, query_sets = holdout_queries(library_store, model_path, distributions_store,
                                               sigma_bins=meta["sigma_bins"], seed=seed,
                                               max_queries=max_queries,
                                               align_settings=aligned)
    found_return = np.all(np.isfinite(query_sets["degraded_cleaned"]), axis=1)
    holdout_rows = holdout_rows[found_return]
    query_sets = {k: v[found_return] for k, v in query_sets.items()}
    library = open_group(library_store)
    fractions, names = class_fractions_for_hashes(truth_stores, library["hash"][:])
    tile_class = dominant_class(fractions)
    item_rows = index_library_rows(index_folder)
    train_rows, train_waveforms = library_split_rows(library_store, "train")
    score = _Scorer(tile_class, holdout_rows, train_rows)
    queries = query_sets["degraded_cleaned"]
    result: dict = {
        "k": int(k), "offsets_bins": [int(o) for o in offsets], "seed": int(seed),
        "space": meta["space"], "draws": meta.get("draws", 1), "n_train": len(train_rows),
        "n_holdout": len(holdout_rows), "classes": names,
    }
    exact_ids = None
    for backend in ("exact", "approximate"):
        index = load_index(index_folder, backend, exact=exact, approximate=approximate)
        found, qps = timed_match(index, queries, k, offsets, item_rows)
        section = {**score(found), "queries_per_second": qps}
        if backend == "exact":
            exact_ids = found.ids
            if out_holdout is not None:
                write_holdout_matches(out_holdout, holdout_rows, found, meta["space"], k)
            section["offset_sweep"] = {
                str(m): score(match_with_offsets(index, queries, k, offsets_bins(m),
                                                 item_rows=item_rows))["class_agreement"]
                for m in offset_sweep}
        else:
            section["recall_at_10"] = recall_at(found.ids, exact_ids, 10)
            section["settings"] = meta.get("approximate", {})
        result[backend] = section
        log.info("%s: class agreement %.3f (chance %.3f), %.0f queries/s", backend,
                 section["class_agreement"], section["chance"], qps)
    library_space = ExactIndex(library_vectors(train_waveforms, meta["sigma_bins"]), exact)
    result["clean"] = score(match_with_offsets(library_space, query_sets["clean"], k, offsets,
                                               item_rows=train_rows))
    if aligned is None:  # aligned queries are not in the library space's units
        result["library_space_degraded_cleaned"] = score(
            match_with_offsets(library_space, queries, k, offsets, item_rows=train_rows))
    result["class_agreement_over_chance"] = (
        result["exact"]["class_agreement"] / max(result["exact"]["chance"], 1e-12))
    write_json_atomic(out_json, result)
    return result
