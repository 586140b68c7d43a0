"""OPTICS clusters of the SOM codebook, montages for labelling, and their evaluation.

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import OPTICS
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from cryolearn.crevasse.montages import write_montages
from cryolearn.crevasse.som import FeatureSpace, som_features
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from
from cryolearn.synth.truth import class_fractions_for_hashes, dominant_class

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


def central_tiles(features: np.ndarray, tile_labels: np.ndarray, n_clusters: int,
                  per_cluster: int) -> np.ndarray:
    """(clusters, per_cluster) tiles nearest to each cluster's mean feature vector; -1 pads."""
    out = np.full((n_clusters, per_cluster), -1, np.int64)
    for label in range(n_clusters):
        members = np.flatnonzero(tile_labels == label)
        if not len(members):
            continue
        centre = features[members].mean(axis=0)
        distance = np.linalg.norm(features[members] - centre, axis=1)
        best = members[np.argsort(distance, kind="stable")[:per_cluster]]
        out[label, :len(best)] = best
    return out


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
    features = som_features(features_store, FeatureSpace.of_som(som))
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


def purity(classes: np.ndarray, labels: np.ndarray) -> float:
    """Share of clustered items that belong to their cluster's majority class (noise left out)."""
    clustered = labels >= 0
    if not clustered.any():
        return float("nan")
    hits = sum(int(np.bincount(classes[clustered & (labels == c)]).max())
               for c in np.unique(labels[clustered]))
    return hits / int(clustered.sum())


def nearest_others(vectors: np.ndarray, fetch: int) -> np.ndarray:
    """(n, ≤ fetch) nearest items of each item, nearest first, the item itself left out."""
    vectors = np.ascontiguousarray(vectors, np.float32)
    search = NearestNeighbors(n_neighbors=min(len(vectors), fetch + 1), algorithm="brute")
    ids = search.fit(vectors).kneighbors(vectors, return_distance=False)
    return [row[row != i] for i, row in enumerate(ids)]


def neighbour_agreement(neighbours: Sequence[np.ndarray], classes: np.ndarray, k: int = 4,
                        positions: np.ndarray | None = None, exclude_within_m: float = 0.0
                        ) -> tuple[float, np.ndarray]:
    """Share of each item's ``k`` nearest neighbours that share its class.

    ``neighbours`` come from :func:`nearest_others`. With ``positions`` and
    ``exclude_within_m > 0``, neighbours closer than that on the ground are
    skipped, so that agreement measures likeness of surface rather than
    adjacency (neighbouring tiles share slope and zone).

    Returns
    -------
    mean : mean agreement over items with at least one neighbour left
    per_item : agreement of each item (NaN where none was left)
    """
    per_item = np.full(len(neighbours), np.nan)
    for i, cand in enumerate(neighbours):
        if exclude_within_m > 0 and positions is not None and len(cand):
            cand = cand[np.hypot(*(positions[cand] - positions[i]).T) >= exclude_within_m]
        cand = cand[:k]
        if len(cand):
            per_item[i] = float((classes[cand] == classes[i]).mean())
    return float(np.nanmean(per_item)) if np.isfinite(per_item).any() else float("nan"), per_item


def raw_tile_vectors(library: Any, rows: np.ndarray) -> np.ndarray:
    """Library tiles as they are (mean height removed), flattened: the 'before' features."""
    tiles = np.asarray(library["elevation"].get_orthogonal_selection((rows,)), np.float32)
    flat = tiles.reshape(len(rows), -1)
    return flat - flat.mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class SomEvaluation:
    """Settings of the SOM evaluation against synthetic truth."""

    sample: int = 5000
    exclude_within_m: float = 500.0
    k: int = 4
    seed: int = 0


def evaluate_som(features_store: str | Path, som_store: str | Path,
                 clusters_store: str | Path, library_store: str | Path,
                 truth_stores: Sequence[str | Path], out_json: str | Path,
                 settings: SomEvaluation | None = None) -> dict[str, Any]:
    """Clusters and neighbours against the tiles' true surface classes (``results/eval/som.json``).

    * ``adjusted_rand_index`` (noise tiles as one more label) and
      ``adjusted_rand_index_clustered`` (noise left out), ``purity``;
    * ``neighbour_agreement_raw`` / ``_normalised``: the share of a tile's 4
      nearest neighbours with its class, on raw tiles and in the map's feature
      space, for up to ``sample`` tiles; ``neighbour_agreement_signed_dct``
      for the original's signed coefficients; ``..._far`` variants skip
      neighbours within ``exclude_within_m`` on the ground; ``chance`` is
      ``Σ f²`` over class shares.
    """
    settings = settings or SomEvaluation()
    som = open_group(som_store)
    clusters = open_group(clusters_store)
    library = open_group(library_store)
    hashes = som["hash"][:]
    fractions, names = class_fractions_for_hashes(truth_stores, hashes)
    classes = dominant_class(fractions)
    known = np.flatnonzero(classes >= 0)
    labels = clusters["tile_label"][:]
    share = np.bincount(classes[known], minlength=len(names)) / max(len(known), 1)
    result: dict[str, Any] = {
        "n_tiles": len(hashes), "n_tiles_with_truth": len(known),
        "n_clusters": int(clusters.attrs["n_clusters"]),
        "noise_tile_share": float((labels[known] < 0).mean()) if len(known) else float("nan"),
        "adjusted_rand_index": float(adjusted_rand_score(classes[known], labels[known])),
        "adjusted_rand_index_clustered": _ari_clustered(classes[known], labels[known]),
        "purity": purity(classes[known], labels[known]),
        "class_share": {name: float(s) for name, s in zip(names, share, strict=True)},
        "som": dict(som.attrs["summary"]),
    }
    rng = np.random.default_rng(settings.seed)
    rows = np.sort(rng.choice(known, size=min(settings.sample, len(known)), replace=False))
    positions = np.column_stack([library["x"][:], library["y"][:]])[rows]
    space = FeatureSpace.of_som(som)
    coefficients = som_features(features_store, FeatureSpace("signed"), rows)
    spaces = {
        "raw": raw_tile_vectors(library, rows),
        "normalised": space.vectors(coefficients),
        "signed_dct": coefficients,
    }
    sample_classes = classes[rows]
    per_class: dict[str, dict[str, float]] = {}
    for name, vectors in spaces.items():
        neighbours = nearest_others(vectors, max(8 * settings.k, 64))
        mean, per_item = neighbour_agreement(neighbours, sample_classes, settings.k)
        far, _ = neighbour_agreement(neighbours, sample_classes, settings.k, positions,
                                     settings.exclude_within_m)
        result[f"neighbour_agreement_{name}"] = mean
        result[f"neighbour_agreement_{name}_far"] = far
        per_class[name] = {names[c]: float(np.nanmean(per_item[sample_classes == c]))
                           for c in np.unique(sample_classes)}
    result["neighbour_agreement_per_class"] = per_class
    result["neighbour_chance"] = float((share ** 2).sum())
    result["neighbour_sample"] = len(rows)
    result["settings"] = asdict(settings)
    result["feature_transform"] = space.transform
    write_json_atomic(out_json, result)
    log.info("SOM evaluation: ARI %.3f, purity %.3f, neighbours raw %.3f → normalised %.3f",
             result["adjusted_rand_index"], result["purity"],
             result["neighbour_agreement_raw"], result["neighbour_agreement_normalised"])
    return result


def _ari_clustered(classes: np.ndarray, labels: np.ndarray) -> float:
    clustered = labels >= 0
    if clustered.sum() < 2:
        return float("nan")
    return float(adjusted_rand_score(classes[clustered], labels[clustered]))


def cluster_settings(section: dict[str, Any]) -> tuple[OpticsParams, SomEvaluation]:
    """OPTICS parameters and evaluation settings from the config's ``clusters`` section."""
    values = dict(section)
    evaluation = dict(values.pop("evaluation", {}) or {})
    return (settings_from(OpticsParams, values, "clusters"),
            settings_from(SomEvaluation, evaluation, "clusters.evaluation"))
