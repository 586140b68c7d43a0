"""The classifier's calibration, and its examples made with every campaign's pulse."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.classify.model import (
    ClassifierSettings,
    TreeSettings,
    fit_classifier,
    reliability,
)
from cryolearn.crevasse.classify.training import (
    Examples,
    ExampleSettings,
    feature_names,
    make_examples,
)
from cryolearn.crevasse.shots.augment import EmpiricalDistributions


def examples(n: int, seed: int) -> tuple[Examples, np.ndarray]:
    """One informative feature; the label is drawn with a known probability of it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, 3)).astype(np.float32)
    truth = 1.0 / (1.0 + np.exp(-(2.5 * x[:, 0] - 0.5)))
    label = (rng.random(n) < truth).astype(np.int8)
    return Examples(x, label, np.arange(n), np.zeros(n, np.int16), np.zeros(n, bool)), truth


def quiet_shots(rng: np.random.Generator) -> EmpiricalDistributions:
    """Shots of one width and amplitude over quiet noise: examples differ by their pulse."""
    return EmpiricalDistributions(
        noise=rng.normal(0.0, 0.005, (50, 64)).astype(np.float32),
        amplitude_v=np.full(20, 0.8, np.float32), width_ns=np.full(20, 3.0, np.float32),
        width_edges_ns=np.array([0.0, 1000.0]),
        leading_edge_ns=np.full(20, 120.0, np.float32), background_v=np.full(20, 0.1, np.float32))


def test_calibration_maps_scores_to_observed_frequencies_on_held_out_waveforms():
    settings = ClassifierSettings(trees=TreeSettings(max_iter=100))
    train, _ = examples(6000, seed=1)
    holdout, _ = examples(30000, seed=2)
    model = fit_classifier(train, holdout, settings, ["L2A"])
    test, truth = examples(20000, seed=3)
    probability = model.probability(test.features)
    table = [row for row in reliability(probability, test.label) if row["n"] >= 500]
    assert len(table) >= 5
    for row in table:
        assert row["observed_frequency"] == pytest.approx(row["mean_probability"], abs=0.05)
    # and it recovers the probability the labels were drawn with
    assert np.mean(np.abs(probability - truth)) < 0.06
    # the trees alone are sharper than the truth: calibration moves them
    assert np.mean(np.abs(model.score(test.features) - truth)) > np.mean(
        np.abs(probability - truth))


def test_one_label_only_is_refused():
    train, _ = examples(200, seed=1)
    train.label[:] = 0
    holdout, _ = examples(200, seed=2)
    with pytest.raises(ValueError, match="one label only"):
        fit_classifier(train, holdout, ClassifierSettings(), ["L2A"])


def test_examples_are_made_with_every_campaigns_pulse():
    rng = np.random.default_rng(4)
    hist = np.zeros((5, 544), np.float32)
    hist[:, 10] = 1.0  # flat tiles
    narrow, wide = np.array([0.2, 0.6, 0.2]), np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    dist = quiet_shots(rng)
    settings = ExampleSettings(draws=3, cloud_share=0.0)
    ex = make_examples(hist, np.arange(5), np.array([0, 1, 0, 1, 0]), [narrow, wide], dist,
                       settings, rng)
    assert ex.features.shape == (30, len(feature_names(settings)))
    assert np.bincount(ex.pulse).tolist() == [15, 15]
    width = ex.features[:, feature_names(settings).index("rms_width_ns")]
    # the wide pulse's examples are wider, every one of them
    assert width[ex.pulse == 1].min() > width[ex.pulse == 0].max()
    assert not ex.cloudy.any()


def test_a_saved_classifier_answers_as_before_and_another_file_is_refused(tmp_path):
    from cryolearn.crevasse.classify.model import Classifier

    train, _ = examples(600, seed=1)
    holdout, _ = examples(600, seed=2)
    settings = ClassifierSettings(trees=TreeSettings(max_iter=20), seed=3)
    model = fit_classifier(train, holdout, settings, ["L2A", "L3I"])
    model.save(tmp_path / "classifier.pkl")
    back = Classifier.load(tmp_path / "classifier.pkl")
    test, _ = examples(100, seed=4)
    np.testing.assert_array_equal(back.probability(test.features), model.probability(test.features))
    assert back.settings == settings and back.campaigns == ["L2A", "L3I"]
    (tmp_path / "other.pkl").write_bytes(__import__("pickle").dumps({"weights": [1, 2]}))
    with pytest.raises(ValueError, match=r"other\.pkl: not a cryolearn crevasse classifier"):
        Classifier.load(tmp_path / "other.pkl")


def test_a_pulse_makes_examples_of_at_most_its_share_of_tiles():
    rng = np.random.default_rng(4)
    hist = np.zeros((40, 544), np.float32)
    hist[:, 10] = 1.0
    narrow, wide = np.array([0.2, 0.6, 0.2]), np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    dist = quiet_shots(rng)
    tiles, labels = np.arange(100, 140), np.arange(40) % 2

    def made(cap: int) -> Examples:
        return make_examples(hist, tiles, labels, [narrow, wide], dist,
                             ExampleSettings(draws=2, cloud_share=0.0, max_tiles_per_pulse=cap),
                             np.random.default_rng(7))

    capped = made(15)
    assert np.bincount(capped.pulse).tolist() == [30, 30]  # 15 tiles x 2 draws a pulse
    first, second = (set(capped.tile[capped.pulse == p]) for p in (0, 1))
    assert len(first) == len(second) == 15 and first != second  # each pulse draws its own
    # labels travel with their tiles
    np.testing.assert_array_equal(capped.label, labels[capped.tile - 100])
    # a cap above the tiles, or none, takes every tile and draws nothing more
    whole, unlimited = made(40), made(0)
    assert np.bincount(whole.pulse).tolist() == [80, 80]
    np.testing.assert_array_equal(whole.features, unlimited.features)
    with pytest.raises(ValueError, match="max_tiles_per_pulse"):
        ExampleSettings(max_tiles_per_pulse=-1)
