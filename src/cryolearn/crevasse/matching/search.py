"""Nearest-neighbour search over waveform vectors: one interface, two backends.

* :class:`ExactIndex`: brute force as blocked matrix products,
  ``|q - x|² = |q|² - 2 q·x + |x|²``, with a running top-k merged block by
  block. The library is read one block at a time (an in-memory array or a Zarr
  array alike), so memory is bounded by the block sizes, not the library size.
  It runs on the GPU through PyTorch when one is present.
* :class:`ApproximateIndex`: a faiss index built from a factory string
  (default ``"HNSW32"``, a hierarchical navigable small-world graph; an
  optional ``PCA`` projection in front and exact re-ranking of a few times k
  candidates behind).

The original work used scikit-learn's locality-sensitive hashing forest,
since removed from that library for poor performance; ``bench/matching.py``
measures both backends here against scikit-learn's brute force.

Both return Euclidean distances (not squared), ascending, and int64 ids into
the indexed vectors; ``-1`` marks a missing neighbour (fewer vectors than k).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
from tqdm import tqdm

from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array

if TYPE_CHECKING:
    import torch

INDEX_META = "index.json"
VECTORS_STORE = "vectors.zarr"
FAISS_FILE = "approximate.faiss"


class IndexMismatchError(ValueError):
    """Queries that cannot be searched in an index (wrong length, not finite)."""


@dataclass(frozen=True)
class ExactParams:
    """Block sizes of exact search.

    Peak memory is about ``4 * (block_rows * (n_features + query_rows))`` bytes
    plus the running top-k of the queries.
    """

    block_rows: int = 32768
    query_rows: int = 1024
    device: str = "auto"


@dataclass(frozen=True)
class ApproximateParams:
    """A faiss index: factory string and search settings.

    ``factory`` is any faiss index-factory string over L2 (e.g. ``"HNSW32"``,
    ``"PCA64,HNSW32"``, ``"IVF1024,Flat"``); ``ef_search`` applies to HNSW
    graphs, ``nprobe`` to inverted lists; ``refine_factor`` > 1 re-ranks
    ``refine_factor * k`` candidates by exact distance.
    """

    factory: str = "PCA32,HNSW32"
    ef_construction: int = 100
    ef_search: int = 64
    nprobe: int = 16
    refine_factor: int = 4
    threads: int = 0
    deterministic_build: bool = True


def check_queries(queries: np.ndarray, n_features: int, what: str = "queries") -> np.ndarray:
    """Queries as a C-contiguous float32 (n, n_features) array, or a clear error."""
    q = np.ascontiguousarray(np.asarray(queries, dtype=np.float32))
    if q.ndim != 2:
        raise IndexMismatchError(f"{what}: expected a 2-D (n, {n_features}) array, got {q.shape}")
    if q.shape[1] != n_features:
        raise IndexMismatchError(
            f"{what}: {q.shape[1]} samples per waveform, but the index holds {n_features}")
    if q.size and not np.isfinite(q).all():
        bad = int((~np.isfinite(q).all(axis=1)).sum())
        raise IndexMismatchError(f"{what}: {bad} of {len(q)} rows hold NaN or infinite samples")
    return q


def _empty_result(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), np.inf, np.float32), np.full((n, k), -1, np.int64)


class NeighbourIndex(ABC):
    """k-nearest-neighbour search over fixed vectors (Euclidean distance)."""

    backend: str

    @property
    @abstractmethod
    def n_vectors(self) -> int:
        """Number of indexed vectors."""

    @property
    @abstractmethod
    def n_features(self) -> int:
        """Length of every vector."""

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """Search checked, non-empty float32 queries."""

    def search(self, queries: np.ndarray, k: int, *, progress: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest indexed vectors of every query.

        Parameters
        ----------
        queries : (n, n_features) array; NaN or a wrong length raise
            :class:`IndexMismatchError`
        k : neighbours per query
        progress : show a progress bar

        Returns
        -------
        distances : (n, k) float32 Euclidean distances, ascending (inf if missing)
        ids : (n, k) int64 row numbers of the indexed vectors (-1 if missing)
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        q = check_queries(queries, self.n_features)
        if len(q) == 0 or self.n_vectors == 0:
            return _empty_result(len(q), k)
        return self._search(q, k, progress)


class ExactIndex(NeighbourIndex):
    """Exact search by blocked matrix products with a running top-k.

    Parameters
    ----------
    vectors : (N, d) array-like supporting row slices (NumPy or Zarr array)
    params : block sizes and device
    """

    backend = "exact"

    def __init__(self, vectors: Any, params: ExactParams | None = None) -> None:
        if len(vectors.shape) != 2:
            raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
        # torch only where the exact search runs: a job of the approximate index skips
        # its two-second import
        from cryolearn.nn.training import pick_device

        self.vectors = vectors
        self.params = params or ExactParams()
        self.device = pick_device(self.params.device)

    @property
    def n_vectors(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.vectors.shape[1])

    def _blocks(self) -> Iterator[tuple[int, torch.Tensor]]:
        import torch

        rows = self.params.block_rows
        for start in range(0, self.n_vectors, rows):
            block = np.asarray(self.vectors[start:start + rows], dtype=np.float32)
            yield start, torch.from_numpy(np.ascontiguousarray(block)).to(self.device)

    def _search(self, queries: np.ndarray, k: int, progress: bool
                ) -> tuple[np.ndarray, np.ndarray]:
        # tensors made from arrays need no gradient: no autograd graph is built here
        import torch

        n = len(queries)
        kk = min(k, self.n_vectors)
        q_all = torch.from_numpy(queries).to(self.device)
        # a common shift leaves distances unchanged and makes |q|² and |x|² small,
        # so less is lost to cancellation in |q|² - 2q·x + |x|²
        centre = q_all.mean(dim=0)
        q_all = q_all - centre
        q_norm = (q_all * q_all).sum(dim=1)
        best_d = torch.full((n, kk), torch.inf, device=self.device)
        best_i = torch.full((n, kk), -1, dtype=torch.int64, device=self.device)
        q_rows = self.params.query_rows
        blocks = tqdm(self._blocks(), total=-(-self.n_vectors // self.params.block_rows),
                      desc="exact search", unit="block", disable=not progress)
        for start, block in blocks:
            block = block - centre
            b_norm = (block * block).sum(dim=1)
            for q0 in range(0, n, q_rows):
                q = q_all[q0:q0 + q_rows]
                d2 = (q_norm[q0:q0 + q_rows, None] - 2.0 * (q @ block.T)) + b_norm[None, :]
                # over-fetch by the expansion, then rank the candidates by direct differences:
                # near-duplicate library waveforms differ by less than its rounding error
                fetch = min(kk + max(kk, 16), block.shape[0])
                cand = torch.topk(d2, fetch, dim=1, largest=False, sorted=False).indices
                d = _direct_squared_distances(q, block, cand)
                merged_d = torch.cat([best_d[q0:q0 + q_rows], d], dim=1)
                merged_i = torch.cat([best_i[q0:q0 + q_rows], cand + start], dim=1)
                top_d, pos = torch.topk(merged_d, kk, dim=1, largest=False, sorted=True)
                best_d[q0:q0 + q_rows] = top_d
                best_i[q0:q0 + q_rows] = torch.gather(merged_i, 1, pos)
        distances, ids = _empty_result(n, k)
        distances[:, :kk] = best_d.sqrt().cpu().numpy()
        ids[:, :kk] = best_i.cpu().numpy()
        return distances, ids


def _direct_squared_distances(q: torch.Tensor, block: torch.Tensor, cand: torch.Tensor,
                              rows: int = 256) -> torch.Tensor:
    """Σ (q - x)² of every query with its candidate rows of ``block``, in slices."""
    import torch

    out = torch.empty(cand.shape, dtype=q.dtype, device=q.device)
    for s in range(0, len(q), rows):
        diff = q[s:s + rows, None, :] - block[cand[s:s + rows]]
        out[s:s + rows] = (diff * diff).sum(dim=2)
    return out


class ApproximateIndex(NeighbourIndex):
    """Approximate search with a faiss index (CPU).

    Build with :meth:`build`; load a saved one with :func:`load_index`.
    """

    backend = "approximate"

    def __init__(self, index: faiss.Index, params: ApproximateParams) -> None:
        self.index = index
        self.params = params
        self._apply_search_params()

    @classmethod
    def build(cls, vectors: np.ndarray, params: ApproximateParams | None = None,
              *, seed: int = 0) -> ApproximateIndex:
        """Train (when the factory needs it) and fill a faiss index with ``vectors``."""
        params = params or ApproximateParams()
        x = check_queries(vectors, np.asarray(vectors).shape[-1], "library vectors")
        threads = faiss.omp_get_max_threads()
        if params.deterministic_build:
            faiss.omp_set_num_threads(1)
        elif params.threads:
            faiss.omp_set_num_threads(params.threads)
        try:
            index = _trained_and_filled(x, params, seed)
        finally:
            faiss.omp_set_num_threads(threads)
        return cls(index, params)

    @property
    def n_vectors(self) -> int:
        return int(self.index.ntotal)

    @property
    def n_features(self) -> int:
        return int(self.index.d)

    def _apply_search_params(self) -> None:
        inner = self.index.base_index if isinstance(self.index, faiss.IndexRefine) else self.index
        hnsw = _hnsw_of(inner)
        if hnsw is not None:
            hnsw.efSearch = self.params.ef_search
        ivf = _ivf_of(inner)
        if ivf is not None:
            ivf.nprobe = self.params.nprobe
        if isinstance(self.index, faiss.IndexRefine):
            self.index.k_factor = float(self.params.refine_factor)

    def _search(self, queries: np.ndarray, k: int, progress: bool
                ) -> tuple[np.ndarray, np.ndarray]:
        if self.params.threads:
            faiss.omp_set_num_threads(self.params.threads)
        distances = np.empty((len(queries), k), np.float32)
        ids = np.empty((len(queries), k), np.int64)
        rows = 16384
        for start in tqdm(range(0, len(queries), rows), desc="approximate search",
                          unit="chunk", disable=not progress):
            d2, i = self.index.search(queries[start:start + rows], k)
            distances[start:start + rows] = np.sqrt(np.maximum(d2, 0))
            ids[start:start + rows] = i
        distances[ids < 0] = np.inf
        return distances, ids


def _trained_and_filled(x: np.ndarray, params: ApproximateParams, seed: int) -> faiss.Index:
    """A faiss index from the factory string, trained when it needs it, holding ``x``."""
    index = faiss.index_factory(x.shape[1], params.factory, faiss.METRIC_L2)
    hnsw = _hnsw_of(index)
    if hnsw is not None:
        hnsw.efConstruction = params.ef_construction
    _seed_training(index, seed)  # before the refine wrapper, which hides the inner index
    if params.refine_factor > 1:
        index = faiss.IndexRefineFlat(index)
    if not index.is_trained and len(x):
        index.train(x)
    if len(x):
        index.add(x)
    return index


def _hnsw_of(index: faiss.Index) -> Any:
    """The HNSW graph inside an index (through PCA pre-transforms), if any."""
    index = _strip_transforms(index)
    return index.hnsw if hasattr(index, "hnsw") else None


def _ivf_of(index: faiss.Index) -> Any:
    """The inverted-file index inside an index (through pre-transforms), if any."""
    index = _strip_transforms(index)
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _strip_transforms(index: faiss.Index) -> faiss.Index:
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform):
        return faiss.downcast_index(index.index)
    return index


def _seed_training(index: faiss.Index, seed: int) -> None:
    """Make k-means training (IVF, PQ) reproducible: faiss seeds it per index."""
    ivf = _ivf_of(index)
    if ivf is not None:
        ivf.cp.seed = seed


# ---------------------------------------------------------------- on disk
def save_index_folder(
    folder: str | Path,
    vectors: np.ndarray,
    meta: dict[str, Any],
    approximate: ApproximateIndex | None,
    *,
    row_arrays: dict[str, np.ndarray] | None = None,
) -> None:
    """Write an index folder atomically: vectors, optional faiss index, metadata.

    Layout: ``vectors.zarr`` (``vector[item, sample]`` and any ``row_arrays``,
    e.g. the library rows the items came from), ``approximate.faiss`` and
    ``index.json``.
    """
    folder = Path(folder)
    with atomic_store(folder) as tmp:
        tmp.mkdir(parents=True)
        group = create_group(tmp / VECTORS_STORE, {"n_features": int(vectors.shape[1])})
        write_array(group, "vector", vectors, ("item", "sample"), chunk_rows=8192,
                    dtype=np.float32)
        for name, values in (row_arrays or {}).items():
            write_array(group, name, values, ("item",))
        if approximate is not None:
            faiss.write_index(approximate.index, str(tmp / FAISS_FILE))
            meta = {**meta, "approximate": asdict(approximate.params)}
        meta = {**meta, "n_vectors": int(vectors.shape[0]), "n_features": int(vectors.shape[1])}
        (tmp / INDEX_META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_index_meta(folder: str | Path) -> dict[str, Any]:
    """The ``index.json`` of an index folder, or a clear error naming it."""
    path = Path(folder) / INDEX_META
    if not path.exists():
        raise FileNotFoundError(f"{folder}: not an index folder (no {INDEX_META})")
    return json.loads(path.read_text())


def load_index(folder: str | Path, backend: str, *, exact: ExactParams | None = None,
               approximate: ApproximateParams | None = None, in_memory: bool = True
               ) -> NeighbourIndex:
    """Open an index folder with the chosen backend.

    Parameters
    ----------
    folder : written by :func:`save_index_folder`
    backend : ``"exact"`` or ``"approximate"``
    exact : block sizes for exact search
    approximate : search settings (``ef_search``, ``nprobe``, ``refine_factor``,
        ``threads``) that override those saved; the build settings are fixed
    in_memory : exact search reads the vectors into memory (``False`` streams
        them block by block from the Zarr store)
    """
    meta = read_index_meta(folder)
    folder = Path(folder)
    if backend == "exact":
        vectors = open_group(folder / VECTORS_STORE)["vector"]
        return ExactIndex(vectors[:] if in_memory else vectors, exact)
    if backend == "approximate":
        path = folder / FAISS_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path}: this index folder has no approximate index")
        saved = ApproximateParams(**meta["approximate"])
        params = approximate or saved
        if (params.factory != saved.factory
                or (params.refine_factor > 1) != (saved.refine_factor > 1)):
            raise IndexMismatchError(
                f"{folder}: built as {saved.factory!r} (refine {saved.refine_factor}), asked for "
                f"{params.factory!r} (refine {params.refine_factor}); rebuild the index")
        return ApproximateIndex(faiss.read_index(str(path)), params)
    raise ValueError(f"unknown search backend {backend!r} (exact or approximate)")
