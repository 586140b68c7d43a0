"""Figures of the crevasse pipeline: the waveform library, autoencoder training, cleaned shots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LightSource

from cryolearn.crevasse.augment import background_subtracted, network_input
from cryolearn.io.zarrstore import open_group
from cryolearn.signal import rms_width_ns


def pick_examples_by_class(
    class_fraction: np.ndarray, class_names: Sequence[str], min_share: float = 0.3
) -> list[tuple[str, int, float]]:
    """For each class, the tile where it has the largest footprint share.

    Returns (class name, tile index, share) for the classes whose best share is
    at least ``min_share``.
    """
    picks = []
    for code, name in enumerate(class_names):
        best = int(np.argmax(class_fraction[:, code]))
        share = float(class_fraction[best, code])
        if share >= min_share:
            picks.append((name, best, share))
    return picks


def pick_examples_by_width(waveforms: np.ndarray, n: int = 6) -> list[tuple[str, int, float]]:
    """Without truth: tiles spread over the quantiles of waveform RMS width."""
    width = rms_width_ns(waveforms)
    order = np.argsort(width)
    picks = []
    for q in np.linspace(0.02, 0.98, n):
        i = int(order[int(q * (len(order) - 1))])
        picks.append((f"width {width[i]:.1f} ns (q{q:.2f})", i, float(width[i])))
    return picks


def plot_library_examples(
    library: str | Path,
    out_png: str | Path,
    truth_stores: Sequence[str | Path] = (),
    time_window_ns: float = 200.0,
) -> list[tuple[str, int, float]]:
    """Sample tiles beside their simulated waveforms, one row per surface class.

    With truth stores (synthetic worlds), one example per surface class: the
    library tile where that class covers the largest share of the footprint.
    Without truth, tiles spread over the range of waveform widths.

    Returns the picks: (label, library index, share or width).
    """
    lib = open_group(library)
    hashes = lib["hash"][:]
    waveforms = lib["waveform"][:]
    if truth_stores:
        fractions, names = _truth_for_hashes(truth_stores, hashes)
        picks = pick_examples_by_class(fractions, names, min_share=0.05)
    else:
        picks = pick_examples_by_width(waveforms)
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 2.3 * len(picks)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 2.2]})
    shade = LightSource(azdeg=315, altdeg=35)
    t = np.arange(waveforms.shape[1])
    for row, (label, index, value) in enumerate(picks):
        tile = lib["elevation"][index]
        ax_img, ax_wf = axes[row]
        ax_img.imshow(shade.shade(tile, plt.cm.Blues_r, vert_exag=2.0, dx=0.5, dy=0.5,
                                  blend_mode="overlay"), extent=(0, 100, 0, 100))
        ax_img.set_title(f"{label}" + (f" ({value:.0%})" if truth_stores else ""), fontsize=9)
        ax_img.set_xlabel("m", fontsize=8)
        ax_img.tick_params(labelsize=7)
        ax_wf.plot(t, waveforms[index], color="k", lw=1.2)
        ax_wf.set_xlim(0, time_window_ns)
        ax_wf.set_ylabel("energy / ns", fontsize=8)
        ax_wf.tick_params(labelsize=7)
        ax_wf.text(0.98, 0.85, f"relief {np.ptp(tile):.1f} m\nRMS width "
                   f"{rms_width_ns(waveforms[index:index + 1])[0]:.1f} ns",
                   transform=ax_wf.transAxes, ha="right", va="top", fontsize=8)
    axes[-1, 1].set_xlabel("time after record start (ns); 1 ns = 0.15 m")
    fig.suptitle("Simulated GLAS waveforms of library tiles", fontsize=11)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return picks


def _truth_for_hashes(truth_stores, hashes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class fractions of the library tiles, joined on hash from per-flight truth."""
    lookup: dict[str, np.ndarray] = {}
    names: list[str] = []
    for path in truth_stores:
        group = open_group(path)
        names = json.loads(group.attrs["classes"])
        if group["hash"].shape[0] == 0:
            continue
        for h, f in zip(group["hash"][:], group["class_fraction"][:], strict=True):
            lookup.setdefault(str(h), f)
    fractions = np.array([lookup.get(str(h), np.zeros(len(names))) for h in hashes])
    return fractions, names


def plot_training_history(history: Sequence[dict], out_png: str | Path) -> None:
    """Training and validation loss per epoch (log scale)."""
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.semilogy(epochs, [h["train_loss"] for h in history], "o-", label="training (fresh draws)")
    ax.semilogy(epochs, [h["val_loss"] for h in history], "s-", label="validation (holdout)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error (unit-peak waveforms)")
    ax.set_title("Waveform autoencoder training")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(out_png, dpi=150)
    plt.close(fig)


def pick_shots_to_show(snr: np.ndarray, n: int = 6) -> np.ndarray:
    """Shots spread over the signal-to-noise range, weakest to strongest."""
    order = np.argsort(snr)
    if len(order) <= n:
        return order
    return order[np.linspace(0, len(order) - 1, n).round().astype(int)]


def plot_cleaned_shots(
    shot_stores: Sequence[str | Path],
    denoised_stores: Sequence[str | Path],
    out_png: str | Path,
    *,
    labels: Sequence[str],
    per_campaign: int = 3,
    max_campaigns: int = 3,
    time_window_ns: float = 200.0,
) -> None:
    """Raw shots (red, where the gate put them) beside their cleaned versions (black).

    The raw shot is background-subtracted and scaled to unit peak; the cleaned
    one is in the library frame, so the two panels of a row have their own time
    axes. At most ``max_campaigns`` campaigns are shown: the first, the last and
    those evenly between.
    """
    shown = np.unique(np.linspace(0, len(labels) - 1, min(len(labels), max_campaigns))
                      .round().astype(int))
    rows = []
    for k in shown:
        label, shots_path, clean_path = labels[k], shot_stores[k], denoised_stores[k]
        shots, cleaned = open_group(shots_path), open_group(clean_path)
        if shots["waveform"].shape[0] == 0:
            continue
        snr = cleaned["snr"][:]
        for i in pick_shots_to_show(snr, per_campaign):
            raw = network_input(background_subtracted(shots["waveform"][i:i + 1],
                                                      shots["background_mean"][i:i + 1]), 0.0)
            rows.append((label, int(i), raw[0], cleaned["waveform"][i], float(snr[i])))
    if not rows:
        raise ValueError("no shots to show: every shot store is empty")
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 1.6 * len(rows)), squeeze=False,
                             constrained_layout=True)
    for (label, i, raw, clean, snr), (ax_raw, ax_clean) in zip(rows, axes, strict=True):
        t = np.arange(raw.size)
        ax_raw.plot(t, raw, color="tab:red", lw=0.8)
        ax_raw.set_ylabel(f"{label} #{i}\nSNR {snr:.0f}", fontsize=7)
        ax_clean.plot(t[:int(time_window_ns)], clean[:int(time_window_ns)], color="black", lw=1.0)
        for ax in (ax_raw, ax_clean):
            ax.tick_params(labelsize=7)
            ax.set_ylim(-0.25, 1.2)
    axes[0, 0].set_title("raw shot (background removed, unit peak)", fontsize=9)
    axes[0, 1].set_title("cleaned by the autoencoder (library frame)", fontsize=9)
    axes[-1, 0].set_xlabel("sample in the record (ns)")
    axes[-1, 1].set_xlabel("time in the library frame (ns; highest surface point at 10 ns)")
    fig.savefig(out_png, dpi=130)
    plt.close(fig)
