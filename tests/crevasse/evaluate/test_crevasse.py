"""Scores against synthetic truth: per-shot rankings, reliability, areas, matched tiles."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import write_matches

from cryolearn.crevasse.evaluate.crevasse import (
    CrevasseEvaluation,
    crevassed_area_km2,
    matched_tile_truth_probability,
    reliability_table,
    shot_metrics,
)

CREVASSE, NOT = 0, 1


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


def test_matched_tile_truth_is_the_share_of_truly_crevassed_matches(tmp_path):
    matches = write_matches(tmp_path / "L.zarr", np.array([[0, 1, 2, -1], [1, 1, 1, 1],
                                                           [0, 2, 0, 2]]),
                            np.ones((3, 4)), np.array([True, True, False]),
                            np.zeros(3), np.zeros(3))
    tile_crevassed = np.array([0.9, 0.1, 0.5])
    np.testing.assert_allclose(matched_tile_truth_probability(matches, tile_crevassed, 0.5),
                               [2 / 3, 0.0, np.nan])


def test_each_truth_is_scored_with_its_own_threshold_overall_and_per_region():
    from cryolearn.crevasse.evaluate.crevasse import (
        CampaignShots,
        CrevasseEvaluation,
        truth_metrics,
    )

    probability = np.array([0.9, 0.8, 0.2, 0.1, np.nan, 0.7])
    zone = np.array([1.0, 1.0, 0.9, 0.0, 1.0, 0.2])   # four in crevassed zones
    open_share = np.array([0.3, 0.15, 0.05, 0.0, 0.4, 0.02])  # but two over open crevasses
    trunk = np.array([1.0, 0.0, 0.6, 0.0, 1.0, 0.4])
    shots = {"L2A": CampaignShots("L2A", np.zeros(6), np.zeros(6), probability, zone, 2004.8,
                                  open_share, trunk)}
    settings = CrevasseEvaluation(open_truth_threshold=0.1, truth_threshold=0.5)
    opened = truth_metrics(shots, "open_crevasses", settings)
    overall = opened["overall"]
    assert overall["n_scored"] == 5 and overall["crevassed_share"] == 0.4
    # 0.9 and 0.8 over open crevasses; 0.7 (not open) ranks above 0.2 and 0.1
    assert overall["roc_auc"] == 1.0
    assert opened["campaigns"]["L2A"] == overall
    trunk_scores, interior = opened["regions"]["trunk"], opened["regions"]["interior"]
    assert (trunk_scores["n_shots"], interior["n_shots"]) == (3, 3)
    assert trunk_scores["crevassed_share"] == 0.5  # 0.9 of 0.9 and 0.2 (nan unscored)
    assert interior["crevassed_share"] == pytest.approx(1 / 3)  # 0.8 of 0.8, 0.1, 0.7
    zones = truth_metrics(shots, "zone_classes", settings)["overall"]
    assert zones["crevassed_share"] == 0.6  # 0.9, 0.8, 0.2 in crevassed zones of five
    assert zones["roc_auc"] == pytest.approx(5 / 6)  # of six pairs only 0.2 (in) < 0.7 (out)
    shots["L2A"].open_share = None  # a truth store written before the second truth
    assert truth_metrics(shots, "open_crevasses", settings) is None


def test_folds_are_strips_of_adjacent_tracks_and_never_share_ground():
    from cryolearn.crevasse.evaluate.crevasse import track_folds

    # six repeat tracks 500 m apart, flown north-north-east in a shuffled order, each
    # pass off its track by up to 100 m; two adjacent tracks a fold
    rng = np.random.default_rng(5)
    heading = np.radians(20.0)
    along, across = np.array([np.sin(heading), np.cos(heading)]), np.array(
        [np.cos(heading), -np.sin(heading)])
    order = np.array([4, 0, 5, 2, 1, 3])  # track id -> position across
    x, y, track = [], [], []
    for t, position in enumerate(order):
        s = np.arange(0, 20000, 170.0)
        offset = 500.0 * position + rng.uniform(-100.0, 100.0) + rng.normal(0, 5.0, len(s))
        xy = s[:, None] * along + offset[:, None] * across
        x.append(xy[:, 0] - 180000.0)
        y.append(xy[:, 1] - 2280000.0)
        track.append(np.full(len(s), t))
    x, y, track = map(np.concatenate, (x, y, track))
    fold = track_folds(x, y, track, tracks_per_fold=2)
    assert sorted(np.unique(fold).tolist()) == [0, 1, 2]
    # tracks at positions 0-1, 2-3, 4-5 share a fold: ids (1, 4), (3, 5), (0, 2)
    folds_of_tracks = {frozenset(np.unique(track[fold == f]).tolist()) for f in range(3)}
    assert folds_of_tracks == {frozenset({1, 4}), frozenset({3, 5}), frozenset({0, 2})}
    # no shot of one fold lies within 250 m of a shot of another
    from scipy.spatial import cKDTree

    for f in range(3):
        inside, outside = fold == f, fold != f
        distance, _ = cKDTree(np.c_[x[outside], y[outside]]).query(np.c_[x[inside], y[inside]])
        assert distance.min() > 250.0


def test_per_fold_scores_and_the_matching_method_beside_the_classifier():
    from cryolearn.crevasse.evaluate.crevasse import CampaignShots, truth_metrics

    # two tracks, one a fold each: the classifier ranks both perfectly, matching one only
    share = np.array([0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0])
    classifier = np.array([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4])
    matching = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.4, 0.6])
    track = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cloudy = np.array([0, 0, 1, 1, 0, 0, 1, 1], bool)
    shots = {"L2A": CampaignShots("L2A", np.arange(8.0), 1000.0 * track, classifier, share,
                                  2004.8, share, np.zeros(8), matching, cloudy, track)}
    block = truth_metrics(shots, "open_crevasses", CrevasseEvaluation())
    assert block["folds"]["n_folds"] == 2
    assert block["folds"]["all"]["roc_auc"] == {"mean": 1.0, "sd": 0.0, "per_fold": [1.0, 1.0]}
    matching_folds = block["methods"]["matching"]["folds"]["all"]["roc_auc"]
    assert matching_folds["per_fold"] == [1.0, 0.0] and matching_folds["mean"] == 0.5
    assert block["cloud_free"]["n_scored"] == 4 and block["cloud_free"]["roc_auc"] == 1.0
    # pooled, matching ranks 12 of the 16 pairs right
    assert block["methods"]["matching"]["overall"]["roc_auc"] == 0.75
