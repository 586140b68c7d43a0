"""Cluster labels, per-shot probabilities, yearly rasters, change maps and their scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from helpers import write_clustering, write_matches

from cryolearn.crevasse.crevasse_eval import (
    CrevasseEvaluation,
    crevassed_area_km2,
    matched_tile_truth_probability,
    reliability_table,
    shot_metrics,
)
from cryolearn.crevasse.labels import (
    Clustering,
    ClusterLabels,
    LabelsError,
    read_labels,
    validate_labels,
    write_labels,
)
from cryolearn.crevasse.maps import (
    EmptyYearWarning,
    RasterGrid,
    change,
    change_map,
    grid_for_bounds,
    rasterise_points,
    read_raster,
    write_raster,
    yearly_map,
)
from cryolearn.crevasse.probability import (
    ProbabilitySettings,
    probability_store,
    shot_probabilities,
)
from cryolearn.io.zarrstore import create_group, open_group, write_array

CREVASSE, NOT = 0, 1


def clustering_of(n_clusters: int, fingerprint: str, path: str = "c") -> Clustering:
    """A clustering of one tile per cluster, for checking labels files against."""
    return Clustering(str(path), n_clusters, fingerprint, np.arange(n_clusters),
                      np.array([f"h{i}" for i in range(n_clusters)]))


# ------------------------------------------------------------ probabilities
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
                              ProbabilitySettings(min_known=1))
    group = open_group(out)
    np.testing.assert_allclose(group["probability"][:], [2 / 3, 1 / 3, np.nan], rtol=1e-6)
    np.testing.assert_array_equal(group["n_unknown"][:], [1, 1, 0])
    assert attrs["n_with_probability"] == 2 and attrs["n_matched"] == 2
    assert attrs["unknown_neighbour_share"] == pytest.approx(2 / 8)
    np.testing.assert_array_equal(group["x"][:], [0.0, 1.0, 2.0])


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


# ----------------------------------------------------------------- labels
def test_labels_naming_missing_clusters_or_unknown_classes_are_rejected_listing_each(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("labels:\n  0: crevasse\n  7: crevasse\n  1: lake\n  x: not_crevasse\n")
    with pytest.raises(LabelsError) as err:
        read_labels(path, clustering_of(3, "abc", str(tmp_path)))
    message = str(err.value)
    assert str(path) in message and "3 bad entries" in message
    assert "cluster 7: no such cluster (ids are 0..2)" in message
    assert "cluster 1: unknown label 'lake'" in message
    assert "cluster 'x': no such cluster" in message


def test_a_declared_extra_class_is_accepted_and_written_back(tmp_path):
    path = tmp_path / "labels.yaml"
    labels = ClusterLabels({0: "crevasse", 2: "lake"}, ["crevasse", "not_crevasse", "lake"],
                           fingerprint="f00d", clusters="results/clusters/clusters.zarr")
    write_labels(path, labels, {0: "12 tiles"})
    assert "0: crevasse  # 12 tiles" in path.read_text()
    again = read_labels(path, clustering_of(3, "f00d", "c"))
    assert again.labels == {0: "crevasse", 2: "lake"}
    assert again.classes == ["crevasse", "not_crevasse", "lake"]
    np.testing.assert_array_equal(again.label_of_cluster(3), [0, -1, 2])


def test_labels_made_for_another_clustering_are_refused(tmp_path):
    path = tmp_path / "labels.yaml"
    write_labels(path, ClusterLabels({0: "crevasse"}, fingerprint="aaaa"))
    with pytest.raises(LabelsError, match="another clustering"):
        read_labels(path, clustering_of(2, "bbbb", "clusters.zarr"))


def test_the_shipped_labels_template_is_valid():
    template = Path(__file__).resolve().parents[1] / "config" / "cluster_labels.yaml"
    labels = read_labels(template, clustering_of(5, "any", "c"))
    assert labels.labels == {} and labels.classes == ["crevasse", "not_crevasse"]


def test_validate_labels_keeps_explicitly_unlabelled_clusters_out():
    assert validate_labels({"0": "crevasse", 1: None}, ["crevasse"], 2, "x") == {0: "crevasse"}


# ----------------------------------------------------------------- rasters
def test_grid_snaps_outward_to_multiples_of_the_cell():
    grid = grid_for_bounds((-1500.0, 200.0, 1200.0, 2999.0), 1000.0)
    assert (grid.x_min, grid.y_max, grid.width, grid.height) == (-2000.0, 3000.0, 4, 3)
    assert grid.bounds == (-2000.0, 0.0, 2000.0, 3000.0)


def test_known_points_fall_into_known_cells_with_their_mean_and_count():
    grid = RasterGrid(x_min=0.0, y_max=2000.0, cell_m=1000.0, width=3, height=2)
    x = np.array([100.0, 900.0, 1500.0, 2500.0, 2500.0, 5000.0, 100.0])
    y = np.array([1900.0, 1100.0, 500.0, 100.0, 900.0, 100.0, 1500.0])
    p = np.array([0.2, 0.6, 1.0, 0.0, 0.5, 1.0, np.nan])
    mean, count, outside = rasterise_points(x, y, p, grid)
    np.testing.assert_array_equal(count, [[2, 0, 0], [0, 1, 2]])
    np.testing.assert_allclose(mean, [[0.4, np.nan, np.nan], [np.nan, 1.0, 0.25]], rtol=1e-6)
    assert outside == 1


def test_yearly_map_is_a_two_band_geotiff_in_epsg_3413(tmp_path):
    store = tmp_path / "L3A.zarr"
    group = create_group(store, {"campaign": "L3A"})
    write_array(group, "x", np.array([-199_500.0, -199_400.0, -198_500.0]), ("shot",))
    write_array(group, "y", np.array([-2_289_500.0, -2_289_500.0, -2_288_500.0]), ("shot",))
    write_array(group, "probability", np.array([1.0, 0.0, 0.8], np.float32), ("shot",))
    grid = grid_for_bounds((-200_000.0, -2_290_000.0, -198_000.0, -2_288_000.0), 1000.0)
    tags = yearly_map([store], grid, 2004, tmp_path / "crevasse_2004.tif")
    assert tags["shots"] == 3 and tags["cells_with_shots"] == 2
    with rasterio.open(tmp_path / "crevasse_2004.tif") as src:
        assert src.crs.to_epsg() == 3413 and src.count == 2
        assert src.descriptions == ("crevasse_probability", "shot_count")
        assert src.transform.a == 1000.0 and (src.transform.c, src.transform.f) == (
            -200_000.0, -2_288_000.0)
        probability, count = src.read(1), src.read(2)
    np.testing.assert_allclose(probability, [[np.nan, 0.8], [0.5, np.nan]])
    np.testing.assert_array_equal(count, [[0, 1], [2, 0]])


def test_a_year_without_shots_gives_an_empty_map_and_a_warning(tmp_path):
    grid = grid_for_bounds((0.0, 0.0, 2000.0, 2000.0), 1000.0)
    with pytest.warns(EmptyYearWarning, match="2010: no shot"):
        tags = yearly_map([], grid, 2010, tmp_path / "crevasse_2010.tif")
    raster = read_raster(tmp_path / "crevasse_2010.tif")
    assert tags["shots"] == 0 and raster.grid == grid
    assert np.isnan(raster.bands["crevasse_probability"]).all()
    assert not raster.bands["shot_count"].any()


def test_change_is_later_minus_earlier_with_nodata_where_either_year_lacks_shots(tmp_path):
    grid = RasterGrid(0.0, 2000.0, 1000.0, 2, 2)
    early = np.array([[0.2, np.nan], [0.5, 0.9]], np.float32)
    late = np.array([[0.6, 0.4], [np.nan, 0.3]], np.float32)
    counts_early = np.array([[3, 0], [1, 2]], np.float32)
    counts_late = np.array([[1, 2], [0, 5]], np.float32)
    np.testing.assert_allclose(change(early, late, counts_early, counts_late),
                               [[0.4, np.nan], [np.nan, -0.6]], rtol=1e-6)
    for name, p, n in (("a", early, counts_early), ("b", late, counts_late)):
        write_raster(tmp_path / f"{name}.tif", grid,
                     {"crevasse_probability": p, "shot_count": n}, {"year": 2000})
    tags = change_map(tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "change.tif")
    out = read_raster(tmp_path / "change.tif")
    assert tags["cells_in_both"] == 2
    np.testing.assert_allclose(out.bands["probability_change"], [[0.4, np.nan], [np.nan, -0.6]],
                               rtol=1e-6)
    np.testing.assert_array_equal(out.bands["shot_count_to"], counts_late)


def test_change_of_maps_on_different_grids_is_refused_naming_both(tmp_path):
    bands = {"crevasse_probability": np.zeros((2, 2), np.float32),
             "shot_count": np.ones((2, 2), np.float32)}
    write_raster(tmp_path / "a.tif", RasterGrid(0.0, 2000.0, 1000.0, 2, 2), bands, {})
    write_raster(tmp_path / "b.tif", RasterGrid(1000.0, 2000.0, 1000.0, 2, 2), bands, {})
    with pytest.raises(ValueError, match=r"a\.tif and .*b\.tif lie on different grids"):
        change_map(tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "c.tif")
    assert not (tmp_path / "c.tif").exists()


# ----------------------------------------------------------------- scores
def test_scores_of_a_perfect_and_a_reversed_ranking():
    truth = np.array([0.0, 0.1, 0.2, 0.7, 0.9, 1.0])
    settings = CrevasseEvaluation(truth_threshold=0.5, reliability_bins=2)
    perfect = shot_metrics(truth, truth, settings)
    assert perfect["roc_auc"] == 1.0
    # Brier against outcomes 0,0,0,1,1,1
    assert perfect["brier"] == pytest.approx(np.mean([0, 0.01, 0.04, 0.09, 0.01, 0]))
    assert perfect["brier_base_rate"] == pytest.approx(0.25)
    assert shot_metrics(1 - truth, truth, settings)["roc_auc"] == 0.0
    with_gap = shot_metrics(np.array([np.nan, 0.5]), np.array([1.0, 1.0]), settings)
    assert with_gap["n_scored"] == 1 and with_gap["roc_auc"] is None  # one class only


def test_reliability_table_by_hand():
    p = np.array([0.05, 0.15, 0.45, 0.55, 0.95, 1.0])
    outcome = np.array([0, 0, 1, 0, 1, 1])
    share = np.array([0.0, 0.2, 0.6, 0.4, 0.8, 1.0])
    table = reliability_table(p, outcome, share, 2)
    assert [row["n"] for row in table] == [3, 3]
    assert table[0]["mean_probability"] == pytest.approx(0.65 / 3)
    assert table[0]["observed_frequency"] == pytest.approx(1 / 3)
    assert table[1]["observed_frequency"] == pytest.approx(2 / 3)
    assert table[1]["mean_truth_share"] == pytest.approx(2.2 / 3)


def test_crevassed_area_sums_share_times_cell_area():
    share = np.array([[0.5, np.nan], [1.0, 0.25]])
    cells = np.array([[True, False], [True, False]])
    assert crevassed_area_km2(share, cells, 1000.0) == pytest.approx(1.5)


def test_labels_write_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "labels.yaml"
    write_labels(path, ClusterLabels({0: "crevasse"}))
    before = path.read_text()

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_labels(path, ClusterLabels({0: "not_crevasse"}))
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.yaml"]


def test_matched_tile_truth_is_the_share_of_truly_crevassed_matches(tmp_path):
    matches = write_matches(tmp_path / "L.zarr", np.array([[0, 1, 2, -1], [1, 1, 1, 1],
                                                           [0, 2, 0, 2]]),
                            np.ones((3, 4)), np.array([True, True, False]),
                            np.zeros(3), np.zeros(3))
    tile_crevassed = np.array([0.9, 0.1, 0.5])
    np.testing.assert_allclose(matched_tile_truth_probability(matches, tile_crevassed, 0.5),
                               [2 / 3, 0.0, np.nan])
