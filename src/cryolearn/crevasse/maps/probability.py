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

from cryolearn.crevasse.surfaces.labels import (
    CREVASSE,
    UNKNOWN,
    Clustering,
    check_same_tiles,
    tile_classes,
)
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)

WEIGHTINGS = ("none", "inverse_distance")
#: what a shot's published probability is: the classifier's, or the share of its matches
SOURCES = ("classifier", "matching")
NO_NEIGHBOUR = -1  #: library row meaning "no neighbour" in a matches store


@dataclass(frozen=True)
class ProbabilitySettings:
    """How tiles are weighed and how many labelled tiles a probability needs.

    Attributes
    ----------
    weighting : 'none' (every tile counts 1) or 'inverse_distance'
    distance_floor : distances below this count as this (inverse weighting only)
    min_known : fewest labelled tiles among a shot's matches for a probability
    source : ``classifier``: the published probability is the per-shot classifier's
        (:mod:`cryolearn.crevasse.classify`), the matches' share kept beside it as
        ``matching_probability``; ``matching``: the matches' share, as the original
    """

    weighting: str = "none"
    distance_floor: float = 0.01
    min_known: int = 3
    source: str = "classifier"

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"probability weighting {self.weighting!r}: one of {WEIGHTINGS}")
        if self.distance_floor <= 0:
            raise ValueError("probability distance_floor must be positive")
        if self.min_known < 1:
            raise ValueError("probability min_known must be at least 1")
        if self.source not in SOURCES:
            raise ValueError(f"probability source {self.source!r}: one of {SOURCES}")


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


def probability_store(matches_store: str | Path, clusters_store: str | Path,
                      library_store: str | Path, labels_path: str | Path,
                      out_store: str | Path, settings: ProbabilitySettings,
                      classified_store: str | Path | None = None) -> dict[str, Any]:
    """Write ``results/crevasse/{campaign}.zarr`` from a campaign's matches (and classifier).

    The store holds, per shot, ``probability`` (NaN where none: the classifier's with
    ``source: classifier``, else the matches'), ``matching_probability`` (the share of
    labelled matched tiles in crevasse clusters), ``class_share`` [shot, class],
    ``n_neighbours``, ``n_known``, ``n_unknown`` and the shot's ``x``, ``y``, ``lat``,
    ``lon``, ``time``, ``rec_ndx``, ``shot_count``.

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
    published, meaning = result.probability, MATCHING_MEANING
    if settings.source == "classifier":
        published, meaning = _classifier_probability(classified_store, matches), CLASSIFIER_MEANING
        counts["n_with_probability"] = int(np.isfinite(published).sum())
    attrs = {"campaign": matches.attrs.get("campaign", ""), "classes": classes,
             "source": settings.source, "weighting": settings.weighting,
             "distance_floor": settings.distance_floor, "min_known": settings.min_known,
             "matches": str(matches_store), "classified": str(classified_store or ""),
             **provenance, **counts}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        write_array(group, "probability", published, ("shot",), {"meaning": meaning})
        write_array(group, "matching_probability", result.probability, ("shot",),
                    {"meaning": MATCHING_MEANING})
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


MATCHING_MEANING = "share of labelled matched tiles in crevasse clusters"
CLASSIFIER_MEANING = "calibrated probability of the per-shot classifier"


def _classifier_probability(classified_store: str | Path | None, matches: Any) -> np.ndarray:
    """The classifier's probabilities, checked to be of the same shots in the same order."""
    if classified_store is None:
        raise ValueError("probability source 'classifier' needs the campaign's "
                         "results/classified store")
    classified = open_group(classified_store)
    for key in ("rec_ndx", "shot_count"):
        if not np.array_equal(classified[key][:], matches[key][:]):
            raise ValueError(f"{classified_store}: its shots are not those of the matches "
                             f"({key} differs); classify the campaign again")
    return classified["probability"][:]


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
