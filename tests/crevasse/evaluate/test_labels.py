"""The synthetic labeller: a cluster is crevassed when most of its tiles truly are."""

import json

import numpy as np
from helpers import write_clustering

from cryolearn.classes import CREVASSED_CLASSES, SURFACE_CLASSES
from cryolearn.crevasse.evaluate.labels import label_by_synthetic_truth
from cryolearn.crevasse.surfaces.labels import CREVASSE, NOT_CREVASSE
from cryolearn.io.zarrstore import create_group, write_array


def write_truth(path, hashes, dominant):
    """A tile-truth store whose tiles are 80 % their given class, 20 % smooth."""
    fractions = np.zeros((len(hashes), len(SURFACE_CLASSES)), np.float32)
    for row, name in enumerate(dominant):
        fractions[row, SURFACE_CLASSES.index("smooth")] += 0.2
        fractions[row, SURFACE_CLASSES.index(name)] += 0.8
    group = create_group(path, {"classes": json.dumps(list(SURFACE_CLASSES))})
    write_array(group, "hash", np.array(hashes), ("tile",), dtype=str)
    write_array(group, "class_fraction", fractions, ("tile", "class"))


def test_clusters_take_the_majority_truth_of_their_tiles(tmp_path):
    # clusters 0: 2 of 3 tiles crevassed; 1: 1 of 3 (serac field); 2: no tile with truth
    stores = write_clustering(tmp_path, np.array([0, 0, 0, 1, 1, 1, 2]), 3)
    write_truth(tmp_path / "truth.zarr", [f"h{i:04d}" for i in range(6)],
                ["crevasses", "crossing_crevasses", "lake", "serac_field", "smooth", "channel"])
    labels, notes = label_by_synthetic_truth(stores["clusters"], [tmp_path / "truth.zarr"],
                                             CREVASSED_CLASSES)
    assert labels.labels == {0: CREVASSE, 1: NOT_CREVASSE}
    assert notes[0] == "3 tiles; truth: 67 % crevassed, most often crevasses"
    assert notes[1].startswith("3 tiles; truth: 33 % crevassed")
    assert 2 not in notes


def test_the_crevassed_classes_decide_the_label(tmp_path):
    stores = write_clustering(tmp_path, np.array([0, 0]), 1)
    write_truth(tmp_path / "truth.zarr", ["h0000", "h0001"], ["serac_field", "serac_field"])
    labels, _ = label_by_synthetic_truth(stores["clusters"], [tmp_path / "truth.zarr"],
                                         ["crevasses"])
    assert labels.labels == {0: NOT_CREVASSE}
