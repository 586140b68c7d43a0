"""Every clustering method of the comparison, run on the same scaled features.

========================  =====================================================
``kmeans``                k-means on the scaled table (``n_init`` starts)
``agglomerative``         Ward's agglomerative clustering on the scaled table
``dec``                   DEC: dense autoencoder pretrained on reconstruction,
                          then its encoder trained on KL(P ‖ Q) alone
``dtc``                   DTC: temporal autoencoder over each day's cells as a
                          7-channel sequence (how a days × cells × variables
                          array is fed to DTC), reconstruction + KL
``cnn_encoder``           DSC without LSTMs and without decoder: KL alone
``cnn_autoencoder``       DSC without LSTMs: reconstruction + KL
``cnn_rnn_encoder``       DSC without decoder: KL alone
``cnn_rnn_autoencoder``   DSC without clustering layer: the autoencoder trained
                          on reconstruction, then k-means on its latents
``dsc``                   DSC as published: sequences of one day
``dsc_windowed``          DSC over real windows of consecutive days
``dsc_pretrained``        DSC with its autoencoder pretrained (Adam) before the
                          joint phase, which also uses Adam (our modification)
========================  =====================================================

All DSC-family methods share the architecture of ``climate.dsc``. DSC and
``dsc_windowed`` train as DSC's code; the four variants train like
``climate.variants.training_like`` (``dsc_pretrained`` by default: with the
published optimiser no network moves, so an ablation would compare untrained
networks). DEC and DTC keep their own published recipes
(:data:`PUBLISHED_TRAINING`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from sklearn.cluster import AgglomerativeClustering

from cryolearn.climate.features import ClimateFeatures, pad_frames
from cryolearn.climate.models import DenseAutoencoder, DSCAutoencoder, TemporalAutoencoder
from cryolearn.climate.names import DSC_FAMILY, METHODS
from cryolearn.climate.train import (
    DeepResult,
    DeepTraining,
    Samples,
    fit_deep_clustering,
    kmeans_labels,
)
from cryolearn.nn.training import pick_device
from cryolearn.settings import settings_from

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class DSCArchitecture:
    """DSC's network (config ``climate.dsc.architecture``); defaults as published."""

    widths: tuple[int, ...] = (64, 64, 128, 256, 512)
    lstm_units: int = 512
    latent_dim: int = 256
    dropout: float = 0.1
    pad_multiple: int = 16


@dataclass(frozen=True)
class ClusteringRun:
    """The labels of one method and seed, with what the method learnt."""

    method: str
    seed: int
    labels: np.ndarray
    embedding: np.ndarray | None = None
    history: tuple[dict, ...] = ()


#: the published recipes; config ``climate.<method>.training`` overrides single keys
PUBLISHED_TRAINING = {
    # DSC's public code (the DeepTraining defaults)
    "dsc": DeepTraining(),
    # Xie et al. (2016): SGD 0.01 with momentum 0.9, batches of 256, P every 140
    # iterations, stop below 0.1 % label changes, k-means with 20 starts; the
    # stacked-autoencoder pretraining is done end to end with Adam here
    "dec": DeepTraining(epochs=200, pretrain_epochs=50, optimiser="sgd", learning_rate=0.01,
                        momentum=0.9, batch_size=256, update_interval=140, tolerance=0.001,
                        reconstruction_weight=0.0, kmeans_n_init=20),
    # Madiraju et al. (2018) and its public code: 10 pretraining epochs, Adam,
    # batches of 64, reconstruction and KL weighted 1:1
    "dtc": DeepTraining(epochs=50, pretrain_epochs=10, optimiser="adam", learning_rate=1e-3,
                        batch_size=64, update_interval=10, tolerance=0.001, kmeans_n_init=10),
}


def method_settings(name: str, climate: Mapping[str, Any]) -> dict[str, Any]:
    """The part of config section ``climate`` that method ``name`` reads.

    A workflow passes only this to a method's jobs, so that changing one
    method's settings (or the figures, or the seeds) reruns no other method.
    """
    if name not in METHODS:
        raise ValueError(f"unknown clustering method {name!r}; known: {list(METHODS)}")
    sections = {"kmeans": ["kmeans"], "agglomerative": [], "dec": ["dec"], "dtc": ["dtc"],
                "dsc": ["dsc"], "dsc_windowed": ["dsc", "dsc_windowed"],
                "dsc_pretrained": ["dsc", "dsc_pretrained"]}.get(
        name, ["dsc", "dsc_pretrained", "variants"])
    keys = ["n_clusters", "device", *sections]
    return {key: climate[key] for key in keys if key in climate}


def training_for(name: str, settings: Mapping[str, Any]) -> DeepTraining:
    """The training recipe of deep method ``name`` under config section ``settings``.

    DEC and DTC: their published recipe with ``climate.<name>.training`` on top.
    DSC and its windowed form: ``climate.dsc.training`` on DSC's recipe.
    ``dsc_pretrained``: that, with ``climate.dsc_pretrained.training`` on top.
    The four variants: the training of ``climate.variants.training_like`` (``dsc``
    or ``dsc_pretrained``).
    """
    def overridden(base: DeepTraining, section: str) -> DeepTraining:
        values = settings.get(section, {}).get("training", {})
        settings_from(DeepTraining, values, f"climate.{section}.training")  # refuses typos
        return replace(base, **values)

    if name in ("dec", "dtc"):
        return overridden(PUBLISHED_TRAINING[name], name)
    dsc = overridden(PUBLISHED_TRAINING["dsc"], "dsc")
    if name in ("dsc", "dsc_windowed"):
        return dsc
    if name == "dsc_pretrained":
        return overridden(dsc, "dsc_pretrained")
    like = settings.get("variants", {}).get("training_like", "dsc_pretrained")
    return training_for(like, settings)


def _dsc_family(features: ClimateFeatures, name: str, settings: Mapping[str, Any], seed: int,
                device: torch.device) -> DeepResult:
    section = settings["dsc"]
    architecture = settings_from(DSCArchitecture, section.get("architecture", {}),
                                 "climate.dsc.architecture")
    training = training_for(name, settings)
    window = int(settings["dsc_windowed"]["window_days"]) if name == "dsc_windowed" else 1
    recurrent, decoder, clustering = DSC_FAMILY[name]
    if not decoder:
        training = replace(training, reconstruction_weight=0.0, pretrain_epochs=0)
    frames = pad_frames(features.scaled, architecture.pad_multiple)
    samples = Samples(frames, window, device)

    def build() -> DSCAutoencoder:
        return DSCAutoencoder(frames.shape[1], frames.shape[2:], widths=architecture.widths,
                              lstm_units=architecture.lstm_units,
                              latent_dim=architecture.latent_dim, dropout=architecture.dropout,
                              recurrent=recurrent, decoder=decoder)

    return fit_deep_clustering(build, samples, settings["n_clusters"], training, seed,
                               clustering_layer=clustering)


def _dec(features: ClimateFeatures, settings: Mapping[str, Any], seed: int,
         device: torch.device) -> DeepResult:
    section = settings["dec"]
    training = training_for("dec", settings)
    table = features.table
    samples = Samples(table, 0, device)
    dims = tuple(section.get("dims", (500, 500, 2000, 10)))
    return fit_deep_clustering(lambda: DenseAutoencoder(table.shape[1], dims), samples,
                               settings["n_clusters"], training, seed)


def _dtc(features: ClimateFeatures, settings: Mapping[str, Any], seed: int,
         device: torch.device) -> DeepResult:
    section = settings["dtc"]
    training = training_for("dtc", settings)
    pool = int(section.get("pool", 10))
    days, variables = features.scaled.shape[:2]
    sequences = features.scaled.reshape(days, variables, -1).transpose(0, 2, 1)
    tail = (-sequences.shape[1]) % pool
    sequences = np.pad(sequences, ((0, 0), (0, tail), (0, 0)))
    samples = Samples(np.ascontiguousarray(sequences), 0, device)
    units = tuple(section.get("units", (50, 1)))
    return fit_deep_clustering(
        lambda: TemporalAutoencoder(variables, filters=int(section.get("filters", 50)),
                                    kernel=int(section.get("kernel", 10)), pool=pool,
                                    units=units),
        samples, settings["n_clusters"], training, seed)


def run_method(name: str, features: ClimateFeatures, settings: Mapping[str, Any], seed: int
               ) -> ClusteringRun:
    """Cluster the days of ``features`` with method ``name`` (config section ``climate``)."""
    if name not in METHODS:
        raise ValueError(f"unknown clustering method {name!r}; known: {list(METHODS)}")
    k = settings["n_clusters"]
    if name == "kmeans":
        labels, _ = kmeans_labels(features.table, k, settings["kmeans"]["n_init"], seed)
        return ClusteringRun(name, seed, labels)
    if name == "agglomerative":
        labels = AgglomerativeClustering(k, linkage="ward").fit_predict(features.table)
        return ClusteringRun(name, seed, labels)
    torch.set_num_threads(max(1, int(settings.get("threads", 1))))
    device = pick_device(settings.get("device", "auto"))
    if name == "dec":
        result = _dec(features, settings, seed, device)
    elif name == "dtc":
        result = _dtc(features, settings, seed, device)
    else:
        result = _dsc_family(features, name, settings, seed, device)
    return ClusteringRun(name, seed, result.labels, result.embedding, tuple(result.history))
