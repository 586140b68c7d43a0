"""The hold-out experiment's scores: recall and class agreement by hand."""

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.matching import agreement_scores, recall_at


def test_recall_and_agreement_known_answers():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 1], [5, 0, 0, 0]])
    assert recall_at(found, truth, 4) == pytest.approx((3 / 4 + 1 / 4) / 2)
    query_class = np.array([0, 1, -1])
    neighbours = np.array([[0, 0, 1, -1], [1, 2, 2, 2], [0, 0, 0, 0]])
    train_class = np.array([0, 0, 1, 2])
    scores = agreement_scores(query_class, neighbours, train_class)
    # valid neighbours of the two known queries: 3 + 4; agreeing: 2 + 1
    assert scores["class_agreement"] == pytest.approx(3 / 7)
    # chance = f_query · f_train = 0.5 * 0.5 + 0.5 * 0.25
    assert scores["chance"] == pytest.approx(0.375)
    assert scores["majority_accuracy"] == pytest.approx(0.5)
    assert scores["n_queries"] == 2


def test_holdout_queries_are_made_a_block_at_a_time_in_the_generators_order(tmp_path):
    from cryolearn.crevasse.evaluate.matching import holdout_queries
    from cryolearn.crevasse.shots.align import AlignSettings, align
    from cryolearn.crevasse.shots.augment import (
        EmpiricalDistributions,
        degrade,
        measure_shots,
        read_distributions,
        write_distributions,
    )
    from cryolearn.io.zarrstore import atomic_store, create_group, write_array

    rng = np.random.default_rng(5)
    t = np.arange(544)
    centre = rng.uniform(60, 200, (60, 1))
    waves = np.exp(-0.5 * ((t - centre) / rng.uniform(2, 8, (60, 1))) ** 2).astype(np.float32)
    split = np.where(np.arange(60) % 3 == 0, "holdout", "train")
    with atomic_store(tmp_path / "library.zarr") as tmp:
        group = create_group(tmp)
        write_array(group, "waveform", waves, ("tile", "sample"))
        write_array(group, "split", split, ("tile",), dtype=str)
    shots = (0.14 + 0.8 * waves[:40] + rng.normal(0, 0.01, (40, 544))).astype(np.float32)
    write_distributions(EmpiricalDistributions(
        width_edges_ns=np.array([0.0, 5.0, 1000.0]),
        **measure_shots(shots, np.full(40, 0.14, np.float32), np.full(40, 0.01, np.float32))),
        tmp_path / "dist.zarr", {})
    settings = AlignSettings()
    rows, queries = holdout_queries(tmp_path / "library.zarr", None, tmp_path / "dist.zarr",
                                    sigma_bins=0.8, seed=9, align_settings=settings,
                                    block_rows=6)
    np.testing.assert_array_equal(rows, np.flatnonzero(split == "holdout"))
    dist, draws = read_distributions(tmp_path / "dist.zarr"), np.random.default_rng(9)
    held = waves[rows]
    expected = np.concatenate([align(degrade(held[s:s + 6], dist, draws)[0], settings)[0]
                               for s in range(0, len(held), 6)])
    np.testing.assert_array_equal(queries["degraded_cleaned"], expected)
    assert queries["degraded_cleaned"].shape == (20, expected.shape[1])
    # at most 7 queries: a seeded sample of the holdout rows, in order, made as the
    # whole split's are
    few, sample = holdout_queries(tmp_path / "library.zarr", None, tmp_path / "dist.zarr",
                                  sigma_bins=0.8, seed=9, align_settings=settings,
                                  block_rows=6, max_queries=7)
    assert len(few) == 7 and np.all(np.diff(few) > 0) and set(few) <= set(rows)
    draws = np.random.default_rng(9)
    expected = np.concatenate([align(degrade(waves[few][s:s + 6], dist, draws)[0], settings)[0]
                               for s in range(0, 7, 6)])
    np.testing.assert_array_equal(sample["degraded_cleaned"], expected)
    again, _ = holdout_queries(tmp_path / "library.zarr", None, tmp_path / "dist.zarr",
                               sigma_bins=0.8, seed=9, align_settings=settings, max_queries=7)
    np.testing.assert_array_equal(again, few)
