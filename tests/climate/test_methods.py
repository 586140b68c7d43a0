"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import small_features

from cryolearn.climate.evaluate import (
    evaluate_methods,
)
from cryolearn.climate.methods import (
    METHODS,
    method_settings,
    run_method,
    training_for,
)
from cryolearn.climate.train import DeepTraining


def tiny_settings() -> dict:
    return {
        "n_clusters": 3, "device": "cpu", "kmeans": {"n_init": 5},
        "dsc": {"architecture": {"widths": [4, 4, 4, 4, 4], "lstm_units": 8, "latent_dim": 4},
                "training": {"epochs": 1, "update_interval": 4}},
        "dsc_windowed": {"window_days": 3},
        "dsc_pretrained": {"training": {"pretrain_epochs": 1, "optimiser": "adam",
                                        "learning_rate": 1e-3}},
        "variants": {"training_like": "dsc_pretrained"},
        "dec": {"dims": [16, 16, 32, 4], "training": {"epochs": 2, "pretrain_epochs": 1,
                                                      "batch_size": 16, "update_interval": 4}},
        "dtc": {"filters": 4, "units": [4, 1], "training": {"epochs": 1, "pretrain_epochs": 1,
                                                            "batch_size": 16}},
    }


def test_every_method_clusters_the_same_days_and_is_scored_on_the_same_features():
    features, truth = small_features(30)
    # each method gets only its part of the config, as the workflow passes it
    runs = {name: [run_method(name, features, method_settings(name, tiny_settings()), seed=1)]
            for name in METHODS}
    for name, (run,) in runs.items():
        assert run.labels.shape == (30,) and run.labels.min() >= 0 and run.labels.max() < 3, name
        assert (run.embedding is None) == (name in ("kmeans", "agglomerative")), name
    results = evaluate_methods(features.table, runs, truth)
    assert set(results) == set(METHODS)
    for name in ("kmeans", "agglomerative"):
        assert results[name]["per_seed"][0]["adjusted_rand"] > 0.1, name  # chance: 0
    again = run_method("dsc_windowed", features, tiny_settings(), seed=1)
    np.testing.assert_array_equal(again.labels, runs["dsc_windowed"][0].labels)  # seeded


def test_training_recipes_are_the_published_ones_with_overrides():
    settings = tiny_settings()
    assert training_for("dsc", {}) == DeepTraining()
    dec = training_for("dec", settings)
    assert (dec.learning_rate, dec.batch_size, dec.reconstruction_weight) == (0.01, 16, 0.0)
    variant = training_for("cnn_encoder", settings)
    assert variant.optimiser == "adam" and variant.epochs == 1
    with pytest.raises(ValueError, match=r"climate\.dec\.training"):
        training_for("dec", {"dec": {"training": {"epoch": 3}}})
