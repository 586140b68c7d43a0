"""Per-shot crevasse probabilities from labelled matched tiles (rule shot_probabilities)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import write_clustering, write_matches

from cryolearn.crevasse.maps.probability import (
    ProbabilitySettings,
    probability_store,
    shot_probabilities,
)
from cryolearn.crevasse.surfaces.labels import (
    Clustering,
    ClusterLabels,
    write_labels,
)
from cryolearn.io.zarrstore import create_group, open_group, write_array

CREVASSE, NOT = 0, 1


def test_probabilities_are_the_shares_of_labelled_matched_tiles():
    # tiles: 0 crevasse, 1 not, 2 unknown (noise), 3 crevasse, 4 not
    tile_class = np.array([CREVASSE, NOT, -1, CREVASSE, NOT])
    neighbour = np.array([[0, 1, 3, -1],     # 2 of 3 labelled crevassed
                          [2, 2, 1, 4],      # 0 of 2, two unknown
                          [2, -1, -1, -1],   # nothing labelled
                          [0, 3, 0, 3]])     # all crevassed
    distance = np.ones(neighbour.shape)
    result = shot_probabilities(neighbour, distance, tile_class, 2, CREVASSE,
                                ProbabilitySettings(min_known=1))
    np.testing.assert_allclose(result.probability, [2 / 3, 0.0, np.nan, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(result.n_neighbours, [3, 4, 1, 4])
    np.testing.assert_array_equal(result.n_known, [3, 2, 0, 4])
    np.testing.assert_array_equal(result.n_unknown, [0, 2, 1, 0])
    np.testing.assert_allclose(result.class_share[0], [2 / 3, 1 / 3], rtol=1e-6)
    assert np.isnan(result.class_share[2]).all()


def test_min_known_withholds_probabilities_of_shots_with_few_labelled_tiles():
    tile_class = np.array([CREVASSE, NOT, -1])
    neighbour = np.array([[0, 2, 2], [0, 1, 2]])
    result = shot_probabilities(neighbour, np.ones((2, 3)), tile_class, 2, CREVASSE,
                                ProbabilitySettings(min_known=2))
    assert np.isnan(result.probability[0])
    assert result.probability[1] == pytest.approx(0.5)


def test_inverse_distance_weights_favour_close_tiles():
    tile_class = np.array([CREVASSE, NOT])
    neighbour = np.array([[0, 1]])
    distance = np.array([[0.1, 0.3]])
    settings = ProbabilitySettings(weighting="inverse_distance", distance_floor=0.2, min_known=1)
    result = shot_probabilities(neighbour, distance, tile_class, 2, CREVASSE, settings)
    # weights 1/0.2 (floored) and 1/0.3
    assert result.probability[0] == pytest.approx(5 / (5 + 10 / 3), rel=1e-6)


def test_probability_store_joins_matches_clusters_and_labels(tmp_path):
    tile_label = np.array([0, 0, 1, 1, -1, 2])  # cluster 2 left unlabelled
    paths = write_clustering(tmp_path, tile_label, 3)
    clustering = Clustering.of_store(paths["clusters"])
    labels = tmp_path / "labels.yaml"
    write_labels(labels, ClusterLabels({0: "crevasse", 1: "not_crevasse"},
                                       fingerprint=clustering.fingerprint))
    matches = write_matches(tmp_path / "L3A.zarr",
                            neighbour=np.array([[0, 1, 2, 4], [2, 3, 5, 0], [0, 1, 2, 3]]),
                            distance=np.ones((3, 4)), matched=np.array([True, True, False]),
                            x=np.array([0.0, 1.0, 2.0]), y=np.zeros(3))
    out = tmp_path / "crevasse.zarr"
    attrs = probability_store(matches, paths["clusters"], paths["library"], labels, out,
                              ProbabilitySettings(min_known=1, source="matching"))
    group = open_group(out)
    np.testing.assert_allclose(group["probability"][:], [2 / 3, 1 / 3, np.nan], rtol=1e-6)
    np.testing.assert_array_equal(group["n_unknown"][:], [1, 1, 0])
    assert attrs["n_with_probability"] == 2 and attrs["n_matched"] == 2
    assert attrs["unknown_neighbour_share"] == pytest.approx(2 / 8)
    np.testing.assert_array_equal(group["x"][:], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(group["matching_probability"][:], group["probability"][:])


def test_the_classifiers_probability_is_published_beside_the_matches(tmp_path):
    tile_label = np.array([0, 0, 1, 1])
    paths = write_clustering(tmp_path, tile_label, 2)
    clustering = Clustering.of_store(paths["clusters"])
    labels = tmp_path / "labels.yaml"
    write_labels(labels, ClusterLabels({0: "crevasse", 1: "not_crevasse"},
                                       fingerprint=clustering.fingerprint))
    matches = write_matches(tmp_path / "L3A.zarr", np.array([[0, 1, 2], [2, 3, 0]]),
                            np.ones((2, 3)), np.array([True, True]), np.zeros(2), np.zeros(2))
    classified = create_group(tmp_path / "classified.zarr")
    write_array(classified, "probability", np.array([0.1, np.nan], np.float32), ("shot",))
    write_array(classified, "rec_ndx", np.arange(2, dtype=np.int64), ("shot",))
    write_array(classified, "shot_count", np.ones(2, np.int32), ("shot",))
    out = tmp_path / "crevasse.zarr"
    attrs = probability_store(matches, paths["clusters"], paths["library"], labels, out,
                              ProbabilitySettings(min_known=1), tmp_path / "classified.zarr")
    group = open_group(out)
    np.testing.assert_allclose(group["probability"][:], [0.1, np.nan])
    np.testing.assert_allclose(group["matching_probability"][:], [2 / 3, 1 / 3], rtol=1e-6)
    assert attrs["source"] == "classifier" and attrs["n_with_probability"] == 1
    # a classifier store of other shots is refused, and nothing is written
    classified["rec_ndx"][:] = np.array([5, 6])
    with pytest.raises(ValueError, match="rec_ndx differs"):
        probability_store(matches, paths["clusters"], paths["library"], labels,
                          tmp_path / "other.zarr", ProbabilitySettings(min_known=1),
                          tmp_path / "classified.zarr")
    assert not (tmp_path / "other.zarr").exists()
    with pytest.raises(ValueError, match="needs the campaign's results/classified store"):
        probability_store(matches, paths["clusters"], paths["library"], labels,
                          tmp_path / "none.zarr", ProbabilitySettings(min_known=1))


def test_probability_store_refuses_a_library_of_other_tiles(tmp_path):
    paths = write_clustering(tmp_path, np.array([0, 1]), 2)
    other = create_group(tmp_path / "other.zarr")
    write_array(other, "hash", np.array(["x", "y"]), ("tile",), dtype=str)
    labels = tmp_path / "labels.yaml"
    write_labels(labels, ClusterLabels({0: "crevasse"}))
    matches = write_matches(tmp_path / "L.zarr", np.array([[0, 1]]), np.ones((1, 2)),
                            np.array([True]), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match=r"other\.zarr"):
        probability_store(matches, paths["clusters"], tmp_path / "other.zarr", labels,
                          tmp_path / "out.zarr", ProbabilitySettings())
    assert not (tmp_path / "out.zarr").exists()
