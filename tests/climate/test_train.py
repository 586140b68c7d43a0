"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import torch
from helpers import small_features

from cryolearn.climate.features import (
    pad_frames,
)
from cryolearn.climate.models import DSCAutoencoder
from cryolearn.climate.train import DeepTraining, Samples, fit_deep_clustering


def test_dsc_loss_decreases_on_synthetic_data():
    features, _ = small_features()
    samples = Samples(pad_frames(features.scaled), 1, torch.device("cpu"))
    settings = DeepTraining(epochs=6, optimiser="adam", learning_rate=1e-3, update_interval=1000)
    result = fit_deep_clustering(
        lambda: DSCAutoencoder(7, (16, 16), widths=(8, 8, 8, 8, 8), lstm_units=16,
                               latent_dim=8), samples, 3, settings, seed=0)
    totals = [h["total"] for h in result.history]
    assert len(totals) == 6 and totals[-1] < 0.7 * totals[0]
    assert result.assignments.shape == (40, 3)
    np.testing.assert_allclose(result.assignments.sum(axis=1), 1.0, rtol=1e-5)


def test_published_optimiser_leaves_dsc_untrained_and_stops_at_the_tolerance():
    features, _ = small_features()
    samples = Samples(pad_frames(features.scaled), 1, torch.device("cpu"))
    settings = DeepTraining(epochs=5, update_interval=4)  # SGD, lr 1e-7, tolerance 1e-7
    build = lambda: DSCAutoencoder(7, (16, 16), widths=(8, 8, 8, 8, 8),  # noqa: E731
                                   lstm_units=16, latent_dim=8)
    result = fit_deep_clustering(build, samples, 3, settings, seed=0)
    # 4 steps of SGD at 1e-7 change no label: stopped at the second P update, in epoch 0
    assert result.history == []
    torch.manual_seed(0)
    untrained = build().eval().encode(samples.batch(np.arange(40))).detach().numpy()
    np.testing.assert_allclose(result.embedding, untrained, atol=1e-5)


def test_windows_hold_consecutive_days_and_repeat_the_first():
    samples = Samples(np.arange(5, dtype=np.float32)[:, None], 3, torch.device("cpu"))
    batch = samples.batch(np.array([0, 4]))
    assert batch[:, :, 0].tolist() == [[0, 0, 0], [2, 3, 4]]
