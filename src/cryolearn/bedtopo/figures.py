"""Figures of the bed-topography workflow: maps, held-out profiles, training curves."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cryolearn.bedtopo.data import read_inputs
from cryolearn.bedtopo.evaluate import block_mean, holdout_from_json, line_profiles
from cryolearn.bedtopo.train import load_run
from cryolearn.io.grids import read_bed

MAX_PROFILES = 4


def _extent_km(grid) -> list[float]:
    x0, y0, x1, y1 = grid.bounds
    return [x0 / 1e3, x1 / 1e3, y0 / 1e3, y1 / 1e3]


def _save(fig: plt.Figure, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_maps(inputs, holdout, beds: Mapping[str, np.ndarray], truth: np.ndarray | None,
              path: str) -> None:
    """Each bed (top) and its error against the truth, or BedMachine without one (bottom)."""
    reference_name = "truth" if truth is not None else "BedMachine"
    reference = truth if truth is not None else inputs.bedmachine["bed"]
    panels = ({"truth": truth} if truth is not None else {}) | dict(beds)
    fig, axes = plt.subplots(2, len(panels), figsize=(3.6 * len(panels), 7), squeeze=False)
    extent = _extent_km(inputs.grid)
    low, high = np.nanpercentile(reference, [1, 99])
    held = holdout.held_out_traces(inputs)
    for ax, (name, bed) in zip(axes[0], panels.items(), strict=True):
        image = ax.imshow(bed, extent=extent, cmap="terrain", vmin=low, vmax=high)
        ax.plot(inputs.radar.x[~held] / 1e3, inputs.radar.y[~held] / 1e3, ",", color="k",
                alpha=0.4)
        ax.plot(inputs.radar.x[held] / 1e3, inputs.radar.y[held] / 1e3, ",", color="red")
        ax.set_title(name)
    fig.colorbar(image, ax=axes[0].tolist(), label="bed elevation (m)", shrink=0.8)
    limit = float(np.nanpercentile(np.abs(beds["bedmachine"] - reference), 98))
    for ax, (name, bed) in zip(axes[1], panels.items(), strict=True):
        if name == "truth":
            ax.axis("off")
            ax.text(0.5, 0.5, "radar lines:\nblack = training\nred = held out",
                    ha="center", va="center", transform=ax.transAxes)
            continue
        error = bed - reference
        image = ax.imshow(error, extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit)
        rmse = float(np.sqrt(np.nanmean(error[inputs.ice] ** 2)))
        ax.set_title(f"{name} − {reference_name}\nRMSE {rmse:.0f} m")
    fig.colorbar(image, ax=axes[1].tolist(), label=f"error against {reference_name} (m)",
                 shrink=0.8)
    for ax in axes.flat:
        ax.set_xlabel("x (km, EPSG:3413)")
    axes[0, 0].set_ylabel("y (km)")
    axes[1, 0].set_ylabel("y (km)")
    _save(fig, path)


def plot_profiles(inputs, holdout, beds: Mapping[str, np.ndarray], truth: np.ndarray | None,
                  path: str) -> None:
    """Bed along each held-out line: radar, truth and every method."""
    profiles = line_profiles(inputs, holdout)
    names = list(profiles)[:MAX_PROFILES]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 3 * len(names)), squeeze=False)
    cell_km = inputs.grid.cell_m / 1e3
    for ax, name in zip(axes[:, 0], names, strict=True):
        rows, cols, radar = profiles[name]
        steps = np.hypot(np.diff(rows), np.diff(cols)) * cell_km
        distance = np.concatenate([[0.0], np.cumsum(steps)])
        ax.plot(distance, radar, ".", color="0.4", ms=2, label="held-out radar")
        if truth is not None:
            ax.plot(distance, truth[rows, cols], color="k", lw=1.5, label="truth")
        for method, bed in beds.items():
            ax.plot(distance, bed[rows, cols], lw=1, label=method)
        ax.set_title(f"held-out line {name}")
        ax.set_ylabel("bed elevation (m)")
    axes[-1, 0].set_xlabel("distance along the line (km)")
    axes[0, 0].legend(ncol=3, fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_training(model_path: str, path: str) -> None:
    """Loss terms per epoch (training and validation patches) of a trained model."""
    run = load_run(model_path)
    epochs = [h["epoch"] for h in run.history]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key, style in (("loss", "-"), ("radar", "--"), ("bedmachine", ":")):
        for split, colour in (("train", "C0"), ("val", "C1")):
            name = f"{split}_{key}"
            axes[0].semilogy(epochs, [h[name] for h in run.history], style, color=colour,
                             label=name)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss (standardised bed²)")
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"DeepTopoNet ({run.protocol} protocol, {run.settings.mode} mode)")
    axes[1].plot(epochs, [h["learning_rate"] for h in run.history], color="C2")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("learning rate at the epoch's end")
    fig.tight_layout()
    _save(fig, path)


def plot_maps_and_profiles(inputs_store: str, holdout_json: str, predictions: Mapping[str, str],
                           truth: str | None, model: str, *, maps: str, profiles: str,
                           training: str) -> None:
    """Rule ``figure_bedtopo``: the three figures."""
    inputs = read_inputs(inputs_store)
    holdout = holdout_from_json(holdout_json, inputs)
    beds = {"bedmachine": inputs.bedmachine["bed"]}
    for name, path in predictions.items():
        bed = read_bed(path)
        beds[name] = block_mean(bed, bed.shape[0] // inputs.grid.shape[0])
    truth_bed = read_bed(truth) if truth else None
    plot_maps(inputs, holdout, beds, truth_bed, maps)
    plot_profiles(inputs, holdout, beds, truth_bed, profiles)
    plot_training(model, training)
