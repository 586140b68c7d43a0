"""The de-noising, de-shifting waveform autoencoder.

A 1-D Inception-style convolutional autoencoder (Szegedy et al. 2015, in one
dimension): each block runs convolutions of several kernel sizes side by side
and concatenates them, so narrow specular peaks and long multi-peaked crevasse
returns are both seen at their own scale. The encoder pools the record down
16-fold, a dense bottleneck lets the decoder put the return anywhere in the
record (which is what de-shifting needs; there are deliberately no skip
connections, which would carry the input's position through), and the decoder
upsamples back to 544 samples in the library frame.

Training follows the original work: library waveforms of the train split are
degraded afresh for every batch from the empirical distributions of real shots
(:mod:`cryolearn.crevasse.shots.augment`); validation uses the holdout split with one
fixed draw, so the curve measures learning, not luck. Training checkpoints every
epoch and resumes from the last checkpoint of the same configuration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from cryolearn.constants import N_SAMPLES
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    clean_targets,
    degrade,
    network_input,
    read_distributions,
)
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.nn.precision import PRECISIONS, mixed_forward, training_dtype
from cryolearn.nn.training import (
    atomic_torch_save,
    data_digest,
    matching_checkpoint,
    pick_device,
    seed_everything,
)
from cryolearn.signal import relative_leading_edge_ns

log = logging.getLogger(__name__)


class InceptionBlock1d(nn.Module):
    """Parallel convolutions (one per kernel size) and a pooled 1x1 branch, concatenated."""

    def __init__(self, in_channels: int, branch_channels: int,
                 kernel_sizes: Sequence[int] = (3, 7, 15)) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv1d(in_channels, branch_channels, k, padding=k // 2) for k in kernel_sizes
        )
        self.pool_branch = nn.Sequential(nn.MaxPool1d(3, stride=1, padding=1),
                                         nn.Conv1d(in_channels, branch_channels, 1))
        self.out_channels = branch_channels * (len(kernel_sizes) + 1)
        # under mixed precision batch norm stays in bfloat16: in float32, as DeepTopoNet's
        # (cryolearn.nn.precision), the demo's scores were the same and training a third slower
        self.norm = nn.BatchNorm1d(self.out_channels)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_channels, length) → (batch, out_channels, length)."""
        parts = [branch(x) for branch in self.branches] + [self.pool_branch(x)]
        return self.act(self.norm(torch.cat(parts, dim=1)))


@dataclass(frozen=True)
class AutoencoderShape:
    """Architecture of :class:`WaveformAutoencoder`."""

    n_samples: int = N_SAMPLES
    branch_channels: Sequence[int] = (8, 12, 16, 16)
    kernel_sizes: Sequence[int] = (3, 7, 15)
    latent: int = 128

    def __post_init__(self) -> None:
        factor = 2 ** len(self.branch_channels)
        if self.n_samples % factor:
            raise ValueError(f"n_samples {self.n_samples} is not divisible by {factor}, "
                             f"the pooling of {len(self.branch_channels)} levels")


class WaveformAutoencoder(nn.Module):
    """Degraded, unit-peak waveform in; clean, unit-peak waveform in the library frame out."""

    def __init__(self, shape: AutoencoderShape | None = None) -> None:
        super().__init__()
        self.shape = shape or AutoencoderShape()
        s = self.shape
        encoder, channels = [], 1
        for branch in s.branch_channels:
            block = InceptionBlock1d(channels, branch, s.kernel_sizes)
            encoder += [block, nn.MaxPool1d(2)]
            channels = block.out_channels
        self.encoder = nn.Sequential(*encoder)
        self.bottom_channels = channels
        self.bottom_length = s.n_samples // 2 ** len(s.branch_channels)
        flat = channels * self.bottom_length
        self.bottleneck = nn.Sequential(nn.Flatten(), nn.Linear(flat, s.latent), nn.GELU(),
                                        nn.Linear(s.latent, flat), nn.GELU())
        decoder = []
        for branch in reversed(s.branch_channels):
            block = InceptionBlock1d(channels, branch, s.kernel_sizes)
            decoder += [nn.Upsample(scale_factor=2, mode="linear", align_corners=False), block]
            channels = block.out_channels
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Conv1d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_samples) → (batch, n_samples)."""
        h = self.encoder(x.unsqueeze(1))
        h = self.bottleneck(h).view(-1, self.bottom_channels, self.bottom_length)
        return self.head(self.decoder(h)).squeeze(1)


@dataclass
class TrainingConfig:
    """Hyper-parameters of autoencoder training (see ``config/README.md``)."""

    epochs: int = 15
    batches_per_epoch: int = 40
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    target_sigma_bins: float = 0.8
    validation_size: int = 512
    seed: int = 0
    shape: dict = field(default_factory=dict)
    precision: str = "auto"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"autoencoder.precision must be one of {PRECISIONS}, "
                             f"got {self.precision!r}")

    def fingerprint(self, data_digest: str) -> str:
        """Identifies a training run: a checkpoint resumes only the same run.

        ``data_digest`` identifies the training data (library waveforms and the
        empirical distributions); the epoch count is left out so that raising it
        continues a finished run.
        """
        text = json.dumps({**asdict(self), "epochs": None, "data": data_digest},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def cosine_learning_rate(base: float, epoch: int, epochs: int) -> float:
    """Learning rate of an epoch (1-based) under cosine decay to 5 % of ``base``.

    A function of the epoch alone, so a resumed run follows the same schedule.
    """
    progress = (epoch - 1) / max(1, epochs - 1)
    return base * (0.05 + 0.95 * 0.5 * (1.0 + np.cos(np.pi * progress)))


def training_pair(clean: np.ndarray, dist: EmpiricalDistributions, rng: np.random.Generator,
                  target_sigma_bins: float) -> tuple[np.ndarray, np.ndarray]:
    """One degraded input batch (unit peak) and its clean targets."""
    degraded, _ = degrade(clean, dist, rng)
    return network_input(degraded), clean_targets(clean, target_sigma_bins)


@dataclass
class TrainingState:
    """What a checkpoint holds besides the weights."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    rng_state: dict | None = None


def _save_checkpoint(path: Path, model: nn.Module, optimiser: torch.optim.Optimizer,
                     state: TrainingState, fingerprint: str) -> None:
    atomic_torch_save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "epoch": state.epoch, "history": state.history,
                        "rng_state": state.rng_state, "torch_rng": torch.get_rng_state(),
                        "fingerprint": fingerprint}, path)


def _load_checkpoint(path: Path, model: nn.Module, optimiser: torch.optim.Optimizer,
                     fingerprint: str) -> TrainingState | None:
    saved = matching_checkpoint(path, fingerprint)
    if saved is None:
        return None
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    torch.set_rng_state(saved["torch_rng"])
    return TrainingState(saved["epoch"], saved["history"], saved["rng_state"])


def train_autoencoder(
    train_clean: np.ndarray,
    holdout_clean: np.ndarray,
    dist: EmpiricalDistributions,
    config: TrainingConfig,
    *,
    checkpoint: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
    stop_after_epochs: int | None = None,
) -> tuple[WaveformAutoencoder, TrainingState]:
    """Train the autoencoder on fresh degradations of library waveforms.

    Parameters
    ----------
    train_clean : (n, 544) library waveforms of the train split
    holdout_clean : (h, 544) library waveforms of the holdout split (validation)
    dist : empirical distributions of real shots
    config : hyper-parameters and seed
    checkpoint : file written after every epoch; when it exists and belongs to
        the same configuration, training resumes after its last epoch
    device : ``auto``, ``cpu`` or ``cuda``
    progress : show a progress bar per epoch
    stop_after_epochs : train at most this many epochs in this call, then return
        (a wall-time-limited job; the next call resumes from the checkpoint)

    Returns
    -------
    the trained model (on the CPU, in eval mode) and the training state with the
    loss history (one dict per epoch: epoch, train_loss, val_loss, seconds)
    """
    if len(train_clean) == 0 or len(holdout_clean) == 0:
        raise ValueError("training needs library waveforms in both the train and holdout split")
    seed_everything(config.seed)
    dev = pick_device(device)
    dtype = training_dtype(config.precision, dev)
    model = WaveformAutoencoder(AutoencoderShape(n_samples=train_clean.shape[1],
                                                 **config.shape)).to(dev)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    fingerprint = config.fingerprint(data_digest(
        train_clean, dist.noise, dist.amplitude_v, dist.width_ns, dist.leading_edge_ns,
        dist.background_v))
    ckpt = Path(checkpoint) if checkpoint else None
    state = (_load_checkpoint(ckpt, model, optimiser, fingerprint) if ckpt else None)
    if state is None:
        state = TrainingState()
    else:
        log.info("resuming from %s after epoch %d", ckpt, state.epoch)
    rng = np.random.default_rng(config.seed)
    if state.rng_state is not None:
        rng.bit_generator.state = state.rng_state

    val_rng = np.random.default_rng([config.seed, 1])
    val_pick = val_rng.choice(len(holdout_clean), min(config.validation_size, len(holdout_clean)),
                              replace=False)
    val_x, val_y = training_pair(holdout_clean[val_pick], dist, val_rng, config.target_sigma_bins)
    val_x, val_y = torch.from_numpy(val_x).to(dev), torch.from_numpy(val_y).to(dev)
    loss_fn = nn.MSELoss()

    last = config.epochs if stop_after_epochs is None else min(
        config.epochs, state.epoch + stop_after_epochs)
    for epoch in range(state.epoch + 1, last + 1):
        started = time.perf_counter()
        for group in optimiser.param_groups:
            group["lr"] = cosine_learning_rate(config.learning_rate, epoch, config.epochs)
        model.train()
        total = 0.0
        for _ in tqdm(range(config.batches_per_epoch), desc=f"epoch {epoch}/{config.epochs}",
                      unit="batch", disable=not progress, leave=False):
            pick = rng.integers(0, len(train_clean), config.batch_size)
            x, y = training_pair(train_clean[pick], dist, rng, config.target_sigma_bins)
            x, y = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(mixed_forward(model, x, dtype), y)
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        val_loss = _validation_loss(model, val_x, val_y, loss_fn)
        state.epoch = epoch
        state.history.append({"epoch": epoch, "train_loss": total / config.batches_per_epoch,
                              "val_loss": val_loss,
                              "seconds": round(time.perf_counter() - started, 3)})
        state.rng_state = rng.bit_generator.state
        log.info("epoch %d: train %.5f, validation %.5f", epoch,
                 state.history[-1]["train_loss"], val_loss)
        if ckpt:
            _save_checkpoint(ckpt, model, optimiser, state, fingerprint)
    model = model.cpu().eval()
    return model, state


@torch.no_grad()
def _validation_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn,
                     batch_size: int = 256) -> float:
    """Mean loss over the validation set, in batches (the mean of equal-weight samples)."""
    model.eval()
    total = 0.0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
        total += float(loss_fn(model(xb), yb)) * len(xb)
    return total / len(x)


def save_model(path: str | Path, model: WaveformAutoencoder, state: TrainingState,
               metadata: dict) -> None:
    """Write weights, architecture, loss history and metadata; atomically."""
    atomic_torch_save({"model": model.state_dict(), "shape": asdict(model.shape),
                        "history": state.history, "epochs": state.epoch, "metadata": metadata,
                        "torch_version": torch.__version__}, path)


def load_model(path: str | Path) -> tuple[WaveformAutoencoder, dict]:
    """Read a model written by :func:`save_model`; returns the model (eval mode) and the file."""
    saved = torch.load(Path(path), map_location="cpu", weights_only=False)
    model = WaveformAutoencoder(AutoencoderShape(**saved["shape"]))
    model.load_state_dict(saved["model"])
    return model.eval(), saved


@torch.no_grad()
def denoise(model: WaveformAutoencoder, signal_v: np.ndarray, batch_size: int = 1024,
            device: str = "auto") -> np.ndarray:
    """Clean background-subtracted shots: unit-peak waveforms in the library frame.

    Parameters
    ----------
    model : a trained autoencoder
    signal_v : (n, 544) background-subtracted waveforms (any scale)

    Returns
    -------
    (n, 544) float32
    """
    dev = pick_device(device)
    model = model.to(dev).eval()
    x = network_input(signal_v)
    out = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        batch = torch.from_numpy(x[start:start + batch_size]).to(dev)
        out[start:start + batch_size] = model(batch).cpu().numpy()
    return out


def library_split(library_store: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Waveforms of the library's train and holdout splits."""
    group = open_group(library_store)
    split = np.asarray(group["split"][:], dtype=object)
    waveforms = group["waveform"][:]
    return waveforms[split == "train"], waveforms[split == "holdout"]


def training_config(settings: dict) -> tuple[TrainingConfig, str]:
    """TrainingConfig and device from the ``autoencoder`` config section."""
    keys = set(TrainingConfig.__dataclass_fields__)
    config = TrainingConfig(**{k: v for k, v in settings.items() if k in keys})
    return config, str(settings.get("device", "auto"))


def train_from_stores(
    library_store: str | Path,
    distributions_store: str | Path,
    out_model: str | Path,
    settings: dict,
    *,
    checkpoint: str | Path | None = None,
    threads: int = 1,
) -> TrainingState:
    """Train on a library store with a distributions store; write the model file.

    Parameters
    ----------
    library_store : ``results/library.zarr``
    distributions_store : ``results/augment/distributions.zarr``
    out_model : ``results/models/autoencoder.pt``
    settings : the ``autoencoder`` config section
    checkpoint : per-epoch checkpoint (resumed when it matches this run)
    threads : CPU threads for torch
    """
    torch.set_num_threads(max(1, threads))
    train, holdout = library_split(library_store)
    dist = read_distributions(distributions_store)
    config, device = training_config(settings)
    dev = pick_device(device)
    dtype = training_dtype(config.precision, dev)
    log.info("training on %d library waveforms, validating on %d; device %s, %s products",
             len(train), len(holdout), dev, dtype)
    model, state = train_autoencoder(train, holdout, dist, config, checkpoint=checkpoint,
                                     device=device)
    save_model(out_model, model, state, {
        "library": str(library_store), "distributions": str(distributions_store),
        "n_train": len(train), "n_holdout": len(holdout), "training": asdict(config),
        "device": str(dev), "precision": str(dtype),
    })
    return state


def denoise_store(model_path: str | Path, shots_store: str | Path, out_store: str | Path,
                  *, device: str = "auto") -> int:
    """Clean every shot of a shots store into ``results/denoised/{campaign}.zarr``.

    The store holds ``waveform[shot, sample]`` (unit peak, library frame),
    ``shift_ns`` (how far the autoencoder moved the leading edge), ``snr`` (peak
    over background noise) and the shots' ``x``, ``y``, ``lat``, ``lon``, ``time``,
    ``rec_ndx`` and ``shot_count``.
    """
    model, saved = load_model(model_path)
    shots = open_group(shots_store)
    signal = background_subtracted(shots["waveform"][:], shots["background_mean"][:])
    cleaned = denoise(model, signal, device=device)
    # both edges at 10 % of each waveform's own peak, so gain does not matter
    shift = relative_leading_edge_ns(cleaned) - relative_leading_edge_ns(signal)
    snr = signal.max(axis=1, initial=0.0) / np.maximum(shots["background_sd"][:], 1e-6)
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {"campaign": shots.attrs.get("campaign", ""),
                                   "model": str(model_path), "epochs": saved["epochs"]})
        write_array(group, "waveform", cleaned, ("shot", "sample"),
                    {"units": "unit peak", "frame": "library: highest point at lead_ns"},
                    chunk_rows=1024)
        write_array(group, "shift_ns", shift, ("shot",), {"units": "ns"}, dtype=np.float32)
        write_array(group, "snr", snr, ("shot",), dtype=np.float32)
        for name in ("x", "y", "lat", "lon", "time", "rec_ndx", "shot_count"):
            write_array(group, name, shots[name][:], ("shot",), dict(shots[name].attrs))
    log.info("%s: %d shots cleaned", out_store, len(signal))
    return len(signal)
