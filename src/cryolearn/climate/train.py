"""Training of the deep clustering methods: pretraining, k-means centres, joint loss.

One procedure covers DSC, its variants, DEC and DTC; they differ in network,
in which losses are on, and in the optimiser:

1. optional pretraining of the autoencoder on reconstruction alone (Adam);
   DSC's public code has none (``pretrain_epochs: 0``);
2. cluster centres from k-means on the embeddings of all samples (DSC: the
   untrained encoder, ``n_init`` 30);
3. joint training: ``reconstruction_weight`` · MSE + ``clustering_weight`` ·
   KL(P ‖ Q), in mini-batches; every ``update_interval`` iterations the
   target P is recomputed on all samples, and training stops once fewer than
   ``tolerance`` of the labels changed since the last update.

Without a clustering layer (the CNN-RNN autoencoder variant) step 3 trains the
reconstruction alone, and the labels are k-means on the final embeddings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import Tensor, nn
from tqdm import tqdm

from cryolearn.nn.clustering import StudentTAssignment, kl_clustering_loss, target_distribution
from cryolearn.nn.training import seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeepTraining:
    """How one deep method is trained (config ``climate.<method>.training``).

    The defaults are DSC's public code: no pretraining, SGD with learning rate
    1e-7 and momentum 0.9, batches of 8, P updated every 50 iterations,
    tolerance 1e-7, MSE and KL weighted 1:1, k-means with 30 starts.
    """

    epochs: int = 20
    pretrain_epochs: int = 0
    pretrain_learning_rate: float = 1e-3
    optimiser: str = "sgd"
    learning_rate: float = 1e-7
    momentum: float = 0.9
    batch_size: int = 8
    update_interval: int = 50
    tolerance: float = 1e-7
    reconstruction_weight: float = 1.0
    clustering_weight: float = 1.0
    kmeans_n_init: int = 30


@dataclass
class DeepResult:
    """Labels, embeddings and what training did."""

    labels: np.ndarray
    embedding: np.ndarray
    assignments: np.ndarray | None
    history: list[dict] = field(default_factory=list)


class Samples:
    """The inputs of a network, built batch by batch from a stored array.

    Parameters
    ----------
    values : (n, ...) float32 array of per-day inputs
    window : consecutive days per sample (DSC's sequence length); the first
        days repeat day 0 to fill their window. 0: samples are ``values``
        rows as they are (no sequence axis).
    device : where batches go
    """

    def __init__(self, values: np.ndarray, window: int, device: torch.device) -> None:
        self.values = torch.as_tensor(values)
        self.window = window
        self.device = device

    def __len__(self) -> int:
        return len(self.values)

    def batch(self, indices: np.ndarray) -> Tensor:
        """Inputs of samples ``indices``: (b, window, ...) or (b, ...)."""
        if self.window == 0:
            return self.values[indices].to(self.device)
        offsets = np.arange(-self.window + 1, 1)
        days = np.clip(np.asarray(indices)[:, None] + offsets[None], 0, None)
        return self.values[days].to(self.device)

    def batches(self, batch_size: int) -> list[np.ndarray]:
        """All samples in order, in batches."""
        return np.array_split(np.arange(len(self)), max(1, int(np.ceil(len(self) / batch_size))))


@torch.no_grad()
def embed_all(model: nn.Module, samples: Samples, batch_size: int = 64) -> Tensor:
    """Embeddings of every sample, in evaluation mode."""
    model.eval()
    return torch.cat([model.encode(samples.batch(b)) for b in samples.batches(batch_size)])


def _optimiser(parameters, settings: DeepTraining) -> torch.optim.Optimizer:
    if settings.optimiser == "sgd":
        return torch.optim.SGD(parameters, lr=settings.learning_rate, momentum=settings.momentum)
    if settings.optimiser == "adam":
        return torch.optim.Adam(parameters, lr=settings.learning_rate)
    raise ValueError(f"optimiser must be sgd or adam, not {settings.optimiser!r}")


def _reconstruction(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    z, decoded = model(x)
    return z, nn.functional.mse_loss(decoded, x)


def _epoch_order(n: int, rng: np.random.Generator, batch_size: int) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_reconstruction(model: nn.Module, samples: Samples, epochs: int,
                         optimiser: torch.optim.Optimizer, batch_size: int,
                         rng: np.random.Generator, phase: str) -> list[dict]:
    """Train on reconstruction alone; one history record per epoch."""
    history = []
    for epoch in tqdm(range(epochs), desc=phase, unit="epoch", leave=False):
        model.train()
        losses = []
        for indices in _epoch_order(len(samples), rng, batch_size):
            x = samples.batch(indices)
            _, loss = _reconstruction(model, x)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        history.append({"phase": phase, "epoch": epoch, "reconstruction": float(np.mean(losses)),
                        "clustering": None, "total": float(np.mean(losses))})
        log.info("%s epoch %d: reconstruction %.6g", phase, epoch, history[-1]["total"])
    return history


def kmeans_labels(embedding: np.ndarray, n_clusters: int, n_init: int, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """k-means labels and centres (float64 for reproducible sums)."""
    kmeans = KMeans(n_clusters, n_init=n_init, random_state=seed)
    labels = kmeans.fit_predict(embedding.astype(np.float64))
    return labels, kmeans.cluster_centers_


class _Targets:
    """P on all samples, recomputed every ``update_interval`` iterations."""

    def __init__(self, model: nn.Module, layer: StudentTAssignment, samples: Samples) -> None:
        self.model, self.layer, self.samples = model, layer, samples
        self.labels: np.ndarray | None = None
        self.p: Tensor | None = None

    def update(self) -> float:
        """Recompute P; return the share of labels that changed (1 on the first call)."""
        with torch.no_grad():
            q = self.layer(embed_all(self.model, self.samples))
        labels = q.argmax(dim=1).cpu().numpy()
        changed = 1.0 if self.labels is None else float(np.mean(labels != self.labels))
        self.labels, self.p = labels, target_distribution(q)
        return changed


def train_joint(model: nn.Module, layer: StudentTAssignment, samples: Samples,
                settings: DeepTraining, rng: np.random.Generator) -> list[dict]:
    """The joint phase (step 3); stops early at the tolerance."""
    use_decoder = settings.reconstruction_weight > 0 and model.has_decoder
    optimiser = _optimiser(list(model.parameters()) + list(layer.parameters()), settings)
    targets = _Targets(model, layer, samples)
    history, iteration = [], 0
    for epoch in tqdm(range(settings.epochs), desc="joint", unit="epoch", leave=False):
        sums = {"reconstruction": [], "clustering": [], "total": []}
        for indices in _epoch_order(len(samples), rng, settings.batch_size):
            if iteration % settings.update_interval == 0:
                changed = targets.update()
                if iteration > 0 and changed < settings.tolerance:
                    log.info("stopping at iteration %d: %.3g of labels changed (< %g)",
                             iteration, changed, settings.tolerance)
                    return history
            model.train()
            x = samples.batch(indices)
            z, reconstruction = (_reconstruction(model, x) if use_decoder
                                 else (model.encode(x), torch.zeros((), device=x.device)))
            clustering = kl_clustering_loss(layer(z), targets.p[torch.as_tensor(indices)])
            total = (settings.reconstruction_weight * reconstruction
                     + settings.clustering_weight * clustering)
            optimiser.zero_grad()
            total.backward()
            optimiser.step()
            iteration += 1
            for name, value in (("reconstruction", reconstruction), ("clustering", clustering),
                                ("total", total)):
                sums[name].append(value.item())
        history.append({"phase": "joint", "epoch": epoch,
                        **{name: float(np.mean(v)) for name, v in sums.items()}})
        log.info("joint epoch %d: %s", epoch, history[-1])
    return history


def fit_deep_clustering(build_model: Callable[[], nn.Module], samples: Samples,
                        n_clusters: int, settings: DeepTraining, seed: int, *,
                        clustering_layer: bool = True) -> DeepResult:
    """Train one deep clustering method and label every sample.

    Parameters
    ----------
    build_model : makes the network (called after seeding, so weights follow ``seed``)
    samples : the inputs
    n_clusters : k
    settings : the training recipe
    seed : seeds the weights, the batch order and k-means
    clustering_layer : False for an autoencoder clustered afterwards by k-means
    """
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    model = build_model().to(samples.device)
    history: list[dict] = []
    if settings.pretrain_epochs and model.has_decoder:
        optimiser = torch.optim.Adam(model.parameters(), lr=settings.pretrain_learning_rate)
        history += train_reconstruction(model, samples, settings.pretrain_epochs, optimiser,
                                        settings.batch_size, rng, "pretrain")
    if not clustering_layer:
        optimiser = _optimiser(model.parameters(), settings)
        history += train_reconstruction(model, samples, settings.epochs, optimiser,
                                        settings.batch_size, rng, "autoencoder")
        embedding = embed_all(model, samples).cpu().numpy()
        labels, _ = kmeans_labels(embedding, n_clusters, settings.kmeans_n_init, seed)
        return DeepResult(labels, embedding, None, history)
    embedding = embed_all(model, samples).cpu().numpy()
    _, centres = kmeans_labels(embedding, n_clusters, settings.kmeans_n_init, seed)
    layer = StudentTAssignment(n_clusters, embedding.shape[1]).to(samples.device)
    with torch.no_grad():
        layer.centres.copy_(torch.as_tensor(centres, dtype=layer.centres.dtype))
    history += train_joint(model, layer, samples, settings, rng)
    embedding_tensor = embed_all(model, samples)
    with torch.no_grad():
        q = layer(embedding_tensor).cpu().numpy()
    return DeepResult(q.argmax(axis=1), embedding_tensor.cpu().numpy(), q, history)
