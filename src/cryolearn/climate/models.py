"""The networks of DSC, its variants, DEC and DTC.

DSC (Faruque et al. 2023, public code): every day's fields (variables as
channels, zero-padded to a multiple of 16 cells) pass through time-distributed
convolutions (64, 64, pool, 128, pool, 256, pool, 512, pool; 3 × 3, tanh), two
LSTMs of 512 units (the second with dropout 0.1) and a dense latent of 256
(sigmoid); the decoder mirrors it. In the original every sequence holds one
day; ``sequence_length`` > 1 feeds real windows of consecutive days.

The variants drop a part: ``recurrent=False`` replaces the LSTMs by a dense
layer (CNN encoder or autoencoder), ``decoder=False`` keeps the encoder alone.

DEC (Xie et al. 2016): a dense autoencoder d–500–500–2000–10 with ReLU.
DTC (Madiraju et al. 2018): a temporal autoencoder, 1-D convolution (50
filters, kernel 10, leaky ReLU), max-pooling by 10, two bidirectional LSTMs
(50 and 1 units, directions summed); the decoder upsamples and
deconvolves back to the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from torch import Tensor, nn

#: downsampling of the DSC frame encoder: four 2 × 2 poolings
DSC_DOWNSAMPLING = 16


class FrameEncoder(nn.Module):
    """DSC's convolutional encoder of one frame: (B, C, H, W) → (B, widths[-1], H/16, W/16)."""

    def __init__(self, channels: int, widths: Sequence[int] = (64, 64, 128, 256, 512)) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"the DSC encoder has 5 convolutions; widths {list(widths)}")
        layers: list[nn.Module] = []
        previous = channels
        for index, width in enumerate(widths):
            layers += [nn.Conv2d(previous, width, 3, padding=1), nn.Tanh()]
            if index >= 1:  # 64, 64, pool, 128, pool, 256, pool, 512, pool
                layers.append(nn.MaxPool2d(2))
            previous = width
        self.layers = nn.Sequential(*layers)

    def forward(self, frames: Tensor) -> Tensor:
        return self.layers(frames)


class FrameDecoder(nn.Module):
    """The mirror of :class:`FrameEncoder`: upsampling and convolutions back to C channels."""

    def __init__(self, channels: int, widths: Sequence[int] = (64, 64, 128, 256, 512)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        reversed_widths = list(widths)[::-1]
        for width, following in pairwise(reversed_widths):
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(width, following, 3, padding=1),
                       nn.Tanh()]
        layers.append(nn.Conv2d(widths[0], channels, 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, code: Tensor) -> Tensor:
        return self.layers(code)


class DSCAutoencoder(nn.Module):
    """DSC's CNN-RNN autoencoder and its variants.

    Parameters
    ----------
    channels : variables per frame
    frame_shape : (H, W) of the padded frames, multiples of 16
    widths : the five convolution widths
    lstm_units : units of each LSTM (and of the dense layer replacing them)
    latent_dim : size of the sigmoid latent
    dropout : dropout on the second LSTM's inputs
    recurrent : LSTMs (DSC) or a dense layer (the CNN variants)
    decoder : build the decoder (False for the encoder-only variants)

    Notes
    -----
    Input and output are (B, L, C, H, W) sequences of L frames; the latent is
    (B, latent_dim), taken after the last frame.
    """

    def __init__(self, channels: int, frame_shape: tuple[int, int], *,
                 widths: Sequence[int] = (64, 64, 128, 256, 512), lstm_units: int = 512,
                 latent_dim: int = 256, dropout: float = 0.1, recurrent: bool = True,
                 decoder: bool = True) -> None:
        super().__init__()
        height, width = frame_shape
        if height % DSC_DOWNSAMPLING or width % DSC_DOWNSAMPLING:
            raise ValueError(f"frames must be padded to multiples of {DSC_DOWNSAMPLING}; "
                             f"got {frame_shape}")
        self.code_shape = (widths[-1], height // DSC_DOWNSAMPLING, width // DSC_DOWNSAMPLING)
        flat = widths[-1] * self.code_shape[1] * self.code_shape[2]
        self.recurrent = recurrent
        self.frames = FrameEncoder(channels, widths)
        if recurrent:
            self.lstm1 = nn.LSTM(flat, lstm_units, batch_first=True)
            self.dropout = nn.Dropout(dropout)
            self.lstm2 = nn.LSTM(lstm_units, lstm_units, batch_first=True)
        else:
            self.dense = nn.Sequential(nn.Linear(flat, lstm_units), nn.Tanh())
        self.to_latent = nn.Sequential(nn.Linear(lstm_units, latent_dim), nn.Sigmoid())
        self.has_decoder = decoder
        if decoder:
            if recurrent:
                self.dec_lstm1 = nn.LSTM(latent_dim, lstm_units, batch_first=True)
                self.dec_lstm2 = nn.LSTM(lstm_units, lstm_units, batch_first=True)
                self.from_hidden = nn.Sequential(nn.Linear(lstm_units, flat), nn.Tanh())
            else:
                self.from_hidden = nn.Sequential(nn.Linear(latent_dim, flat), nn.Tanh())
            self.unframes = FrameDecoder(channels, widths)

    def encode(self, x: Tensor) -> Tensor:
        """(B, L, C, H, W) → (B, latent_dim)."""
        batch, length = x.shape[:2]
        codes = self.frames(x.flatten(0, 1)).reshape(batch, length, -1)
        if self.recurrent:
            hidden, _ = self.lstm1(codes)
            hidden, _ = self.lstm2(self.dropout(hidden))
            last = hidden[:, -1]
        else:
            last = self.dense(codes[:, -1])
        return self.to_latent(last)

    def decode(self, z: Tensor, length: int) -> Tensor:
        """(B, latent_dim) → (B, L, C, H, W)."""
        if not self.has_decoder:
            raise RuntimeError("this variant has no decoder")
        batch = z.shape[0]
        if self.recurrent:
            hidden, _ = self.dec_lstm1(z.unsqueeze(1).expand(-1, length, -1))
            hidden, _ = self.dec_lstm2(hidden)
            codes = self.from_hidden(hidden)
        else:
            codes = self.from_hidden(z).unsqueeze(1).expand(-1, length, -1)
        frames = self.unframes(codes.reshape(batch * length, *self.code_shape))
        return frames.reshape(batch, length, *frames.shape[1:])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        z = self.encode(x)
        return z, (self.decode(z, x.shape[1]) if self.has_decoder else None)


class DenseAutoencoder(nn.Module):
    """DEC's autoencoder: d–500–500–2000–k with ReLU, linear latent and output."""

    def __init__(self, n_features: int, dims: Sequence[int] = (500, 500, 2000, 10)) -> None:
        super().__init__()
        sizes = [n_features, *dims]
        self.encoder = _mlp(sizes)
        self.decoder = _mlp(sizes[::-1])
        self.has_decoder = True

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class TemporalAutoencoder(nn.Module):
    """DTC's temporal autoencoder over (B, T, C) sequences; T a multiple of ``pool``.

    The latent is the (T / pool)-long output of the second bidirectional LSTM
    (``units[1]`` per direction, directions summed), flattened.
    """

    def __init__(self, channels: int, *, filters: int = 50, kernel: int = 10, pool: int = 10,
                 units: tuple[int, int] = (50, 1)) -> None:
        super().__init__()
        self.pool = pool
        self.conv = nn.Conv1d(channels, filters, kernel, padding="same")
        self.activation = nn.LeakyReLU()
        self.lstm1 = nn.LSTM(filters, units[0], batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(units[0], units[1], batch_first=True, bidirectional=True)
        self.units = units
        self.deconv = nn.ConvTranspose1d(units[1], channels, kernel, stride=pool)
        self.has_decoder = True

    def _sum_directions(self, output: Tensor, units: int) -> Tensor:
        return output[..., :units] + output[..., units:]

    def encode_sequence(self, x: Tensor) -> Tensor:
        """(B, T, C) → (B, T / pool, units[1])."""
        hidden = self.activation(self.conv(x.transpose(1, 2)))
        hidden = nn.functional.max_pool1d(hidden, self.pool).transpose(1, 2)
        hidden, _ = self.lstm1(hidden)
        hidden, _ = self.lstm2(self._sum_directions(hidden, self.units[0]))
        return self._sum_directions(hidden, self.units[1])

    def encode(self, x: Tensor) -> Tensor:
        return self.encode_sequence(x).flatten(1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        latent = self.encode_sequence(x)
        decoded = self.deconv(latent.transpose(1, 2))[..., :x.shape[1]]
        # the transposed convolution with stride = pool restores the length; pad the tail
        if decoded.shape[-1] < x.shape[1]:
            decoded = nn.functional.pad(decoded, (0, x.shape[1] - decoded.shape[-1]))
        return latent.flatten(1), decoded.transpose(1, 2)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

