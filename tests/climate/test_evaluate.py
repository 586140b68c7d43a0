"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import small_features

from cryolearn.climate.evaluate import (
    clustering_scores,
    evaluate_methods,
    markdown_table,
    read_run,
    write_labels,
    write_run,
)
from cryolearn.climate.features import (
    pad_frames,
)
from cryolearn.climate.methods import (
    ClusteringRun,
)


def test_scores_know_the_answers():
    rng = np.random.default_rng(0)
    centres = np.repeat(np.eye(3)[:2], 20, axis=0)
    blobs = centres + rng.normal(0, 0.1, (40, 3))
    truth = np.repeat([0, 1], 20)
    perfect = clustering_scores(blobs, 1 - truth, truth)  # labels permuted: still perfect
    assert perfect["adjusted_rand"] == pytest.approx(1.0) and perfect["nmi"] == pytest.approx(1.0)
    assert perfect["silhouette"] > 0.8 and perfect["davies_bouldin"] < 0.3
    single = clustering_scores(blobs, np.zeros(40, int), truth)
    assert single["silhouette"] is None and single["adjusted_rand"] == 0.0
    runs = {"good": [ClusteringRun("good", s, truth) for s in (0, 1, 2)],
            "bad": [ClusteringRun("bad", s, rng.integers(0, 2, 40)) for s in (0, 1, 2)]}
    results = evaluate_methods(blobs, runs, truth)
    assert results["good"]["summary"]["adjusted_rand"] == {"mean": 1.0, "std": 0.0, "n": 3}
    table = markdown_table(results, "adjusted_rand")
    assert table.index("| good") < table.index("| bad") and "1.000 ± 0.000" in table


def test_runs_and_labels_round_trip(tmp_path):
    dates = pd.date_range("2021-01-01", periods=4).to_numpy()
    run = ClusteringRun("dsc", 2, np.array([0, 1, 1, 2]), np.ones((4, 3), np.float32),
                        ({"phase": "joint", "epoch": 0, "total": 0.5},))
    write_run(run, dates, tmp_path / "run.nc")
    back = read_run(tmp_path / "run.nc")
    assert (back.method, back.seed, back.history) == ("dsc", 2, run.history)
    np.testing.assert_array_equal(back.labels, run.labels)
    other = ClusteringRun("dsc", 5, np.array([1, 1, 0, 0]))
    write_labels([run, other], dates, tmp_path / "dsc.csv", tmp_path / "dsc.nc")
    table = pd.read_csv(tmp_path / "dsc.csv")
    assert list(table.columns) == ["date", "seed_2", "seed_5"]
    assert table["date"][0] == "2021-01-01" and list(table["seed_5"]) == [1, 1, 0, 0]
    with xr.open_dataset(tmp_path / "dsc.nc") as ds:
        assert ds["label"].dims == ("seed", "time") and list(ds["seed"].values) == [2, 5]


def test_zero_padding_changes_no_score():
    """DSC pads its frames with zeros: constant columns, so the padded features score the
    same as the like-for-like table (the paper's gap between DSC and the baselines cannot
    come from padding)."""
    features, truth = small_features(30)
    labels = np.arange(30) % 3
    padded = pad_frames(features.scaled).reshape(30, -1)
    assert padded.shape[1] > features.table.shape[1]
    on_table = clustering_scores(features.table, labels, truth)
    on_padded = clustering_scores(padded, labels, truth)
    for name in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        assert on_padded[name] == pytest.approx(on_table[name], rel=1e-5), name
