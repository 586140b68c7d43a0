"""Truth of synthetic tiles and shots, for the figures and scores that show it.

The one door from the crevasse stages to :mod:`cryolearn.synth`: figures that
colour tiles or shots by their true surface class ask here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryolearn.io.zarrstore import open_group
from cryolearn.synth.glas import truth_rows_for_shots
from cryolearn.synth.truth import class_fractions_for_hashes, dominant_class


def tile_class_fractions(truth_stores: Sequence[str | Path], hashes: np.ndarray
                         ) -> tuple[np.ndarray, list[str]]:
    """(n, n_classes) footprint shares of each tile's surface classes, and the class names."""
    return class_fractions_for_hashes(truth_stores, hashes)


def tile_dominant_classes(truth_stores: Sequence[str | Path], hashes: np.ndarray) -> np.ndarray:
    """Each tile's dominant surface class code (-1 where its truth is unknown)."""
    return dominant_class(class_fractions_for_hashes(truth_stores, hashes)[0])


def shot_truth_classes(shot_stores: Sequence[str | Path], truth_stores: Sequence[str | Path]
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per campaign: each shot's dominant truth class and its share (synthetic runs)."""
    out = []
    for shots_path, truth_path in zip(shot_stores, truth_stores, strict=True):
        truth = open_group(truth_path)
        fractions = truth["class_fraction"][:][truth_rows_for_shots(open_group(shots_path), truth)]
        out.append((dominant_class(fractions), fractions.max(axis=1, initial=0.0)))
    return out


