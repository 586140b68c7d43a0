"""The 1-D network learns where energy arrives after the leading edge, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cryolearn.crevasse.classify.cnn import CNNScorer, CNNSettings
from cryolearn.crevasse.classify.model import (
    Classifier,
    ClassifierSettings,
    classifier_settings,
    fit_classifier,
)
from cryolearn.crevasse.classify.training import Examples

N_BINS = 40
FAST = CNNSettings(channels=(4, 8, 8), hidden=16, epochs=8, batch_size=64, device="cpu")


def echoes(n: int, seed: int) -> Examples:
    """A surface return at bin 5; crevassed ones add a second, weaker echo 6-12 bins later.

    The scalar columns carry noise only, and the total energy is the same in both
    classes, so only the echo's position tells them apart.
    """
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.5).astype(np.int8)
    t = np.arange(N_BINS)
    first = np.exp(-0.5 * ((t[None, :] - 5) / 1.2) ** 2)
    delay = rng.integers(6, 13, n)
    second = np.exp(-0.5 * ((t[None, :] - 5 - delay[:, None]) / 1.2) ** 2)
    wave = np.where(label[:, None] == 1, 0.7 * first + 0.3 * second, first)
    wave /= wave.sum(1, keepdims=True)
    wave += rng.normal(0.0, 0.01, wave.shape)
    scalars = rng.normal(0.0, 1.0, (n, 3))
    features = np.concatenate([wave, scalars], axis=1).astype(np.float32)
    return Examples(features, label, np.arange(n), np.zeros(n, np.int16), np.zeros(n, bool))


def test_the_network_finds_the_second_echo_on_held_out_waveforms():
    train, test = echoes(1500, seed=1), echoes(800, seed=2)
    net = CNNScorer(3, FAST, seed=5).fit(train.features, train.label)
    assert net.n_iter_ == FAST.epochs
    assert roc_auc_score(test.label, net.predict_proba(test.features)[:, 1]) > 0.98


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    train, test = echoes(400, seed=1), echoes(100, seed=2)
    a = CNNScorer(3, FAST, seed=5).fit(train.features, train.label).predict_proba(test.features)
    b = CNNScorer(3, FAST, seed=5).fit(train.features, train.label).predict_proba(test.features)
    c = CNNScorer(3, FAST, seed=6).fit(train.features, train.label).predict_proba(test.features)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4


def test_a_saved_network_classifier_answers_as_before(tmp_path):
    settings = ClassifierSettings(model="cnn", cnn=FAST, seed=3)
    model = fit_classifier(echoes(600, seed=1), echoes(300, seed=2), settings, ["L2A"])
    model.save(tmp_path / "classifier.pkl")
    back = Classifier.load(tmp_path / "classifier.pkl")
    test = echoes(100, seed=4)
    np.testing.assert_array_equal(back.probability(test.features), model.probability(test.features))
    assert back.settings == settings


def test_an_unknown_model_or_device_is_refused_by_name():
    with pytest.raises(ValueError, match=r"classifier\.model must be one of trees, cnn"):
        classifier_settings({"model": "forest"})
    with pytest.raises(ValueError, match=r"classifier\.cnn\.device must be auto, cpu or cuda"):
        classifier_settings({"cnn": {"device": "tpu"}})
