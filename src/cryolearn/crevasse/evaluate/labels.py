"""A synthetic labeller: clusters labelled by the majority truth of their tiles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryolearn.crevasse.surfaces.labels import (
    BASE_CLASSES,
    CREVASSE,
    NOT_CREVASSE,
    Clustering,
    ClusterLabels,
)
from cryolearn.synth.truth import class_fractions_for_hashes, dominant_class


def label_by_synthetic_truth(clusters_store: str | Path, truth_stores: Sequence[str | Path],
                             crevassed_classes: Sequence[str]) -> tuple[ClusterLabels,
                                                                        dict[int, str]]:
    """Label each cluster by the majority truth of its tiles (synthetic worlds only).

    A tile's truth is its dominant surface class; a cluster is ``crevasse`` when
    more than half of its tiles are dominated by a crevassed class.

    A stand-in for the person who labels montages, so that the demo runs end to
    end; it knows the answer, so the demo's probabilities show what the
    pipeline can do with a careful labeller, not what a hurried one would give.

    Returns
    -------
    labels : ``crevasse`` or ``not_crevasse`` for every cluster with known tiles
    notes : per cluster, its size, crevassed share and most frequent class
    """
    clustering = Clustering.of_store(clusters_store)
    tile_label = clustering.tile_label
    fractions, names = class_fractions_for_hashes(truth_stores, clustering.hash)
    dominant = dominant_class(fractions)
    labels: dict[int, str] = {}
    notes: dict[int, str] = {}
    crevassed = np.isin(np.asarray(names), list(crevassed_classes))
    for cluster in range(clustering.n_clusters):
        known = dominant[(tile_label == cluster) & (dominant >= 0)]
        if not len(known):
            continue
        crevassed_share = float(crevassed[known].mean())
        counts = np.bincount(known, minlength=len(names))
        labels[cluster] = CREVASSE if crevassed_share > 0.5 else NOT_CREVASSE
        notes[cluster] = (f"{int((tile_label == cluster).sum())} tiles; truth: "
                          f"{100 * crevassed_share:.0f} % crevassed, most often "
                          f"{names[int(np.argmax(counts))]}")
    return ClusterLabels(labels, list(BASE_CLASSES), clustering.fingerprint,
                         str(clusters_store)), notes
