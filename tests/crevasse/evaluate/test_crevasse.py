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
