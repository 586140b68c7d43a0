"""Settings of the per-shot 1-D network (:mod:`cryolearn.crevasse.classify.cnn`),
apart from it so that reading a config or loading the trees does not import torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CNNSettings:
    """The network and its training (config ``classifier.cnn``).

    Attributes
    ----------
    channels : filters of the three convolution blocks
    kernel : convolution width, in feature bins
    hidden : units of the dense layer
    epochs, batch_size, learning_rate, weight_decay : Adam's training
    device : ``auto`` (CUDA when present), ``cpu`` or ``cuda``
    """

    channels: tuple[int, int, int] = (16, 32, 32)
    kernel: int = 5
    hidden: int = 64
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"classifier.cnn.device must be auto, cpu or cuda, not "
                             f"{self.device!r}")
        if self.kernel % 2 == 0:
            raise ValueError(f"classifier.cnn.kernel must be odd, not {self.kernel}")
