"""Self-organising maps of tile features: a PyTorch batch SOM and somoclu behind one interface.

The original work organised 212,534 normalised tiles on a 200 × 300 somoclu
map with PCA initialisation. Both backends here run the same batch algorithm
(Kohonen's batch SOM, as somoclu's dense kernel does), epoch by epoch:

1. every sample's best-matching unit (BMU): the node whose codebook vector is
   nearest in Euclidean distance;
2. every node's new codebook vector: the neighbourhood-weighted mean of the
   samples, ``w_j = Σ_i h(j, bmu_i) x_i / Σ_i h(j, bmu_i)``, with a Gaussian
   neighbourhood ``h = exp(-d² / (2 (std_coeff · r)²))`` of the map distance
   ``d``, cut to zero beyond ``r`` with compact support; a node that no sample
   reaches keeps its vector;
3. a radius that cools linearly from ``radius0`` to ``radius_n``.

somoclu computes step 2 node by node over every sample. The PyTorch backend
sums the samples per BMU (``S``, nodes × features) and applies the
neighbourhood on the map grid as products of small row and column kernels, so
it holds neither a samples × nodes distance matrix (BMUs come from chunks of
samples) nor a nodes × nodes neighbourhood matrix, and it runs on the GPU when
one is present.

Map geometry: node ``(row, col)`` has index ``row · columns + col``. On a
hexagonal grid odd rows are shifted by half a node and rows are √3/2 apart, so
that the six neighbours are all at distance 1 (somoclu's hexagonal distance
truncates the half-node shift to whole nodes; ours is the geometric one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from cryolearn.crevasse.surfaces.normalise import feature_vectors
from cryolearn.io.zarrstore import atomic_store, create_array, create_group, open_group, write_array
from cryolearn.nn.training import pick_device
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

BACKENDS = ("torch", "somoclu")
MAP_TYPES = ("planar", "toroid")
GRID_TYPES = ("rectangular", "hexagonal")
INITIALISATIONS = ("pca", "random")

#: squared map distance up to which two nodes count as adjacent (4 or 6 neighbours)
_ADJACENT_SQ = 1.0 + 1e-6


@dataclass(frozen=True)
class SomParams:
    """Map shape, schedule and backend of a self-organising map.

    ``radius0 = 0`` means half the shorter side of the map (somoclu's default).
    ``pca_components > 0`` trains on that many principal components of the
    features (fitted on ``pca_sample`` samples); the codebook is then lifted
    back to the full feature space with the last epoch's neighbourhood, and
    the quantisation error is reported in both spaces. ``chunk_mb`` bounds the
    memory of one chunk of samples and their distances to the nodes; on the CPU
    the samples stream from the store chunk by chunk (:class:`FeatureView`).
    """

    rows: int = 20
    columns: int = 30
    epochs: int = 10
    radius0: float = 0.0
    radius_n: float = 1.0
    std_coeff: float = 0.5
    compact_support: bool = True
    maptype: str = "planar"
    gridtype: str = "rectangular"
    initialization: str = "pca"
    backend: str = "torch"
    pca_components: int = 0
    pca_sample: int = 20000
    chunk_mb: int = 256
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        _check_choice("som.backend", self.backend, BACKENDS)
        _check_choice("som.maptype", self.maptype, MAP_TYPES)
        _check_choice("som.gridtype", self.gridtype, GRID_TYPES)
        _check_choice("som.initialization", self.initialization, INITIALISATIONS)
        if self.rows < 1 or self.columns < 1 or self.rows * self.columns < 2:
            raise ValueError(f"som: a map of {self.rows} × {self.columns} nodes; at least 2 nodes")
        if self.epochs < 1:
            raise ValueError(f"som.epochs must be at least 1, got {self.epochs}")
        if self.radius_n <= 0 or self.radius0 < 0:
            raise ValueError(f"som: radii must be positive (radius0 {self.radius0}, "
                             f"radius_n {self.radius_n})")
        if self.maptype == "toroid" and self.gridtype == "hexagonal" and self.rows % 2:
            raise ValueError(f"som: a hexagonal toroid needs an even number of rows, "
                             f"got {self.rows}")

    @property
    def n_nodes(self) -> int:
        return self.rows * self.columns

    def grid(self) -> MapGrid:
        return MapGrid(self.rows, self.columns, self.maptype, self.gridtype)

    def radii(self) -> np.ndarray:
        """Neighbourhood radius of each epoch: linear cooling, as somoclu's."""
        start = self.radius0 or min(self.rows, self.columns) / 2.0
        if self.epochs == 1:
            return np.array([start])
        return start - np.arange(self.epochs) * (start - self.radius_n) / (self.epochs - 1)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


@dataclass(frozen=True)
class MapGrid:
    """Node positions and map distances of a rectangular or hexagonal, planar or toroid map."""

    rows: int
    columns: int
    maptype: str = "planar"
    gridtype: str = "rectangular"

    @property
    def n_nodes(self) -> int:
        return self.rows * self.columns

    @property
    def _row_step(self) -> float:
        return np.sqrt(3.0) / 2.0 if self.gridtype == "hexagonal" else 1.0

    def positions(self) -> np.ndarray:
        """(nodes, 2) node centres (x, y) in map units; y grows with the row."""
        row, col = np.divmod(np.arange(self.n_nodes), self.columns)
        x = col + (0.5 * (row % 2) if self.gridtype == "hexagonal" else 0.0)
        return np.column_stack([x, row * self._row_step]).astype(float)

    def _row_geometry(self, r1: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertical distance and horizontal shift between rows ``r1`` and ``r2``."""
        dr = np.abs(r1 - r2)
        if self.maptype == "toroid":
            dr = np.minimum(dr, self.rows - dr)
        shift = 0.5 * ((r1 % 2) - (r2 % 2)) if self.gridtype == "hexagonal" else 0.0 * dr
        return dr * self._row_step, shift

    def _column_distance(self, c1: np.ndarray, c2: np.ndarray, shift: np.ndarray) -> np.ndarray:
        dx = np.abs(c1 - c2 + shift)
        if self.maptype == "toroid":
            dx = np.minimum(dx % self.columns, self.columns - dx % self.columns)
        return dx

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Map distance between nodes ``a`` and ``b`` (broadcasting node indices)."""
        ra, ca = np.divmod(np.asarray(a), self.columns)
        rb, cb = np.divmod(np.asarray(b), self.columns)
        dy, shift = self._row_geometry(ra, rb)
        dx = self._column_distance(ca, cb, shift)
        return np.sqrt(dx ** 2 + dy ** 2)

    def distance_matrix(self) -> np.ndarray:
        """(nodes, nodes) map distances; for small maps and tests only."""
        nodes = np.arange(self.n_nodes)
        return self.distance(nodes[:, None], nodes[None, :])

    def adjacent_pairs(self) -> np.ndarray:
        """(m, 2) node pairs ``i < j`` at map distance 1 (4 or 6 neighbours, wraps included).

        Only the 8 surrounding nodes can be at distance 1 (also on a hexagonal
        grid), so candidates come from those offsets: linear in the map size.
        """
        nodes = np.arange(self.n_nodes)
        row, col = np.divmod(nodes, self.columns)
        candidates = []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = row + dr, col + dc
                if self.maptype == "toroid":
                    r, c = r % self.rows, c % self.columns
                inside = (r >= 0) & (r < self.rows) & (c >= 0) & (c < self.columns)
                candidates.append(np.column_stack([nodes[inside],
                                                   (r * self.columns + c)[inside]]))
        pairs = np.concatenate(candidates)
        pairs = pairs[(pairs[:, 0] < pairs[:, 1])
                      & (self.distance(pairs[:, 0], pairs[:, 1]) ** 2 <= _ADJACENT_SQ)]
        return np.unique(pairs, axis=0).astype(np.int64).reshape(-1, 2)

    def neighbourhood_factors(self, radius: float, std_coeff: float = 0.5,
                              compact_support: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
        """The neighbourhood matrix as a sum of row ⊗ column kernel products.

        ``H[(r, c), (r', c')] = Σ_k G_k[r, r'] · C_k[c, c']``. The Gaussian of
        ``dx² + dy²`` factorises into a Gaussian of ``dy`` and one of ``dx``;
        the horizontal shift of hexagonal rows and the compact-support cut
        (which couples ``dx`` and ``dy``) give one term per distinct
        (shift, cut) pair, so a map of R rows needs at most about 2R terms.
        """
        sigma2 = (std_coeff * radius) ** 2
        r = np.arange(self.rows)
        dy, shift = self._row_geometry(r[:, None], r[None, :])
        shift = np.broadcast_to(shift, dy.shape)
        c = np.arange(self.columns)
        g_rows = np.exp(-(dy ** 2) / (2 * sigma2))
        factors = []
        for s in np.unique(shift):
            dx = self._column_distance(c[:, None], c[None, :], s)
            g_cols = np.exp(-(dx ** 2) / (2 * sigma2))
            same_shift = shift == s
            if not compact_support:
                factors.append((g_rows * same_shift, g_cols))
                continue
            for v in np.unique(dy[same_shift]):
                if v > radius:
                    continue
                rows_v = same_shift & (dy == v)
                factors.append((g_rows * rows_v, g_cols * (dx ** 2 + v ** 2 <= radius ** 2)))
        return factors

    def neighbourhood_matrix(self, radius: float, std_coeff: float = 0.5,
                             compact_support: bool = True) -> np.ndarray:
        """(nodes, nodes) neighbourhood weights, built directly; for tests and small maps."""
        d = self.distance_matrix()
        h = np.exp(-(d ** 2) / (2 * (std_coeff * radius) ** 2))
        return h * (d <= radius) if compact_support else h


def apply_neighbourhood(values: torch.Tensor, factors: list[tuple[np.ndarray, np.ndarray]],
                        grid: MapGrid) -> torch.Tensor:
    """``H @ values`` for (nodes, k) ``values``, without forming the nodes × nodes ``H``."""
    rows, cols = grid.rows, grid.columns
    grid_values = values.reshape(rows, cols, -1)
    out = torch.zeros_like(grid_values)
    for g_rows, g_cols in factors:
        g_r = torch.as_tensor(g_rows, dtype=values.dtype, device=values.device)
        g_c = torch.as_tensor(g_cols, dtype=values.dtype, device=values.device)
        along_columns = torch.matmul(g_c, grid_values)
        out += torch.matmul(g_r, along_columns.reshape(rows, -1)).reshape(out.shape)
    return out.reshape(values.shape)


@dataclass
class SomResult:
    """A trained map.

    ``codebook`` is in the full feature space; ``quantisation_error`` and
    ``topographic_error`` hold, per epoch ``e = 0 … epochs``, the errors of
    the codebook after ``e`` epochs in the space the map was trained in.
    """

    params: SomParams
    codebook: np.ndarray
    bmu: np.ndarray
    bmu_distance: np.ndarray
    quantisation_error: np.ndarray
    topographic_error: np.ndarray
    radius: np.ndarray
    epoch_seconds: np.ndarray
    umatrix: np.ndarray
    space: str = "full"
    quantisation_error_full: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.params.backend, "rows": self.params.rows,
            "columns": self.params.columns, "epochs": self.params.epochs,
            "space": self.space,
            "quantisation_error": float(self.quantisation_error[-1]),
            "quantisation_error_full": float(self.quantisation_error_full),
            "topographic_error": float(self.topographic_error[-1]),
            "seconds_per_epoch": float(np.mean(self.epoch_seconds)),
        }


class SampleChunks:
    """Samples served in chunks as tensors on one device, optionally cached there.

    ``data`` is any array with NumPy slicing (NumPy, Zarr). It is centred on
    its mean, which leaves nearest nodes unchanged and keeps
    ``|x|² - 2 x·w + |w|²`` away from cancellation.
    """

    def __init__(self, data: Any, device: torch.device, chunk_rows: int) -> None:
        self.data = data
        self.device = device
        self.chunk_rows = max(1, int(chunk_rows))
        self.n, self.n_features = data.shape
        self.mean = self._mean()
        self._cached: torch.Tensor | None = None
        if device.type == "cuda" and isinstance(data, np.ndarray) \
                and data.nbytes < 0.5 * torch.cuda.mem_get_info(device)[0]:
            # on the GPU, one upload instead of one per epoch; on the CPU a cache would
            # only double the memory
            self._cached = torch.as_tensor(np.asarray(data, np.float32), device=device) - self.mean

    def _mean(self) -> torch.Tensor:
        total = np.zeros(self.n_features, np.float64)
        for start in range(0, self.n, self.chunk_rows):
            total += np.asarray(self.data[start:start + self.chunk_rows], np.float64).sum(axis=0)
        return torch.as_tensor(total / max(self.n, 1), dtype=torch.float32, device=self.device)

    def __iter__(self) -> Iterator[tuple[int, torch.Tensor]]:
        for start in range(0, self.n, self.chunk_rows):
            if self._cached is not None:
                yield start, self._cached[start:start + self.chunk_rows]
            else:
                chunk = np.asarray(self.data[start:start + self.chunk_rows], np.float32)
                yield start, torch.as_tensor(chunk, device=self.device) - self.mean


def chunk_rows_for(n_nodes: int, chunk_mb: int, n_features: int = 0) -> int:
    """Samples per chunk so that a chunk's distances to all nodes, and its samples
    themselves (``n_features`` each), fit in ``chunk_mb``."""
    return max(1, min(65536, int(chunk_mb * 2 ** 20 / (4 * (3 * n_nodes + n_features)))))


@dataclass
class PassResult:
    """One pass over the samples: BMUs and errors, optionally per-node sums."""

    bmu: np.ndarray
    bmu_distance: np.ndarray
    topographic_error: float
    sums: torch.Tensor | None = None
    counts: torch.Tensor | None = None

    @property
    def quantisation_error(self) -> float:
        return float(self.bmu_distance.mean()) if len(self.bmu_distance) else float("nan")


def best_matching_units(x: torch.Tensor, codebook: torch.Tensor,
                        codebook_sq: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest and second-nearest node of each sample, and the distance to the nearest.

    Nodes are ranked by ``|w|² - 2 x·w`` from one matrix product; the distance
    to the chosen node is then computed directly.

    Returns
    -------
    top2 : (n, 2) node indices (the second equals the first on a one-node map)
    distance : (n,) Euclidean distance to the best-matching unit
    """
    if codebook_sq is None:
        codebook_sq = (codebook * codebook).sum(dim=1)
    scores = codebook_sq[None, :] - 2.0 * (x @ codebook.T)
    k = min(2, codebook.shape[0])
    top = torch.topk(scores, k, dim=1, largest=False, sorted=True).indices
    if k == 1:
        top = top.repeat(1, 2)
    distance = torch.linalg.vector_norm(x - codebook[top[:, 0]], dim=1)
    return top, distance


def sample_pass(samples: SampleChunks, codebook: torch.Tensor, grid: MapGrid,
                accumulate: bool) -> PassResult:
    """BMUs, quantisation and topographic errors of all samples; per-node sums if asked."""
    centred = codebook - samples.mean
    codebook_sq = (centred * centred).sum(dim=1)
    n, n_nodes = samples.n, codebook.shape[0]
    bmu = np.empty(n, np.int64)
    second = np.empty(n, np.int64)
    distance = np.empty(n, np.float32)
    sums = torch.zeros_like(codebook) if accumulate else None
    counts = torch.zeros(n_nodes, dtype=codebook.dtype, device=codebook.device) if accumulate \
        else None
    for start, x in samples:
        top, d = best_matching_units(x, centred, codebook_sq)
        stop = start + len(x)
        top_np = top.cpu().numpy()
        bmu[start:stop], second[start:stop] = top_np[:, 0], top_np[:, 1]
        distance[start:stop] = d.cpu().numpy()
        if accumulate:
            sums.index_add_(0, top[:, 0], x)
            counts += torch.bincount(top[:, 0], minlength=n_nodes).to(counts.dtype)
    if accumulate:
        sums += counts[:, None] * samples.mean[None, :]
    apart = grid.distance(bmu, second) ** 2 > _ADJACENT_SQ if n else np.zeros(0, bool)
    return PassResult(bmu, distance, float(apart.mean()) if n else float("nan"), sums, counts)


def batch_update(codebook: torch.Tensor, sums: torch.Tensor, counts: torch.Tensor,
                 grid: MapGrid, radius: float, std_coeff: float,
                 compact_support: bool) -> torch.Tensor:
    """New codebook ``H S / H n``; nodes that no sample reaches keep their vector."""
    factors = grid.neighbourhood_factors(radius, std_coeff, compact_support)
    numerator = apply_neighbourhood(sums, factors, grid)
    denominator = apply_neighbourhood(counts[:, None], factors, grid)[:, 0]
    reached = denominator > 0
    updated = codebook.clone()
    updated[reached] = numerator[reached] / denominator[reached, None]
    return updated


def somoclu_epoch(data: np.ndarray, codebook: np.ndarray, radius: float,
                  params: SomParams) -> np.ndarray:
    """One somoclu epoch at ``radius`` from ``codebook`` (its dense CPU kernel)."""
    import somoclu

    som = somoclu.Somoclu(params.columns, params.rows,
                          initialcodebook=np.ascontiguousarray(codebook, np.float32),
                          maptype=params.maptype, gridtype=params.gridtype,
                          compactsupport=params.compact_support, std_coeff=params.std_coeff)
    # somoclu's linear cooling divides by (epochs - 1); one epoch of exponential cooling
    # between equal radii is exactly radius0.
    som.train(np.ascontiguousarray(data, np.float32), epochs=1, radius0=float(radius),
              radiusN=float(radius), radiuscooling="exponential", scalecooling="exponential")
    return som.codebook.reshape(params.n_nodes, -1)


def principal_axes(data: Any, n_components: int, sample: int, seed: int,
                   chunk_rows: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean, leading principal axes and their variances, from at most ``sample`` rows.

    Returns
    -------
    mean : (d,)
    axes : (n_components, d), orthonormal rows, by decreasing variance
    variance : (n_components,)
    total_variance : the sample's total variance (over all axes)
    """
    n, d = data.shape
    rows = np.arange(n)
    if n > sample:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    blocks = [np.asarray(data[rows[i:i + chunk_rows]], np.float64)
              for i in range(0, len(rows), chunk_rows)]
    x = np.concatenate(blocks) if blocks else np.zeros((0, d))
    mean = x.mean(axis=0)
    x -= mean
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(n_components, vt.shape[0])
    all_variance = s ** 2 / max(len(x) - 1, 1)
    return mean, vt[:k], all_variance[:k], float(all_variance.sum())


def initial_codebook(data: Any, params: SomParams) -> np.ndarray:
    """The starting codebook: the principal plane of the data, or random samples.

    ``pca`` spans ±2 standard deviations of the first two principal components,
    the first along the map's longer side; ``random`` takes distinct samples.
    """
    n, d = data.shape
    if params.initialization == "random":
        rng = np.random.default_rng(params.seed)
        picks = np.sort(rng.choice(n, size=params.n_nodes, replace=n < params.n_nodes))
        return np.asarray(data[picks], np.float32)
    mean, axes, variance, _ = principal_axes(data, 2, params.pca_sample, params.seed)
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros((2 - len(axes), d))])
        variance = np.concatenate([variance, np.zeros(2 - len(variance))])
    pos = params.grid().positions()
    span = np.ptp(pos, axis=0)
    unit = np.where(span > 0, (pos - pos.min(axis=0)) / np.where(span > 0, span, 1) * 2 - 1, 0)
    long_axis = 0 if params.columns >= params.rows else 1
    coords = np.column_stack([unit[:, long_axis], unit[:, 1 - long_axis]])
    codebook = mean + (coords * 2 * np.sqrt(variance)) @ axes
    return codebook.astype(np.float32)


@dataclass
class Projection:
    """A PCA projection of the features, with the mean and axes to undo it."""

    mean: np.ndarray
    axes: np.ndarray
    variance: np.ndarray
    explained: float

    def project(self, data: Any, chunk_rows: int = 4096) -> np.ndarray:
        out = np.empty((data.shape[0], len(self.axes)), np.float32)
        for start in range(0, data.shape[0], chunk_rows):
            block = np.asarray(data[start:start + chunk_rows], np.float64) - self.mean
            out[start:start + len(block)] = block @ self.axes.T
        return out


def fit_projection(data: Any, params: SomParams) -> Projection:
    """PCA of the features with ``params.pca_components`` axes."""
    mean, axes, variance, total = principal_axes(data, params.pca_components,
                                                 params.pca_sample, params.seed)
    explained = float(variance.sum() / total) if total > 0 else 1.0
    return Projection(mean, axes, variance, explained)


def umatrix(codebook: np.ndarray, grid: MapGrid) -> np.ndarray:
    """Mean feature-space distance of each node to its adjacent nodes, as (rows, columns)."""
    pairs = grid.adjacent_pairs()
    gaps = np.linalg.norm(codebook[pairs[:, 0]] - codebook[pairs[:, 1]], axis=1)
    total = np.bincount(pairs.ravel(), np.repeat(gaps, 2), minlength=grid.n_nodes)
    count = np.bincount(pairs.ravel(), minlength=grid.n_nodes)
    return (total / np.maximum(count, 1)).reshape(grid.rows, grid.columns)


def check_map_fits(params: SomParams, n_samples: int, source: str = "the data") -> None:
    """A clear error if the map has more nodes than there are samples."""
    if params.n_nodes > n_samples:
        raise ValueError(f"{source}: a SOM of {params.rows} × {params.columns} = "
                         f"{params.n_nodes} nodes is larger than its {n_samples} tiles; make "
                         f"som.rows × som.columns at most {n_samples} (a few tiles per node)")


def train_som(data: Any, params: SomParams, initial: np.ndarray | None = None, *,
              progress: bool = True) -> SomResult:
    """Train a map on (n, d) ``data`` (NumPy or Zarr) with the configured backend.

    Parameters
    ----------
    data : samples, one per row
    params : map, schedule and backend
    initial : (nodes, d) starting codebook in the full feature space; default
        :func:`initial_codebook`

    Raises
    ------
    ValueError
        if the map has more nodes than there are samples, or ``initial`` has
        the wrong shape
    """
    n, d = data.shape
    check_map_fits(params, n)
    initial = initial_codebook(data, params) if initial is None else np.asarray(initial)
    if initial.size != params.n_nodes * d:
        raise ValueError(f"initial codebook of shape {initial.shape} does not fit a map of "
                         f"{params.n_nodes} nodes × {d} features")
    initial = initial.astype(np.float32).reshape(params.n_nodes, d)
    projection = None
    train_data, start = data, initial
    if 0 < params.pca_components < d:
        projection = fit_projection(data, params)
        train_data = projection.project(data)
        start = ((initial.astype(np.float64) - projection.mean) @ projection.axes.T).astype(
            np.float32)
        log.info("training on %d principal components (%.1f %% of the variance)",
                 len(projection.axes), 100 * projection.explained)
    device = pick_device(params.device) if params.backend == "torch" else torch.device("cpu")
    grid = params.grid()
    samples = SampleChunks(train_data, device,
                           chunk_rows_for(params.n_nodes, params.chunk_mb, train_data.shape[1]))
    codebook = torch.as_tensor(start, device=device)
    radii = params.radii()
    qe, te, seconds = [], [], []
    bar = tqdm(radii, desc=f"SOM ({params.backend}, {params.rows}×{params.columns})",
               unit="epoch", disable=not progress)
    if params.backend == "somoclu":
        host = np.ascontiguousarray(np.asarray(train_data, np.float32))
        first = sample_pass(samples, codebook, grid, accumulate=False)
        qe.append(first.quantisation_error)
        te.append(first.topographic_error)
    for radius in bar:
        tic = time.perf_counter()
        if params.backend == "torch":
            result = sample_pass(samples, codebook, grid, accumulate=True)
            qe.append(result.quantisation_error)
            te.append(result.topographic_error)
            codebook = batch_update(codebook, result.sums, result.counts, grid, float(radius),
                                    params.std_coeff, params.compact_support)
        else:
            codebook = torch.as_tensor(somoclu_epoch(host, codebook.cpu().numpy(), radius, params))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - tic)
        if params.backend == "somoclu":
            result = sample_pass(samples, codebook, grid, accumulate=False)
            qe.append(result.quantisation_error)
            te.append(result.topographic_error)
        bar.set_postfix(radius=f"{radius:.2f}", qe=f"{qe[-1]:.4g}")
    if params.backend == "torch":
        result = sample_pass(samples, codebook, grid, accumulate=False)
        qe.append(result.quantisation_error)
        te.append(result.topographic_error)
    full_codebook = codebook.cpu().numpy()
    full_distance = result.bmu_distance
    if projection is not None:
        full_codebook, full_distance = lift_codebook(data, result.bmu, full_codebook, projection,
                                                     grid, float(radii[-1]), params)
    return SomResult(
        params=params, codebook=full_codebook.reshape(params.rows, params.columns, d),
        bmu=result.bmu, bmu_distance=full_distance,
        quantisation_error=np.array(qe), topographic_error=np.array(te), radius=radii,
        epoch_seconds=np.array(seconds), umatrix=umatrix(full_codebook, grid),
        space=f"pca{len(projection.axes)}" if projection is not None else "full",
        quantisation_error_full=float(np.mean(full_distance)) if len(full_distance) else np.nan,
        extra={"explained_variance": projection.explained} if projection is not None else {},
    )


def lift_codebook(data: Any, bmu: np.ndarray, projected_codebook: np.ndarray,
                  projection: Projection, grid: MapGrid, radius: float,
                  params: SomParams, chunk_rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The full-space codebook of a map trained on principal components.

    One batch update in the full space with the trained BMUs and the last
    radius: what the last epoch would have given without the projection.
    Nodes that no sample reaches take their back-projected vector.

    Returns
    -------
    codebook : (nodes, d) in the full feature space
    distance : (n,) distance of each sample to its BMU's full-space vector
    """
    n, d = data.shape
    sums = torch.zeros((grid.n_nodes, d), dtype=torch.float64)
    for start in range(0, n, chunk_rows):
        block = torch.as_tensor(np.asarray(data[start:start + chunk_rows], np.float64))
        sums.index_add_(0, torch.as_tensor(bmu[start:start + chunk_rows]), block)
    counts = torch.as_tensor(np.bincount(bmu, minlength=grid.n_nodes), dtype=torch.float64)
    back = projection.mean + projected_codebook.astype(np.float64) @ projection.axes
    codebook = batch_update(torch.as_tensor(back), sums, counts, grid, radius,
                            params.std_coeff, params.compact_support).numpy().astype(np.float32)
    distance = np.empty(n, np.float32)
    for start in range(0, n, chunk_rows):
        block = np.asarray(data[start:start + chunk_rows], np.float32)
        distance[start:start + len(block)] = np.linalg.norm(
            block - codebook[bmu[start:start + len(block)]], axis=1)
    return codebook, distance


@dataclass(frozen=True)
class FeatureSpace:
    """Which vectors of the DCT store the map organises (see :func:`normalise.feature_vectors`)."""

    transform: str = "log_magnitude"
    floor_m: float = 0.1

    @classmethod
    def of_som(cls, som: Any) -> FeatureSpace:
        """The feature space a map (an open ``som.zarr`` group) was trained in."""
        return cls(str(som.attrs["feature_transform"]), float(som.attrs["magnitude_floor_m"]))

    def vectors(self, coefficients: np.ndarray) -> np.ndarray:
        return feature_vectors(coefficients, self.transform, self.floor_m)


class FeatureView:
    """The vectors of a DCT store in a map's feature space, read and transformed a block
    at a time: an array that NumPy-slices (by a slice or sorted rows) like the store,
    so that passes over every tile stream instead of holding them all (212,534 tiles
    of 5,041 features are 4.3 GB)."""

    def __init__(self, features_store: str | Path, space: FeatureSpace) -> None:
        self.coefficients = open_group(features_store)["features"]
        self.space = space
        self.shape: tuple[int, int] = tuple(self.coefficients.shape)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice | np.ndarray) -> np.ndarray:
        if isinstance(rows, slice):
            block = self.coefficients[rows]
        else:
            block = self.coefficients.get_orthogonal_selection((np.asarray(rows), slice(None)))
        return np.asarray(self.space.vectors(block), np.float32)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """Every tile at once (somoclu's kernel takes the whole matrix), filled a block
        at a time."""
        whole = np.empty(self.shape, np.float32)
        for start in range(0, self.shape[0], 8192):
            block = self[start:start + 8192]
            whole[start:start + len(block)] = block
        return whole if dtype is None else whole.astype(dtype)


def som_features(features_store: str | Path, space: FeatureSpace,
                 rows: np.ndarray | None = None) -> np.ndarray:
    """The vectors of ``features_store`` in the map's feature space (all tiles, or ``rows``)."""
    view = FeatureView(features_store, space)
    return view[np.asarray(rows)] if rows is not None else np.asarray(view)


def fit_som_store(features_store: str | Path, out_store: str | Path, params: SomParams,
                  space: FeatureSpace | None = None, *, progress: bool = True) -> SomResult:
    """Train a map on the tile features and write ``results/som/som.zarr``.

    The store holds ``codebook[row, column, feature]`` (full feature space),
    ``bmu[tile]`` (node index ``row · columns + column``), ``bmu_distance``,
    ``umatrix[row, column]``, ``node_x``/``node_y`` (node centres on the map),
    per-epoch ``quantisation_error``/``topographic_error`` (entry ``e``: after
    ``e`` epochs) and ``radius``, ``epoch_seconds``, and the tiles' ``hash``
    and ``split``.

    Raises
    ------
    ValueError
        naming the store, if the map has more nodes than there are tiles
    """
    space = space or FeatureSpace()
    store = open_group(features_store)
    n_tiles = store["features"].shape[0]
    check_map_fits(params, n_tiles, str(features_store))  # before reading the features
    # the CPU streams the tiles from the store in every pass, unless they fit in one
    # chunk anyway; a GPU takes them all at once
    on_gpu = params.backend == "torch" and pick_device(params.device).type == "cuda"
    n_features = store["features"].shape[1]
    one_chunk = n_tiles <= chunk_rows_for(params.n_nodes, params.chunk_mb, n_features)
    data = (som_features(features_store, space) if on_gpu or one_chunk
            else FeatureView(features_store, space))
    result = train_som(data, params, progress=progress)
    grid = params.grid()
    pos = grid.positions()
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {
            "rows": params.rows, "columns": params.columns, "maptype": params.maptype,
            "gridtype": params.gridtype, "backend": params.backend, "space": result.space,
            "feature_transform": space.transform, "magnitude_floor_m": space.floor_m,
            "params": asdict(params), "summary": result.summary(), **result.extra,
            "features": str(features_store),
        })
        d = result.codebook.shape[2]
        codebook = create_array(group, "codebook", result.codebook.shape, np.float32,
                                ("row", "column", "feature"),
                                (params.rows, params.columns, min(d, 512)))
        codebook[:] = result.codebook
        write_array(group, "bmu", result.bmu.astype(np.int32), ("tile",), chunk_rows=65536)
        write_array(group, "bmu_distance", result.bmu_distance, ("tile",), chunk_rows=65536)
        umat = create_array(group, "umatrix", result.umatrix.shape, np.float32,
                            ("row", "column"), result.umatrix.shape)
        umat[:] = result.umatrix
        write_array(group, "node_x", pos[:, 0].astype(np.float32), ("node",))
        write_array(group, "node_y", pos[:, 1].astype(np.float32), ("node",))
        for name, values in (("quantisation_error", result.quantisation_error),
                             ("topographic_error", result.topographic_error)):
            write_array(group, name, values.astype(np.float32), ("epoch_end",))
        write_array(group, "radius", result.radius.astype(np.float32), ("epoch",))
        write_array(group, "epoch_seconds", result.epoch_seconds.astype(np.float32), ("epoch",))
        for name in ("hash", "split"):
            write_array(group, name, store[name][:], ("tile",), chunk_rows=65536, dtype=str)
    log.info("SOM %d × %d (%s) on %d tiles: %s", params.rows, params.columns, params.backend,
             n_tiles, result.summary())
    return result


def som_settings(section: dict[str, Any]) -> tuple[SomParams, FeatureSpace]:
    """Map parameters and feature space from the config's ``som`` section."""
    values = dict(section)
    features = dict(values.pop("features", {}) or {})
    return (settings_from(SomParams, values, "som"),
            settings_from(FeatureSpace, features, "som.features"))
