"""DeepTopoNet's dynamically balanced loss of radar and BedMachine terms.

L_r is the mean squared error on cells with radar, L_b on the other cells
(against BedMachine). They are weighted by γ_r = L_b / (L_r + L_b + ε) and
γ_b = L_r / (L_r + L_b + ε), so the total is 2 L_r L_b / (L_r + L_b + ε): the
larger term is weighted by the smaller. In the original code the weights are
not detached, so the gradient also flows through them; ``detach=True`` treats
them as constants. A term with no cell in the batch is 0, and then so is the
total: such a batch teaches nothing (in the original as here).

With a sub-grid model (output f times finer than the inputs) the radar term
is computed on the fine cells holding radar and the BedMachine term on the
coarse cells, the fine output averaged over each coarse cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

EPSILON = 1e-4


@dataclass
class LossTerms:
    """The total loss and its parts (γ as used, detached or not)."""

    total: Tensor
    radar: Tensor
    bedmachine: Tensor
    gamma_radar: Tensor
    gamma_bedmachine: Tensor


def masked_mse(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the cells of ``mask``; 0 when the mask is empty."""
    weight = mask.to(prediction.dtype)
    count = weight.sum()
    squared = torch.where(mask, (prediction - target) ** 2, torch.zeros_like(prediction))
    return squared.sum() / count.clamp(min=1.0)


def balanced_loss(prediction: Tensor, bedmachine: Tensor, bedmachine_mask: Tensor,
                  radar: Tensor, radar_mask: Tensor, *, detach: bool = False,
                  eps: float = EPSILON) -> LossTerms:
    """The γ-balanced loss of one batch.

    Parameters
    ----------
    prediction : (B, 1, f·h, f·w) predicted bed
    bedmachine, bedmachine_mask : (B, 1, h, w) BedMachine bed and the cells of L_b
    radar, radar_mask : (B, 1, f·h, f·w) radar-pixel target and the cells of L_r
    detach : treat γ_r and γ_b as constants (no gradient through them)
    eps : the ε of the weights
    """
    factor = prediction.shape[-1] // bedmachine.shape[-1]
    coarse = (prediction if factor == 1
              else torch.nn.functional.avg_pool2d(prediction, factor))
    loss_radar = masked_mse(prediction, radar, radar_mask)
    loss_bed = masked_mse(coarse, bedmachine, bedmachine_mask)
    denominator = loss_radar + loss_bed + eps
    gamma_radar = loss_bed / denominator
    gamma_bed = loss_radar / denominator
    if detach:
        gamma_radar, gamma_bed = gamma_radar.detach(), gamma_bed.detach()
    total = gamma_radar * loss_radar + gamma_bed * loss_bed
    return LossTerms(total, loss_radar, loss_bed, gamma_radar, gamma_bed)
