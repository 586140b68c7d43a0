"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import pytest
import torch

from cryolearn.bedtopo.model import BedTopoCNN


@pytest.mark.parametrize("shape", [(16, 16), (33, 47)])
def test_residual_model_keeps_the_spatial_size(shape):
    model = BedTopoCNN(90).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 90, *shape)).shape == (2, 1, *shape)
        sub = BedTopoCNN(20, upscale=3).eval()
        assert sub(torch.zeros(1, 20, *shape)).shape == (1, 1, 3 * shape[0], 3 * shape[1])


def test_model_has_the_original_blocks():
    model = BedTopoCNN(90)
    blocks = list(model.blocks)
    assert len(blocks) == 5
    assert [b.body[0].out_channels for b in blocks] == [32, 64, 128, 128, 256]
    assert all(isinstance(b.body[3], torch.nn.Dropout2d) and b.body[3].p == 0.2 for b in blocks)
    assert model.head.kernel_size == (1, 1) and model.head.out_channels == 1
    assert not any(isinstance(m, torch.nn.modules.pooling._MaxPoolNd) for m in model.modules())
