"""``BedTopoCNN``: DeepTopoNet's residual CNN, with an optional sub-grid output head.

Five residual blocks (3×3 convolution, batch norm, ReLU, 2-D dropout, 3×3
convolution, batch norm, a 1×1 projection on the skip path where the width
changes, ReLU after the sum), widths 32, 64, 128, 128, 256, no pooling, and a
1×1 convolution to the bed. With ``upscale`` f > 1 that convolution gives f²
channels rearranged (pixel shuffle) into an f-times finer grid.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import Tensor, nn

from cryolearn.nn.precision import BatchNorm2d

ORIGINAL_WIDTHS = (32, 64, 128, 128, 256)


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-dropout-conv-BN plus skip, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Dropout2d(dropout),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            BatchNorm2d(out_channels),
        )
        self.skip = (nn.Identity() if in_channels == out_channels else nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1), BatchNorm2d(out_channels)))

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.relu(self.body(x) + self.skip(x))


class BedTopoCNN(nn.Module):
    """The residual CNN mapping feature channels to bed elevation (standardised units).

    Parameters
    ----------
    in_channels : feature channels (90 in the original)
    widths : output widths of the residual blocks
    dropout : 2-D dropout probability inside each block
    upscale : output cells per input cell along each axis
    """

    def __init__(self, in_channels: int = 90, widths: Sequence[int] = ORIGINAL_WIDTHS,
                 dropout: float = 0.2, upscale: int = 1) -> None:
        super().__init__()
        channels = [in_channels, *widths]
        self.blocks = nn.Sequential(*(ResidualBlock(a, b, dropout)
                                      for a, b in itertools.pairwise(channels)))
        self.head = nn.Conv2d(channels[-1], upscale * upscale, 1)
        self.shuffle = nn.PixelShuffle(upscale) if upscale > 1 else nn.Identity()
        self.upscale = upscale

    @property
    def halo(self) -> int:
        """Receptive-field radius in input cells (two 3×3 convolutions per block)."""
        return 2 * len(self.blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.head(self.blocks(x)))
