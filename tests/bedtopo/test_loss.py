"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cryolearn.bedtopo.loss import EPSILON, balanced_loss


def _loss_inputs(seed=0, factor=1):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 1, 8 * factor, 8 * factor, generator=g, dtype=torch.float64,
                       requires_grad=True)
    bed = torch.randn(2, 1, 8, 8, generator=g, dtype=torch.float64)
    radar = torch.randn(2, 1, 8 * factor, 8 * factor, generator=g, dtype=torch.float64)
    radar_mask = torch.rand(2, 1, 8 * factor, 8 * factor, generator=g) < 0.2
    bed_mask = torch.rand(2, 1, 8, 8, generator=g) < 0.7
    return pred, bed, bed_mask, radar, radar_mask


@pytest.mark.parametrize("detach", [False, True])
def test_gamma_loss_is_twice_the_product_over_the_sum(detach):
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs()
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask, detach=detach)
    lr = float(((pred.detach() - radar)[radar_mask] ** 2).mean())
    lb = float(((pred.detach() - bed)[bed_mask] ** 2).mean())
    assert float(terms.radar) == pytest.approx(lr)
    assert float(terms.bedmachine) == pytest.approx(lb)
    assert float(terms.total) == pytest.approx(2 * lr * lb / (lr + lb + EPSILON))
    assert float(terms.gamma_radar) == pytest.approx(lb / (lr + lb + EPSILON))


@pytest.mark.parametrize("detach", [False, True])
def test_gradient_flows_through_gamma_only_when_not_detached(detach):
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs(1)
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask, detach=detach)
    terms.total.backward()
    lr, lb = float(terms.radar), float(terms.bedmachine)
    s = lr + lb + EPSILON
    # dT/dL_r: with γ live, 2 L_b (L_b + ε) / S²; detached, γ_r = L_b / S
    d_lr = lb / s if detach else 2 * lb * (lb + EPSILON) / s**2
    d_lb = lr / s if detach else 2 * lr * (lr + EPSILON) / s**2
    expected = (d_lr * 2 * (pred - radar) * radar_mask / radar_mask.sum()
                + d_lb * 2 * (pred - bed) * bed_mask / bed_mask.sum())
    np.testing.assert_allclose(pred.grad.numpy(), expected.detach().numpy(), rtol=1e-9,
                               atol=1e-12)


def test_a_batch_without_radar_pixels_teaches_nothing():
    pred, bed, bed_mask, radar, _ = _loss_inputs(2)
    terms = balanced_loss(pred, bed, bed_mask, radar, torch.zeros_like(bed_mask))
    assert float(terms.radar) == 0 and float(terms.total) == 0


def test_subgrid_loss_compares_block_means_with_bedmachine():
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs(3, factor=2)
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask)
    coarse = pred.detach().reshape(2, 1, 8, 2, 8, 2).mean(dim=(3, 5))
    assert float(terms.bedmachine) == pytest.approx(float(((coarse - bed)[bed_mask] ** 2).mean()))
