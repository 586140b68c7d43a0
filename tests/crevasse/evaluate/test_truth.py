"""Truth of synthetic tiles and shots, joined on hash and on the shot key."""

import json

import numpy as np

from cryolearn.classes import SURFACE_CLASSES
from cryolearn.crevasse.evaluate.truth import (
    shot_truth_classes,
    tile_class_fractions,
    tile_dominant_classes,
)
from cryolearn.io.zarrstore import create_group, write_array


def test_tiles_join_on_hash_and_unknown_hashes_have_no_class(tmp_path):
    group = create_group(tmp_path / "T1.zarr", {"classes": json.dumps(list(SURFACE_CLASSES))})
    fractions = np.zeros((2, len(SURFACE_CLASSES)), np.float32)
    fractions[0, 1], fractions[0, 0] = 0.7, 0.3    # mostly crevasses
    fractions[1, 6] = 1.0                          # a lake
    write_array(group, "hash", np.array(["a", "b"]), ("tile",), dtype=str)
    write_array(group, "class_fraction", fractions, ("tile", "class"))
    got, names = tile_class_fractions([tmp_path / "T1.zarr"], np.array(["b", "zz", "a"]))
    assert names == list(SURFACE_CLASSES)
    np.testing.assert_array_equal(got, [fractions[1], np.zeros(8), fractions[0]])
    codes = tile_dominant_classes([tmp_path / "T1.zarr"], np.array(["b", "zz", "a"]))
    assert codes.tolist() == [6, -1, 1]


def test_shots_join_on_record_and_shot_count_in_any_order(tmp_path):
    shots = create_group(tmp_path / "shots.zarr")
    write_array(shots, "rec_ndx", np.array([7, 5, 5]), ("shot",))
    write_array(shots, "shot_count", np.array([1, 2, 1]), ("shot",))
    truth = create_group(tmp_path / "truth.zarr")
    write_array(truth, "rec_ndx", np.array([5, 5, 7]), ("shot",))
    write_array(truth, "shot_count", np.array([1, 2, 1]), ("shot",))
    fractions = np.zeros((3, 8), np.float32)
    fractions[0, 0], fractions[1, 3], fractions[2, 2] = 1.0, 0.6, 0.9
    write_array(truth, "class_fraction", fractions, ("shot", "class"))
    [(codes, share)] = shot_truth_classes([tmp_path / "shots.zarr"], [tmp_path / "truth.zarr"])
    assert codes.tolist() == [2, 3, 0]
    np.testing.assert_allclose(share, [0.9, 0.6, 1.0])
