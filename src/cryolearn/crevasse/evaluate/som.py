"""The SOM and its clusters against the tiles' true surface classes (``results/eval/som.json``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from cryolearn.crevasse.surfaces.som import FeatureSpace, som_features
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.settings import settings_from
from cryolearn.synth.truth import class_fractions_for_hashes, dominant_class

log = logging.getLogger(__name__)


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


def som_evaluation_settings(section: dict[str, Any] | None) -> SomEvaluation:
    """Settings of the SOM evaluation from the config's ``clusters.evaluation`` section."""
    return settings_from(SomEvaluation, dict(section or {}), "clusters.evaluation")
