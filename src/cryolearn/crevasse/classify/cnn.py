"""A small 1-D convolutional network on aligned waveforms: the trees' alternative.

The network sees the same features as the trees
(:func:`~cryolearn.crevasse.classify.training.shot_features`): the binned,
leading-edge-aligned waveform as a one-channel sequence, through three
convolution blocks, and the record's scalar features joined to the flattened
result before two dense layers. Position is kept (no global pooling): after
alignment, *where* energy arrives after the leading edge is the signal.

It trains with Adam on the binary cross-entropy, on the GPU when one is present
(``device: auto``), and is deterministic for a seed on one device. Its score is
calibrated downstream exactly like the trees'. The comparison that decided the
default is in the README ("Per-shot skill") and ``results/eval/crevasse_ablation.json``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from cryolearn.crevasse.classify.cnn_settings import CNNSettings

log = logging.getLogger(__name__)


def torch_device(name: str) -> torch.device:
    """The device a setting names (``auto``: CUDA when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class WaveformNet(nn.Module):
    """Convolutions over the binned waveform, the scalars joined before the dense layers."""

    def __init__(self, n_bins: int, n_scalars: int, settings: CNNSettings) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous, length = 1, n_bins
        for width in settings.channels:
            layers += [nn.Conv1d(previous, width, settings.kernel, padding=settings.kernel // 2),
                       nn.ReLU(), nn.MaxPool1d(2)]
            previous, length = width, length // 2
        self.convolutions = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(previous * length + n_scalars, settings.hidden),
                                  nn.ReLU(), nn.Linear(settings.hidden, 1))

    def forward(self, waveform: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        """Logit of crevasse for (batch, bins) waveforms and (batch, scalars) scalars."""
        seen = self.convolutions(waveform[:, None, :]).flatten(1)
        return self.head(torch.cat([seen, scalars], dim=1))[:, 0]


class CNNScorer:
    """Fit and score like a scikit-learn classifier: ``fit``, ``predict_proba``.

    Parameters
    ----------
    n_scalars : trailing feature columns that are scalars, not waveform bins
    settings : the network and its training
    seed : seeds the weights and the batches
    """

    def __init__(self, n_scalars: int, settings: CNNSettings, seed: int) -> None:
        self.n_scalars = n_scalars
        self.settings = settings
        self.seed = seed
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.net: WaveformNet | None = None
        self.n_iter_ = 0  # epochs trained, named as scikit-learn's estimators name it

    def _standardised(self, features: np.ndarray) -> np.ndarray:
        assert self.mean is not None and self.scale is not None
        return ((np.asarray(features, np.float64) - self.mean) / self.scale).astype(np.float32)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, : x.shape[1] - self.n_scalars], x[:, x.shape[1] - self.n_scalars:]

    def fit(self, features: np.ndarray, label: np.ndarray) -> CNNScorer:
        """Train on feature rows and 0/1 labels."""
        s = self.settings
        features = np.asarray(features, np.float64)
        # one scale for all waveform bins keeps their shape; each scalar gets its own
        bins = features[:, : features.shape[1] - self.n_scalars]
        scalars = features[:, features.shape[1] - self.n_scalars:]
        self.mean = np.concatenate([np.full(bins.shape[1], bins.mean()), scalars.mean(0)])
        self.scale = np.concatenate([np.full(bins.shape[1], bins.std()), scalars.std(0)])
        self.scale[self.scale == 0] = 1.0
        device = torch_device(s.device)
        torch.manual_seed(self.seed)
        self.net = WaveformNet(bins.shape[1], self.n_scalars, s).to(device)
        x = torch.from_numpy(self._standardised(features)).to(device)
        y = torch.from_numpy(np.asarray(label, np.float32)).to(device)
        optimiser = torch.optim.Adam(self.net.parameters(), lr=s.learning_rate,
                                     weight_decay=s.weight_decay)
        loss_of = nn.BCEWithLogitsLoss()
        batches = torch.Generator().manual_seed(self.seed)
        self.net.train()
        for _ in range(s.epochs):
            order = torch.randperm(len(y), generator=batches).to(device)
            for start in range(0, len(y), s.batch_size):
                rows = order[start:start + s.batch_size]
                optimiser.zero_grad()
                loss = loss_of(self.net(*self._split(x[rows])), y[rows])
                loss.backward()
                optimiser.step()
            self.n_iter_ += 1
        self.net.eval()
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n, 2) probabilities of not crevasse and crevasse."""
        if self.net is None:
            raise RuntimeError("the network is not trained: call fit first")
        device = next(self.net.parameters()).device
        x = torch.from_numpy(self._standardised(features))
        out = []
        with torch.no_grad():
            for start in range(0, len(x), 4096):
                chunk = x[start:start + 4096].to(device)
                out.append(torch.sigmoid(self.net(*self._split(chunk))).cpu().numpy())
        p = np.concatenate(out).astype(np.float64) if out else np.zeros(0)
        return np.stack([1 - p, p], axis=1)

    def __getstate__(self) -> dict[str, Any]:
        """Plain values and CPU weights, so that a model trained on a GPU loads anywhere."""
        state = dict(self.__dict__)
        if self.net is not None:
            state["net"] = {k: v.cpu() for k, v in self.net.state_dict().items()}
            state["n_bins"] = int(len(self.mean) - self.n_scalars)  # type: ignore[arg-type]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("net")
        n_bins = state.pop("n_bins", None)
        self.__dict__.update(state)
        self.net = None
        if weights is not None:
            self.net = WaveformNet(int(n_bins), self.n_scalars, self.settings)
            self.net.load_state_dict(weights)
            self.net.to(torch_device(self.settings.device)).eval()
