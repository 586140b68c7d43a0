"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import pytest
import torch

from cryolearn.climate.models import DSCAutoencoder, FrameEncoder, TemporalAutoencoder


def test_dsc_network_has_the_published_shape():
    encoder = FrameEncoder(7)
    widths = [m.out_channels for m in encoder.layers if isinstance(m, torch.nn.Conv2d)]
    pools = [i for i, m in enumerate(encoder.layers) if isinstance(m, torch.nn.MaxPool2d)]
    assert widths == [64, 64, 128, 256, 512] and len(pools) == 4
    model = DSCAutoencoder(7, (48, 48))
    assert model.lstm1.hidden_size == model.lstm2.hidden_size == 512
    assert model.lstm1.input_size == 512 * 3 * 3
    x = torch.rand(2, 3, 7, 48, 48)
    z, decoded = model(x)
    assert z.shape == (2, 256) and ((z > 0) & (z < 1)).all()  # sigmoid latent
    assert decoded.shape == x.shape
    encoder_only = DSCAutoencoder(7, (48, 48), recurrent=False, decoder=False)
    assert encoder_only(x)[1] is None
    with pytest.raises(ValueError, match="multiples of 16"):
        DSCAutoencoder(7, (41, 41))


def test_dtc_autoencoder_restores_its_sequence():
    model = TemporalAutoencoder(7)
    x = torch.rand(3, 1690, 7)
    latent, decoded = model(x)
    assert latent.shape == (3, 169) and decoded.shape == x.shape
