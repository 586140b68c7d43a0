"""Crevasse probability of every laser shot from the labelled clusters of its matched tiles.

A shot matched to k library tiles gets, as its crevasse probability, the share
of those tiles whose cluster is labelled ``crevasse`` (say 17 of 30), among the
tiles whose cluster carries a label at all. Tiles of noise nodes and of
unlabelled clusters are unknown: they are counted and reported, not guessed.
With ``weighting: inverse_distance`` each tile counts 1 / max(d, floor), so
the closest waveforms weigh most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cryolearn.crevasse.surfaces.labels import CREVASSE, Clustering, read_labels
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

WEIGHTINGS = ("none", "inverse_distance")
UNKNOWN = -1  #: class index of a tile in noise or in an unlabelled cluster
NO_NEIGHBOUR = -1  #: library row meaning "no neighbour" in a matches store


@dataclass(frozen=True)
class ProbabilitySettings:
    """How tiles are weighed and how many labelled tiles a probability needs.

    Attributes
    ----------
    weighting : 'none' (every tile counts 1) or 'inverse_distance'
    distance_floor : distances below this count as this (inverse weighting only)
    min_known : fewest labelled tiles among a shot's matches for a probability
    """

    weighting: str = "none"
    distance_floor: float = 0.01
    min_known: int = 3

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"probability weighting {self.weighting!r}: one of {WEIGHTINGS}")
        if self.distance_floor <= 0:
            raise ValueError("probability distance_floor must be positive")
        if self.min_known < 1:
            raise ValueError("probability min_known must be at least 1")


@dataclass
class ShotProbabilities:
    """Per shot: probability, share of each class among labelled tiles, and the counts."""

    probability: np.ndarray  #: (n,) float32, NaN where no probability
    class_share: np.ndarray  #: (n, n_classes) float32, NaN where no labelled tile
    n_neighbours: np.ndarray  #: (n,) matched tiles
    n_known: np.ndarray  #: (n,) matched tiles in labelled clusters
    n_unknown: np.ndarray  #: (n,) matched tiles in noise or unlabelled clusters


def neighbour_weights(distance: np.ndarray, settings: ProbabilitySettings) -> np.ndarray:
    """Weight of every (shot, neighbour) pair."""
    if settings.weighting == "none":
        return np.ones(distance.shape)
    return 1.0 / np.maximum(np.asarray(distance, dtype=np.float64), settings.distance_floor)


def shot_probabilities(neighbour: np.ndarray, distance: np.ndarray, tile_class: np.ndarray,
                       n_classes: int, crevasse_class: int,
                       settings: ProbabilitySettings) -> ShotProbabilities:
    """Crevasse probability of each shot from its matched tiles' cluster classes.

    Parameters
    ----------
    neighbour : (n, k) library rows of each shot's matches; -1 for none
    distance : (n, k) match distances
    tile_class : (n_library,) class index of each library tile; -1 unknown
    n_classes : number of classes
    crevasse_class : index of ``crevasse`` among the classes
    settings : weighting and ``min_known``

    Returns
    -------
    ShotProbabilities
    """
    neighbour = np.asarray(neighbour)
    n, k = neighbour.shape if neighbour.ndim == 2 else (0, 0)
    valid = neighbour != NO_NEIGHBOUR
    classes = np.where(valid, np.asarray(tile_class)[np.where(valid, neighbour, 0)], UNKNOWN)
    known = valid & (classes >= 0)
    weights = np.where(known, neighbour_weights(distance, settings), 0.0)
    rows = np.repeat(np.arange(n), k)
    flat = rows * n_classes + np.where(known, classes, 0).ravel()
    class_weight = np.bincount(flat, weights.ravel(), n * n_classes).reshape(n, n_classes)
    total = class_weight.sum(axis=1)
    n_known = known.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = class_weight / total[:, None]
    share[n_known == 0] = np.nan
    probability = np.where(n_known >= settings.min_known, share[:, crevasse_class], np.nan)
    return ShotProbabilities(
        probability=probability.astype(np.float32), class_share=share.astype(np.float32),
        n_neighbours=valid.sum(axis=1).astype(np.int16), n_known=n_known.astype(np.int16),
        n_unknown=(valid & ~known).sum(axis=1).astype(np.int16))


def tile_classes(clustering: Clustering, labels_path: str | Path
                 ) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Class index of every library tile through its cluster's label; -1 for unknown.

    Returns
    -------
    tile_class : (n_tiles,) int32
    classes : class names of the labels file
    provenance : labels file, fingerprint, labelled and noise shares
    """
    labels = read_labels(labels_path, clustering)
    if not labels.labels:
        log.warning("%s labels no cluster: every shot's tiles are unknown", labels_path)
    cluster_class = labels.label_of_cluster(clustering.n_clusters)
    tile_label = clustering.tile_label
    tile_class = np.where(tile_label >= 0, cluster_class[np.maximum(tile_label, 0)], UNKNOWN)
    provenance = {
        "labels": str(labels_path), "fingerprint": clustering.fingerprint,
        "labelled_clusters": len(labels.labels), "n_clusters": clustering.n_clusters,
        "noise_tile_share": float((tile_label < 0).mean()) if len(tile_label) else 0.0,
        "unknown_tile_share": float((tile_class < 0).mean()) if len(tile_class) else 0.0,
    }
    return tile_class.astype(np.int32), labels.classes, provenance


def check_same_tiles(clustering: Clustering, library_store: str | Path) -> None:
    """Refuse a clustering whose tiles are not the library's, row for row."""
    library_hash = open_group(library_store)["hash"][:]
    if len(clustering.hash) != len(library_hash) or np.any(clustering.hash != library_hash):
        raise ValueError(f"{clustering.path}: its tiles are not those of {library_store} "
                         "(rows or hashes differ); rebuild the clusters from this library")


def probability_store(matches_store: str | Path, clusters_store: str | Path,
                      library_store: str | Path, labels_path: str | Path,
                      out_store: str | Path, settings: ProbabilitySettings) -> dict[str, Any]:
    """Write ``results/crevasse/{campaign}.zarr`` from a campaign's matches.

    The store holds, per shot, ``probability`` (NaN where none), ``class_share``
    [shot, class], ``n_neighbours``, ``n_known``, ``n_unknown`` and the shot's
    ``x``, ``y``, ``lat``, ``lon``, ``time``, ``rec_ndx``, ``shot_count``.

    Returns
    -------
    The counts also stored as attributes.
    """
    clustering = Clustering.of_store(clusters_store)
    check_same_tiles(clustering, library_store)
    tile_class, classes, provenance = tile_classes(clustering, labels_path)
    matches = open_group(matches_store)
    neighbour = matches["neighbour"][:]
    if neighbour.size and neighbour.max() >= len(tile_class):
        raise ValueError(f"{matches_store}: neighbours beyond the {len(tile_class)} library "
                         f"tiles of {clusters_store}; match again against this library")
    result = shot_probabilities(neighbour, matches["distance"][:], tile_class, len(classes),
                                classes.index(CREVASSE), settings)
    matched = matches["matched"][:]
    result.probability[~matched] = np.nan
    counts = _counts(result, matched, settings)
    attrs = {"campaign": matches.attrs.get("campaign", ""), "classes": classes,
             "weighting": settings.weighting, "distance_floor": settings.distance_floor,
             "min_known": settings.min_known, "matches": str(matches_store),
             **provenance, **counts}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        write_array(group, "probability", result.probability, ("shot",),
                    {"meaning": "share of labelled matched tiles in crevasse clusters"})
        write_array(group, "class_share", result.class_share, ("shot", "class"),
                    {"classes": classes})
        for name in ("n_neighbours", "n_known", "n_unknown"):
            write_array(group, name, getattr(result, name), ("shot",))
        for name in ("x", "y", "lat", "lon", "time", "rec_ndx", "shot_count"):
            write_array(group, name, matches[name][:], ("shot",),
                        dict(matches[name].attrs))
    log.info("%s: %d of %d shots have a probability; %.0f %% of matched tiles unknown",
             attrs["campaign"], counts["n_with_probability"], counts["n_shots"],
             100 * counts["unknown_neighbour_share"])
    return attrs


def _counts(result: ShotProbabilities, matched: np.ndarray,
            settings: ProbabilitySettings) -> dict[str, Any]:
    neighbours = int(result.n_neighbours[matched].sum())
    return {
        "n_shots": len(matched),
        "n_matched": int(matched.sum()),
        "n_with_probability": int(np.isfinite(result.probability).sum()),
        "n_too_few_known": int((matched & (result.n_known < settings.min_known)).sum()),
        "unknown_neighbour_share":
            float(result.n_unknown[matched].sum() / neighbours) if neighbours else 0.0,
    }


def probability_settings(section: dict[str, Any]) -> ProbabilitySettings:
    """:class:`ProbabilitySettings` from config ``probability``; an unknown key is refused."""
    return settings_from(ProbabilitySettings, section, "probability")
