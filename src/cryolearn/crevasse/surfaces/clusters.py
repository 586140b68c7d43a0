"""OPTICS clusters of the SOM codebook and the montages a person labels them from.

A person cannot label 200,000 tiles, but can label a few hundred clusters. The
original work clustered the SOM's codebook vectors with OPTICS (Ankerst et
al., 1999): nodes in dense regions of the feature space form clusters, nodes
between them are noise. A tile takes the cluster of its best-matching unit.
Montages of each cluster's most central tiles are what a person labels
(``cryolearn label``).

OPTICS runs on a table of distances computed once: each node's nearest nodes, as
many as ``clusters.graph_memory_mb`` holds, searched in blocks of rows by
scikit-learn's brute-force search (matrix products) and handed to scikit-learn's
OPTICS as a precomputed sparse graph. On the features themselves OPTICS computes
one node's distances to all others at every step, a pass over the codebook per
node: about 19 hours for the original's 60,000 nodes on 2 cores, against 7
minutes on the table
(``bench/optics.py``). One table also makes OPTICS' ties exact: the reachability
of a node's ``min_samples``-th neighbour equals its core distance bit for bit, where
two separate distance computations disagree in the last bits and break such ties
either way.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.cluster import OPTICS
from sklearn.neighbors import NearestNeighbors
from tqdm import tqdm

from cryolearn.crevasse.surfaces.montages import write_montages
from cryolearn.crevasse.surfaces.som import FeatureSpace, FeatureView
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

NOISE = -1


@dataclass(frozen=True)
class OpticsParams:
    """OPTICS settings (scikit-learn's names) and the size of the montages.

    ``max_eps = 0`` means no limit. ``graph_memory_mb`` bounds the table of each
    node's nearest neighbours OPTICS runs on (12 bytes a neighbour); where it cannot
    hold every pair, :attr:`NodeClusters.exact` says whether the missing pairs could
    have changed the result.
    """

    min_samples: int = 8
    xi: float = 0.01
    min_cluster_size: int = 4
    max_eps: float = 0.0
    graph_memory_mb: int = 1024
    montage_tiles: int = 16


@dataclass
class NodeClusters:
    """OPTICS result on the codebook: a label per node (``-1``: noise) and the reachability plot."""

    labels: np.ndarray
    ordering: np.ndarray
    reachability: np.ndarray
    core_distance: np.ndarray
    #: nearest neighbours a node in the graph OPTICS ran on
    neighbours: int = 0
    #: the result is OPTICS' on all pairs (:func:`graph_was_enough`)
    exact: bool = True

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0


def graph_neighbours(n_nodes: int, min_samples: int, memory_mb: float) -> int:
    """Neighbours kept per node: as many as ``memory_mb`` holds at 12 bytes each
    (float64 distance, int32 index), at least ``min_samples``, at most every node."""
    fits = int(memory_mb * 2**20 // (12 * n_nodes))
    return int(min(n_nodes, max(min_samples, fits)))


def neighbour_graph(codebook: np.ndarray, n_neighbors: int, block_rows: int = 4096,
                    progress: bool = False) -> sparse.csr_matrix:
    """Each node's ``n_neighbors`` nearest nodes (itself among them) and their Euclidean
    distances, as a sparse distance graph whose rows are sorted by distance.

    scikit-learn's brute-force search finds them ``block_rows`` query nodes at a time,
    so memory holds the graph and one block's search.
    """
    n = len(codebook)
    search = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute").fit(codebook)
    distance = np.empty((n, n_neighbors), np.float64)
    index = np.empty((n, n_neighbors), np.int32)
    for start in tqdm(range(0, n, block_rows), desc="neighbours", unit="block",
                      disable=not progress):
        rows = slice(start, min(n, start + block_rows))
        distance[rows], index[rows] = search.kneighbors(codebook[rows])
    # int32 pointers where they fit: with int64 ones scipy widens the indices too
    pointer = np.int32 if n * n_neighbors < np.iinfo(np.int32).max else np.int64
    indptr = np.arange(n + 1, dtype=pointer) * n_neighbors
    return sparse.csr_matrix((distance.ravel(), index.ravel(), indptr), shape=(n, n))


def cluster_codebook(codebook: np.ndarray, params: OpticsParams,
                     progress: bool = False) -> NodeClusters:
    """OPTICS on (nodes, d) codebook vectors, over their :func:`neighbour_graph`.

    If the graph holds every node's every neighbour, the result is OPTICS' on the
    vectors with ``max_eps``. Otherwise each node's row is complete up to the distance
    of its last neighbour, and OPTICS, which reads the row of each node it processes,
    can miss only pairs beyond it; :func:`graph_was_enough` checks that no such pair
    could have changed a step, and :attr:`NodeClusters.exact` records the answer. If
    OPTICS finds no cluster, every node is noise and a warning says so;
    ``min_samples`` and ``min_cluster_size`` are capped at the number of nodes.
    """
    n = len(codebook)
    if n < 2:
        raise ValueError(f"OPTICS needs at least 2 codebook vectors, got {n}")
    min_samples = min(params.min_samples, n)
    if min_samples < params.min_samples:
        log.warning("clusters.min_samples %d exceeds the %d nodes; using %d",
                    params.min_samples, n, min_samples)
    k = graph_neighbours(n, min_samples, params.graph_memory_mb)
    graph = neighbour_graph(np.asarray(codebook, np.float64), k, progress=progress)
    max_eps = params.max_eps if params.max_eps > 0 else np.inf
    optics = OPTICS(min_samples=min_samples, xi=params.xi, metric="precomputed",
                    min_cluster_size=min(params.min_cluster_size, n), max_eps=max_eps,
                    cluster_method="xi")
    with warnings.catch_warnings():
        # reported below in our own words, with what to change
        warnings.filterwarnings("ignore", message="All reachability values are inf")
        optics.fit(graph)
    # a row holds every node nearer than its last neighbour, and all within max_eps
    # when that lies beyond it
    complete_to = np.full(n, np.inf) if k == n else graph.data[k - 1::k]
    complete_to = np.where(complete_to < max_eps, complete_to, np.inf)
    exact = graph_was_enough(optics.ordering_, optics.reachability_, complete_to)
    if not exact:
        log.warning("OPTICS over %d nodes ran on a graph of their %d nearest neighbours, "
                    "and a pair of nodes beyond it may have changed its order and clusters: "
                    "a larger clusters.graph_memory_mb keeps more neighbours", n, k)
    labels = optics.labels_.astype(np.int32)
    if labels.max(initial=NOISE) < 0:
        log.warning("OPTICS found no cluster among %d nodes (min_samples %d, xi %g): every node "
                    "and tile is labelled noise (-1); a smaller clusters.xi or min_samples, or "
                    "a larger map, may separate clusters", n, min_samples, params.xi)
    return NodeClusters(labels, optics.ordering_.astype(np.int32),
                        optics.reachability_.astype(np.float32),
                        optics.core_distances_.astype(np.float32), neighbours=k,
                        exact=exact)


def graph_was_enough(ordering: np.ndarray, reachability: np.ndarray,
                     complete_to: np.ndarray) -> bool:
    """Whether OPTICS on a graph of nearest neighbours took the steps it takes on all pairs.

    At each step OPTICS moves to the unprocessed node of least reachability: the least,
    over processed nodes p, of max(core distance of p, distance from p). A pair missing
    from p's row is at least ``complete_to[p]`` apart, so the step is the same on all
    pairs if the node it chose is reachable below every processed node's
    ``complete_to`` (or, where it found none, if every processed row was complete).

    Parameters
    ----------
    ordering, reachability : OPTICS' ``ordering_`` and ``reachability_``
    complete_to : (nodes,) the distance below which each node's row holds every node
        (inf: all of them)
    """
    bound = np.minimum.accumulate(complete_to[ordering])[:-1]
    step = reachability[ordering[1:]]
    return bool(np.all((step < bound) | (np.isinf(step) & np.isinf(bound))))


def central_tiles(features: Any, tile_labels: np.ndarray, n_clusters: int,
                  per_cluster: int, block_rows: int = 8192) -> np.ndarray:
    """(clusters, per_cluster) tiles nearest to each cluster's mean feature vector; -1 pads.

    ``features`` is (tiles, d) and slices by rows (an array, or a
    :class:`~cryolearn.crevasse.surfaces.som.FeatureView` that reads the store): two
    passes of ``block_rows`` tiles, the clusters' sums and then each cluster's nearest
    tiles so far, so memory does not grow with the library. Ties go to the lower row.
    """
    n_features = features.shape[1]
    sums = np.zeros((n_clusters, n_features))
    counts = np.bincount(tile_labels[tile_labels >= 0], minlength=n_clusters)
    for _, block, labels in _label_blocks(features, tile_labels, block_rows):
        for label in np.unique(labels[labels >= 0]):
            sums[label] += block[labels == label].sum(axis=0, dtype=np.float64)
    centres = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
    best_distance = [np.zeros(0, np.float32) for _ in range(n_clusters)]
    best_row = [np.zeros(0, np.int64) for _ in range(n_clusters)]
    for start, block, labels in _label_blocks(features, tile_labels, block_rows):
        for label in np.unique(labels[labels >= 0]):
            rows = np.flatnonzero(labels == label)
            distance = np.concatenate([best_distance[label],
                                       np.linalg.norm(block[rows] - centres[label], axis=1)])
            row = np.concatenate([best_row[label], rows + start])
            keep = np.lexsort((row, distance))[:per_cluster]
            best_distance[label], best_row[label] = distance[keep], row[keep]
    out = np.full((n_clusters, per_cluster), -1, np.int64)
    for label, rows in enumerate(best_row):
        out[label, :len(rows)] = rows
    return out


def _label_blocks(features: Any, tile_labels: np.ndarray, block_rows: int
                  ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first row, features, labels) of successive blocks of tiles."""
    for start in range(0, features.shape[0], block_rows):
        block = np.asarray(features[start:start + block_rows], np.float32)
        yield start, block, tile_labels[start:start + len(block)]


def cluster_som_store(som_store: str | Path, features_store: str | Path,
                      library_store: str | Path, out_store: str | Path,
                      montage_dir: str | Path, params: OpticsParams,
                      progress: bool = False) -> NodeClusters:
    """Cluster the map's codebook and write ``results/clusters/clusters.zarr`` and montages.

    The store holds ``node_label[node]``, ``tile_label[tile]``, the OPTICS
    ``ordering``, ``reachability`` and ``core_distance`` per node,
    ``central_tile[cluster, k]`` (library rows of the montage, -1 pads) and the
    tiles' ``hash`` and ``split``; its attributes say how many neighbours a node the
    graph OPTICS ran on held (``optics_neighbours``) and whether the result is OPTICS'
    on all pairs (``optics_exact``). Montages go to
    ``montage_dir/cluster_NNNN.png``, one per cluster. ``progress`` shows the
    neighbour search's progress.
    """
    som = open_group(som_store)
    rows, columns = int(som.attrs["rows"]), int(som.attrs["columns"])
    codebook = som["codebook"][:].reshape(rows * columns, -1)
    bmu = som["bmu"][:]
    nodes = cluster_codebook(codebook, params, progress=progress)
    tile_labels = nodes.labels[bmu] if len(bmu) else np.zeros(0, np.int32)
    features = FeatureView(features_store, FeatureSpace.of_som(som))
    central = central_tiles(features, tile_labels, nodes.n_clusters, params.montage_tiles)
    noise_tiles = float((tile_labels < 0).mean()) if len(tile_labels) else 0.0
    attrs = {"n_clusters": nodes.n_clusters, "rows": rows, "columns": columns,
             "noise_node_share": float((nodes.labels < 0).mean()),
             "noise_tile_share": noise_tiles, "optics": asdict(params), "som": str(som_store),
             "optics_neighbours": nodes.neighbours, "optics_exact": nodes.exact}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        write_array(group, "node_label", nodes.labels, ("node",))
        write_array(group, "tile_label", tile_labels.astype(np.int32), ("tile",),
                    chunk_rows=65536)
        write_array(group, "ordering", nodes.ordering, ("position",))
        write_array(group, "reachability", nodes.reachability, ("node",))
        write_array(group, "core_distance", nodes.core_distance, ("node",))
        write_array(group, "central_tile", central.astype(np.int32), ("cluster", "rank"))
        for name in ("hash", "split"):
            write_array(group, name, som[name][:], ("tile",), chunk_rows=65536, dtype=str)
    write_montages(library_store, central, tile_labels, nodes.labels, montage_dir)
    log.info("OPTICS: %d clusters; %.0f %% of nodes and %.0f %% of tiles are noise",
             nodes.n_clusters, 100 * attrs["noise_node_share"], 100 * noise_tiles)
    return nodes


def cluster_settings(section: dict[str, Any]) -> OpticsParams:
    """OPTICS parameters from the config's ``clusters`` section.

    Its ``evaluation`` subsection belongs to the scoring against synthetic truth
    (:func:`cryolearn.crevasse.evaluate.som.som_evaluation_settings`).
    """
    values = {key: value for key, value in section.items() if key != "evaluation"}
    return settings_from(OpticsParams, values, "clusters")
