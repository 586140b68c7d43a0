"""Matching cleaned shots to the simulated library.

A waveform cannot be inverted into the surface that made it (the map from
surface to waveform is many-to-one), but it can be matched: the surfaces
behind its nearest library waveforms say what kind of ice it saw.

Matching space (``matching.space``)
    ``library``, the original's: library waveforms become what the autoencoder
    was trained to produce, unit peak and smoothed with the training targets'
    Gaussian (:func:`library_vectors`). ``autoencoder``: every training
    waveform is degraded like a shot (``draws`` times, fresh each time) and
    cleaned by the autoencoder (:func:`autoencoder_vectors`), so that library
    and shots carry the same systematic errors of the cleaner; the hold-out
    experiment measures how much that gains. Cleaned shots are rescaled to
    unit peak (:func:`query_vectors`). ``aligned``: no autoencoder; training
    waveforms degraded like shots and the raw shots themselves are aligned on
    their leading edges and scaled to unit energy
    (:mod:`cryolearn.crevasse.shots.align`, :func:`aligned_vectors`), which keeps
    the return's width. Distance is Euclidean.

Multi-offset look-ups
    In case the autoencoder's alignment failed, each query is also tried
    shifted by whole bins (:func:`offsets_bins`); for every library neighbour
    the offset that matched best is kept (:func:`match_with_offsets`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cryolearn.crevasse.matching.search import (
    ApproximateIndex,
    ApproximateParams,
    ExactParams,
    IndexMismatchError,
    NeighbourIndex,
    load_index,
    read_index_meta,
    save_index_folder,
)
from cryolearn.crevasse.shots.align import AlignSettings, align
from cryolearn.crevasse.shots.augment import (
    background_subtracted,
    clean_targets,
    degrade,
    read_distributions,
)
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

SPACES = ("library", "autoencoder", "aligned")

#: shot positions and identifiers copied from the denoised store to the matches
SHOT_FIELDS = ("x", "y", "lat", "lon", "time", "rec_ndx", "shot_count", "snr")


@dataclass(frozen=True)
class Matches:
    """The k best library neighbours of every query over all tried offsets.

    ``ids`` index the searched vectors (``-1``: none); ``offsets`` are the
    whole-bin shifts of the query at which each neighbour matched best.
    """

    distances: np.ndarray
    ids: np.ndarray
    offsets: np.ndarray


def library_vectors(waveforms: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Library waveforms in the matching space: unit peak, smoothed like the AE targets."""
    return clean_targets(waveforms, sigma_bins)


def autoencoder_vectors(waveforms: np.ndarray, model_path: str | Path,
                        distributions_store: str | Path, *, draws: int, seed: int,
                        device: str = "cpu", block_rows: int = 16384) -> np.ndarray:
    """Library waveforms as the autoencoder returns them after degradation, ``draws`` each.

    Waveforms are degraded and cleaned ``block_rows`` at a time, so that the
    degradation's temporaries (about 60 KB a waveform) do not grow with the library;
    the generator runs through the blocks in order.

    Returns
    -------
    (draws * n, n_samples) float32: draw 0 of every waveform, then draw 1, ...
    """
    # the network (and torch) only here: matching the shots does not need them
    from cryolearn.crevasse.shots.autoencoder import denoise, load_model

    model, _ = load_model(model_path)
    dist = read_distributions(distributions_store)
    rng = np.random.default_rng(seed)
    n = len(waveforms)
    out = np.empty((draws * n, waveforms.shape[1]), np.float32)
    for draw in range(draws):
        for start in range(0, n, block_rows):
            block = waveforms[start:start + block_rows]
            cleaned = denoise(model, degrade(block, dist, rng)[0], device=device)
            out[draw * n + start:draw * n + start + len(block)] = query_vectors(cleaned)
    return out


def aligned_vectors(waveforms: np.ndarray, distributions_store: str | Path, *, draws: int,
                    seed: int, settings: AlignSettings) -> tuple[np.ndarray, np.ndarray]:
    """Library waveforms degraded like shots and aligned on their leading edges.

    Returns
    -------
    vectors : (m, n_samples) unit-energy vectors, draw 0 of every waveform, then draw 1, ...
        (a degraded waveform without a return above the threshold is left out)
    which : (m,) the input row of every vector
    """
    dist = read_distributions(distributions_store)
    rng = np.random.default_rng(seed)
    vectors, which = [], []
    for _ in range(draws):
        aligned, edge = align(degrade(waveforms, dist, rng)[0], settings)
        found = np.isfinite(edge)
        vectors.append(aligned[found])
        which.append(np.flatnonzero(found))
    if not vectors:
        return np.zeros((0, waveforms.shape[1]), np.float32), np.zeros(0, np.int64)
    return np.concatenate(vectors), np.concatenate(which)


def aligned_queries(shots_store: str | Path, settings: AlignSettings) -> np.ndarray:
    """A campaign's recorded shots aligned like :func:`aligned_vectors` (NaN: no return)."""
    shots = open_group(shots_store)
    signal = background_subtracted(shots["waveform"][:], shots["background_mean"][:])
    return align(signal, settings)[0]


def query_vectors(cleaned: np.ndarray) -> np.ndarray:
    """Cleaned shots in the matching space: rescaled to unit peak."""
    q = np.asarray(cleaned, np.float32)
    peak = q.max(axis=1, initial=0.0, keepdims=True) if q.size else np.ones((len(q), 1))
    return (q / np.where(peak > 0, peak, 1.0)).astype(np.float32)


def offsets_bins(max_offset_bins: int, step_bins: int = 1) -> list[int]:
    """Whole-bin offsets to try: 0 first, then ±step, ±2·step, ... up to the maximum."""
    if max_offset_bins < 0 or step_bins < 1:
        raise ValueError("max_offset_bins must be >= 0 and step_bins >= 1")
    out = [0]
    for o in range(step_bins, max_offset_bins + 1, step_bins):
        out += [-o, o]
    return out


def shift_bins(waveforms: np.ndarray, offset: int) -> np.ndarray:
    """Waveforms moved ``offset`` whole bins later (earlier if negative), zero filled."""
    w = np.asarray(waveforms)
    out = np.zeros_like(w)
    if offset == 0:
        out[:] = w
    elif offset > 0:
        out[:, offset:] = w[:, :-offset]
    else:
        out[:, :offset] = w[:, -offset:]
    return out


def best_per_neighbour(distances: np.ndarray, ids: np.ndarray, offsets: np.ndarray, k: int
                       ) -> Matches:
    """Keep each neighbour once (at its smallest distance), then the k nearest.

    Parameters
    ----------
    distances, ids, offsets : (n, m) candidates of every query, any order
    k : neighbours to keep
    """
    n = len(ids)
    # rows sorted by id, then distance: the first of every id run is its best
    order = np.lexsort((distances, ids), axis=-1)
    d = np.take_along_axis(distances, order, axis=1)
    i = np.take_along_axis(ids, order, axis=1)
    o = np.take_along_axis(offsets, order, axis=1)
    repeat = np.zeros_like(i, dtype=bool)
    repeat[:, 1:] = i[:, 1:] == i[:, :-1]
    d = np.where(repeat | (i < 0), np.inf, d)
    keep = np.argsort(d, axis=1, kind="stable")[:, :k]
    out_d = np.full((n, k), np.inf, np.float32)
    out_i = np.full((n, k), -1, np.int64)
    out_o = np.zeros((n, k), np.int16)
    m = keep.shape[1]
    out_d[:, :m] = np.take_along_axis(d, keep, axis=1)
    found = np.isfinite(out_d[:, :m])
    out_i[:, :m] = np.where(found, np.take_along_axis(i, keep, axis=1), -1)
    out_o[:, :m] = np.where(found, np.take_along_axis(o, keep, axis=1), 0)
    return Matches(out_d, out_i, out_o)


def match_with_offsets(index: NeighbourIndex, queries: np.ndarray, k: int,
                       offsets: Sequence[int] = (0,), *, item_rows: np.ndarray | None = None,
                       progress: bool = False) -> Matches:
    """The k nearest library tiles of every query, trying it at several offsets.

    Parameters
    ----------
    index : the library index
    queries : (n, n_features) waveforms in the matching space
    k : neighbours per query
    offsets : whole-bin shifts to try (see :func:`offsets_bins`)
    item_rows : the library row of every indexed vector, when several vectors
        stand for one tile (``autoencoder`` space): ids are then library rows,
        each tile kept once at its nearest vector. ``None``: ids index the vectors.
    progress : progress bars for the searches

    Returns
    -------
    Matches with (n, k) distances, ids and offsets
    """
    if not offsets:
        raise ValueError("at least one offset is needed (0 is the plain look-up)")
    per_tile = 1
    if item_rows is not None and len(item_rows):
        per_tile = int(np.bincount(np.unique(item_rows, return_inverse=True)[1]).max())
    found = [index.search(shift_bins(queries, o), k * per_tile, progress=progress)
             for o in offsets]
    distances = np.concatenate([d for d, _ in found], axis=1)
    ids = np.concatenate([i for _, i in found], axis=1)
    if item_rows is not None:
        ids = np.where(ids >= 0, np.asarray(item_rows)[np.maximum(ids, 0)], -1)
    shifts = np.concatenate([np.full(f[1].shape, o, np.int16) for o, f in zip(offsets, found,
                                                                              strict=True)], axis=1)
    if len(offsets) == 1 and per_tile == 1:
        return Matches(distances, ids, shifts)
    return best_per_neighbour(distances, ids, shifts, k)


# ---------------------------------------------------------------- index
def library_split_rows(library_store: str | Path, split: str = "train",
                       at_most: int | None = None, seed: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and waveforms of one split (``train`` or ``holdout``) of the library; with
    ``at_most``, of a sorted sample of that many rows seeded by ``seed`` where the split
    holds more (only those are read)."""
    group = open_group(library_store)
    rows = np.flatnonzero(np.asarray(group["split"][:], dtype=object) == split)
    if at_most is not None:
        rows = sample_rows(rows, at_most, sample_generator(seed))
    return rows, group["waveform"].get_orthogonal_selection((rows, slice(None)))


def sample_generator(seed: int) -> np.random.Generator:
    """The generator of an evaluation's samples of rows: a stream of its own, apart from
    the draws a caller makes from the same seed."""
    return np.random.default_rng([seed, 1])


def sample_rows(rows: np.ndarray, at_most: int, rng: np.random.Generator) -> np.ndarray:
    """``rows`` if they are at most ``at_most``, else a sorted random sample of that many."""
    if len(rows) <= at_most:
        return rows
    return np.sort(rng.choice(rows, at_most, replace=False))


def build_index(library_store: str | Path, out_folder: str | Path, *, sigma_bins: float,
                approximate: ApproximateParams, seed: int = 0, space: str = "library",
                model_path: str | Path | None = None,
                distributions_store: str | Path | None = None, draws: int = 1,
                align_settings: AlignSettings | None = None) -> dict:
    """Index the library's training split in the matching space (``results/index/``).

    Both backends are written: the vectors (exact search reads them) and the
    faiss index of ``approximate``. ``space="autoencoder"`` needs the model and
    the distributions, ``space="aligned"`` the distributions; both index ``draws``
    vectors per tile. The aligned space records its alignment in the index, and
    shots are aligned with it.

    Returns
    -------
    the index metadata (also in ``index.json``)
    """
    rows, waveforms = library_split_rows(library_store, "train")
    if len(rows) == 0:
        raise ValueError(f"{library_store}: the library has no training tiles to index")
    if space == "library":
        vectors, item_rows = library_vectors(waveforms, sigma_bins), rows
    elif space == "autoencoder":
        if model_path is None or distributions_store is None:
            raise ValueError("the autoencoder space needs the model and the distributions")
        vectors = autoencoder_vectors(waveforms, model_path, distributions_store, draws=draws,
                                      seed=seed)
        item_rows = np.tile(rows, draws)
    elif space == "aligned":
        if distributions_store is None:
            raise ValueError("the aligned space needs the distributions")
        align_settings = align_settings or AlignSettings()
        vectors, which = aligned_vectors(waveforms, distributions_store, draws=draws, seed=seed,
                                         settings=align_settings)
        item_rows = rows[which]
    else:
        raise ValueError(f"unknown matching space {space!r} (one of {SPACES})")
    t0 = time.perf_counter()
    approx = ApproximateIndex.build(vectors, approximate, seed=seed)
    log.info("approximate index %s over %d vectors built in %.1f s", approximate.factory,
             len(vectors), time.perf_counter() - t0)
    library = open_group(library_store)
    meta = {"library": str(library_store), "split": "train", "sigma_bins": float(sigma_bins),
            "n_library_tiles": int(library["hash"].shape[0]), "n_train_tiles": len(rows),
            "seed": int(seed), "space": space, "draws": int(draws) if space != "library" else 1,
            "model": str(model_path) if space == "autoencoder" else None}
    if space == "aligned":
        meta["align"] = asdict(align_settings or AlignSettings())
    save_index_folder(out_folder, vectors, meta, approx,
                      row_arrays={"library_row": item_rows.astype(np.int64),
                                  "hash": library["hash"].get_orthogonal_selection(item_rows)})
    return read_index_meta(out_folder)


def index_library_rows(index_folder: str | Path) -> np.ndarray:
    """Library row of every indexed vector."""
    return open_group(Path(index_folder) / "vectors.zarr")["library_row"][:]


# ---------------------------------------------------------------- shots
def usable_shots(waveforms: np.ndarray, snr: np.ndarray, min_snr: float
                 ) -> tuple[np.ndarray, dict[str, int]]:
    """Which shots to match, and how many were left out for what."""
    finite = np.isfinite(waveforms).all(axis=1) if waveforms.size else np.ones(len(snr), bool)
    strong = np.asarray(snr) >= min_snr
    skipped = {"non_finite": int((~finite).sum()), "low_snr": int((finite & ~strong).sum())}
    return finite & strong, skipped


def match_store(
    index_folder: str | Path,
    denoised_store: str | Path,
    out_store: str | Path,
    *,
    backend: str,
    k: int = 30,
    offsets: Sequence[int] = (0,),
    min_snr: float = 5.0,
    exact: ExactParams | None = None,
    approximate: ApproximateParams | None = None,
    shots_store: str | Path | None = None,
) -> dict[str, int]:
    """Match every cleaned shot of a campaign (``results/matches/{campaign}.zarr``).

    In the ``aligned`` space the queries are the recorded shots of ``shots_store``
    aligned as the index was (the denoised store still gives SNR and positions).

    The store holds, per shot, ``neighbour[shot, k]`` (rows of the library
    store, ``-1`` where none), ``distance[shot, k]`` (Euclidean, matching
    space), ``offset_bins[shot, k]`` (the query shift at which each neighbour
    matched best), ``matched[shot]`` and the shot's position and identifiers.
    Shots with NaN samples or a signal-to-noise ratio below ``min_snr`` are not
    matched; their counts are logged and kept in the attributes.

    Returns
    -------
    counts: ``n_shots``, ``n_matched``, ``non_finite``, ``low_snr``
    """
    meta = read_index_meta(index_folder)
    index = load_index(index_folder, backend, exact=exact, approximate=approximate)
    shots = open_group(denoised_store)
    if meta["space"] == "aligned":
        if shots_store is None:
            raise ValueError(f"{index_folder} is an aligned-space index: matching needs the "
                             "campaign's results/shots store")
        waveforms = aligned_queries(shots_store, AlignSettings(**meta["align"]))
    else:
        waveforms = shots["waveform"][:]
    if waveforms.shape[1] != index.n_features:
        raise IndexMismatchError(
            f"{denoised_store}: shots have {waveforms.shape[1]} samples, but the index "
            f"{index_folder} was built from {index.n_features}-sample waveforms")
    usable, skipped = usable_shots(waveforms, shots["snr"][:], min_snr)
    n = len(waveforms)
    counts = {"n_shots": n, "n_matched": int(usable.sum()), **skipped}
    if n == 0:
        log.warning("%s: the campaign has no shots; writing an empty matches store",
                    denoised_store)
    elif not usable.any():
        log.warning("%s: none of %d shots can be matched (%s)", denoised_store, n, skipped)
    else:
        log.info("%s: matching %d of %d shots (left out: %s) at offsets %s", denoised_store,
                 counts["n_matched"], n, skipped, list(offsets))
    queries = waveforms[usable] if meta["space"] == "aligned" else query_vectors(waveforms[usable])
    found = match_with_offsets(index, queries, k, offsets,
                               item_rows=index_library_rows(index_folder), progress=True)
    neighbour = np.full((n, k), -1, np.int64)
    distance = np.full((n, k), np.nan, np.float32)
    offset = np.zeros((n, k), np.int16)
    neighbour[usable] = found.ids
    distance[usable] = np.where(found.ids >= 0, found.distances, np.nan)
    offset[usable] = found.offsets
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {
            "campaign": shots.attrs.get("campaign", ""), "backend": backend, "k": int(k),
            "offsets_bins": [int(o) for o in offsets], "min_snr": float(min_snr),
            "index": str(index_folder), "library": meta["library"], "space": meta["space"],
            "sigma_bins": float(meta["sigma_bins"]), **counts})
        write_array(group, "neighbour", neighbour, ("shot", "match"),
                    {"meaning": "row of the library store; -1 none"})
        write_array(group, "distance", distance, ("shot", "match"),
                    {"units": f"Euclidean distance in the {meta['space']} matching space"})
        write_array(group, "offset_bins", offset, ("shot", "match"),
                    {"units": "bins (1 ns)", "meaning": "query shift of the best match"})
        write_array(group, "matched", usable, ("shot",))
        for name in SHOT_FIELDS:
            write_array(group, name, shots[name][:], ("shot",), dict(shots[name].attrs))
    return counts


# ---------------------------------------------------------------- config
@dataclass(frozen=True)
class MatchingSettings:
    """The ``matching`` config section, parsed."""

    backend: str
    space: str
    draws: int
    k: int
    offsets: list[int]
    min_snr: float
    exact: ExactParams
    approximate: ApproximateParams
    seed: int


@dataclass(frozen=True)
class MatchingSection:
    """The ``matching`` config section as written (see ``config/README.md``)."""

    backend: str = "approximate"
    space: str = "autoencoder"
    draws: int = 2
    k: int = 30
    max_offset_bins: int = 1
    offset_step_bins: int = 1
    min_snr: float = 5.0
    seed: int = 0
    exact: dict = field(default_factory=dict)
    approximate: dict = field(default_factory=dict)
    #: read by the hold-out experiment (``evaluate_matching``), not by matching itself
    evaluation: dict = field(default_factory=dict)


def matching_settings(section: dict) -> MatchingSettings:
    """Parse the ``matching`` config section; an unknown key is refused by name."""
    values = settings_from(MatchingSection, section, "matching")
    return MatchingSettings(
        backend=str(values.backend), space=str(values.space), draws=int(values.draws),
        k=int(values.k),
        offsets=offsets_bins(int(values.max_offset_bins), int(values.offset_step_bins)),
        min_snr=float(values.min_snr),
        exact=settings_from(ExactParams, values.exact, "matching.exact"),
        approximate=settings_from(ApproximateParams, values.approximate, "matching.approximate"),
        seed=int(values.seed),
    )
