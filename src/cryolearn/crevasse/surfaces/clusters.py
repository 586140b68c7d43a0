"""OPTICS clusters of the SOM codebook and the montages a person labels them from.

A person cannot label 200,000 tiles, but can label a few hundred clusters. The
original work clustered the SOM's codebook vectors with OPTICS (Ankerst et
al., 1999): nodes in dense regions of the feature space form clusters, nodes
between them are noise. A tile takes the cluster of its best-matching unit.
Montages of each cluster's most central tiles are what a person labels
(``cryolearn label``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import OPTICS

from cryolearn.crevasse.surfaces.montages import write_montages
from cryolearn.crevasse.surfaces.som import FeatureSpace, FeatureView
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

NOISE = -1


@dataclass(frozen=True)
class OpticsParams:
    """OPTICS settings (scikit-learn's names) and the size of the montages.

    ``max_eps = 0`` means no limit.
    """

    min_samples: int = 8
    xi: float = 0.01
    min_cluster_size: int = 4
    max_eps: float = 0.0
    montage_tiles: int = 16


@dataclass
class NodeClusters:
    """OPTICS result on the codebook: a label per node (``-1``: noise) and the reachability plot."""

    labels: np.ndarray
    ordering: np.ndarray
    reachability: np.ndarray
    core_distance: np.ndarray

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0


def cluster_codebook(codebook: np.ndarray, params: OpticsParams) -> NodeClusters:
    """OPTICS on (nodes, d) codebook vectors.

    If OPTICS finds no cluster, every node is noise and a warning says so;
    ``min_samples`` and ``min_cluster_size`` are capped at the number of nodes.
    """
    n = len(codebook)
    if n < 2:
        raise ValueError(f"OPTICS needs at least 2 codebook vectors, got {n}")
    min_samples = min(params.min_samples, n)
    if min_samples < params.min_samples:
        log.warning("clusters.min_samples %d exceeds the %d nodes; using %d",
                    params.min_samples, n, min_samples)
    optics = OPTICS(min_samples=min_samples, xi=params.xi,
                    min_cluster_size=min(params.min_cluster_size, n),
                    max_eps=params.max_eps if params.max_eps > 0 else np.inf,
                    cluster_method="xi")
    with warnings.catch_warnings():
        # reported below in our own words, with what to change
        warnings.filterwarnings("ignore", message="All reachability values are inf")
        optics.fit(np.asarray(codebook, np.float64))
    labels = optics.labels_.astype(np.int32)
    if labels.max(initial=NOISE) < 0:
        log.warning("OPTICS found no cluster among %d nodes (min_samples %d, xi %g): every node "
                    "and tile is labelled noise (-1); a smaller clusters.xi or min_samples, or "
                    "a larger map, may separate clusters", n, min_samples, params.xi)
    return NodeClusters(labels, optics.ordering_.astype(np.int32),
                        optics.reachability_.astype(np.float32),
                        optics.core_distances_.astype(np.float32))


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
                      montage_dir: str | Path, params: OpticsParams) -> NodeClusters:
    """Cluster the map's codebook and write ``results/clusters/clusters.zarr`` and montages.

    The store holds ``node_label[node]``, ``tile_label[tile]``, the OPTICS
    ``ordering``, ``reachability`` and ``core_distance`` per node,
    ``central_tile[cluster, k]`` (library rows of the montage, -1 pads) and the
    tiles' ``hash`` and ``split``. Montages go to
    ``montage_dir/cluster_NNNN.png``, one per cluster.
    """
    som = open_group(som_store)
    rows, columns = int(som.attrs["rows"]), int(som.attrs["columns"])
    codebook = som["codebook"][:].reshape(rows * columns, -1)
    bmu = som["bmu"][:]
    nodes = cluster_codebook(codebook, params)
    tile_labels = nodes.labels[bmu] if len(bmu) else np.zeros(0, np.int32)
    features = FeatureView(features_store, FeatureSpace.of_som(som))
    central = central_tiles(features, tile_labels, nodes.n_clusters, params.montage_tiles)
    noise_tiles = float((tile_labels < 0).mean()) if len(tile_labels) else 0.0
    attrs = {"n_clusters": nodes.n_clusters, "rows": rows, "columns": columns,
             "noise_node_share": float((nodes.labels < 0).mean()),
             "noise_tile_share": noise_tiles, "optics": asdict(params), "som": str(som_store)}
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
