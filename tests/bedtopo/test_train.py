"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY_BEDTOPO_MODEL

from cryolearn.bedtopo.data import (
    choose_holdout,
)
from cryolearn.bedtopo.train import (
    TrainingSettings,
    patch_origins,
    predict_grid,
    train_bedtopo,
)


def test_patches_cover_the_grid_when_asked():
    origins = patch_origins((40, 37), 16, 8, cover=True)
    covered = np.zeros((40, 37), dtype=bool)
    for r, c in origins:
        covered[r:r + 16, c:c + 16] = True
    assert covered.all()
    assert len(patch_origins((40, 37), 16, 8)) == 4 * 3


def test_training_resumes_from_its_checkpoint_to_the_same_model(inputs, tmp_path):
    settings = TrainingSettings.from_config(TINY_BEDTOPO_MODEL)
    whole = train_bedtopo(inputs, settings, protocol="faithful", device="cpu", progress=False)
    ckpt = tmp_path / "bedtopo.ckpt"
    first = train_bedtopo(inputs, settings, protocol="faithful", checkpoint=ckpt, device="cpu",
                          progress=False, stop_after_epochs=1)
    assert len(first.history) == 1
    resumed = train_bedtopo(inputs, settings, protocol="faithful", checkpoint=ckpt,
                            device="cpu", progress=False)
    assert len(resumed.history) == 2
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)
    assert settings.mode == "faithful"
    bed, spread = predict_grid(whole, inputs.fields, device="cpu", mc_samples=3)
    assert bed.shape == inputs.grid.shape and np.isfinite(bed).all()
    assert (spread > 0).mean() > 0.9


def test_subgrid_model_trains_and_predicts_a_finer_grid(inputs):
    settings = TrainingSettings.from_config({**TINY_BEDTOPO_MODEL, "epochs": 1, "subgrid_factor": 2,
                                             "radar_target": "radar", "trend": "once",
                                             "detach_gamma": True})
    holdout = choose_holdout(inputs, share=0.3, buffer_m=300.0, seed=1)
    run = train_bedtopo(inputs, settings, protocol="holdout", holdout=holdout, device="cpu",
                        progress=False)
    assert settings.mode == "modified" and len(run.channel_names) == 20
    bed, spread = predict_grid(run, inputs.fields, device="cpu")
    assert bed.shape == (96, 96) and spread is None
    with pytest.raises(ValueError, match="holdout protocol needs held-out lines"):
        train_bedtopo(inputs, settings, protocol="holdout", device="cpu", progress=False)


def test_precision_is_checked_and_changes_only_the_products(inputs):
    with pytest.raises(ValueError, match=r"bedtopo\.model\.precision"):
        TrainingSettings.from_config({**TINY_BEDTOPO_MODEL, "precision": "float16"})
    runs = {p: train_bedtopo(inputs, TrainingSettings.from_config(
        {**TINY_BEDTOPO_MODEL, "epochs": 1, "precision": p}), protocol="faithful",
        device="cpu", progress=False) for p in ("float32", "bfloat16")}
    low, full = (runs[p].model.state_dict()["head.weight"] for p in ("bfloat16", "float32"))
    assert low.dtype == full.dtype == torch.float32
    assert not torch.equal(low, full)
    # one epoch from the same start: the two differ by rounding, not by training
    for p in runs:
        assert runs[p].history[0]["val_loss"] == pytest.approx(
            runs["float32"].history[0]["val_loss"], rel=0.05)
