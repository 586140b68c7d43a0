"""Figures of the crevasse pipeline: library, autoencoder training, cleaned shots, matches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cryolearn.classes import SURFACE_CLASSES
from cryolearn.crevasse.evaluate.truth import (
    shot_truth_classes,
    tile_class_fractions,
    tile_dominant_classes,
)
from cryolearn.crevasse.matching.match import library_vectors, query_vectors, shift_bins
from cryolearn.crevasse.shots.augment import background_subtracted, network_input
from cryolearn.crevasse.surfaces.montages import hillshade
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
        fractions, names = tile_class_fractions(truth_stores, hashes)
        picks = pick_examples_by_class(fractions, names, min_share=0.05)
    else:
        picks = pick_examples_by_width(waveforms)
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 2.3 * len(picks)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 2.2]})
    t = np.arange(waveforms.shape[1])
    for row, (label, index, value) in enumerate(picks):
        tile = lib["elevation"][index]
        ax_img, ax_wf = axes[row]
        ax_img.imshow(hillshade(tile), extent=(0, 100, 0, 100))
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


def pick_shots_by_class(classes: Sequence[tuple[np.ndarray, np.ndarray]],
                        matched: Sequence[np.ndarray], n: int) -> list[tuple[int, int, str]]:
    """One matched shot per surface class (the purest), up to ``n`` classes.

    Returns (campaign position, shot, label) with the most frequent classes first.
    """
    best: dict[int, tuple[float, int, int]] = {}
    counts: dict[int, int] = {}
    for c, ((code, share), ok) in enumerate(zip(classes, matched, strict=True)):
        for i in np.flatnonzero(ok & (code >= 0)):
            cls = int(code[i])
            counts[cls] = counts.get(cls, 0) + 1
            if share[i] > best.get(cls, (-1.0, 0, 0))[0]:
                best[cls] = (float(share[i]), c, int(i))
    ranked = sorted(best, key=lambda cls: -counts[cls])[:n]
    return [(best[cls][1], best[cls][2], f"{SURFACE_CLASSES[cls]} ({best[cls][0]:.0%})")
            for cls in ranked]


def pick_shots_by_width(cleaned: Sequence[np.ndarray], matched: Sequence[np.ndarray],
                        n: int) -> list[tuple[int, int, str]]:
    """Matched shots spread over the RMS width of their cleaned waveforms (no truth)."""
    where = [(c, int(i)) for c, ok in enumerate(matched) for i in np.flatnonzero(ok)]
    if not where:
        return []
    waveforms = np.concatenate([wf[ok] for wf, ok in zip(cleaned, matched, strict=True)])
    picks = {i: label for label, i, _ in pick_examples_by_width(waveforms, n)}
    return [(*where[i], label) for i, label in picks.items()]


def best_lag(signal: np.ndarray, reference: np.ndarray) -> int:
    """Whole-bin shift that best lines ``signal`` up with ``reference`` (cross-correlation)."""
    corr = np.correlate(reference, signal, mode="full")
    return int(np.argmax(corr)) - (len(signal) - 1)


def plot_matches(
    library_store: str | Path,
    shot_stores: Sequence[str | Path],
    denoised_stores: Sequence[str | Path],
    match_stores: Sequence[str | Path],
    out_png: str | Path,
    *,
    labels: Sequence[str],
    shot_truth_stores: Sequence[str | Path] = (),
    tile_truth_stores: Sequence[str | Path] = (),
    n_shots: int = 4,
    n_matches: int = 4,
    time_window_ns: float = 200.0,
) -> list[tuple[int, int, str]]:
    """The original's match figure: shots with their closest simulated matches and tiles.

    Each row is one shot: its raw record (red, moved to where it best
    correlates with the cleaned waveform), the cleaned waveform (black) and its
    ``n_matches`` nearest library waveforms (blue, drawn at the offset at which
    each matched), then the library tiles behind those matches. With truth,
    the shots are of different surface types (the purest shot of each); without,
    spread over waveform width.

    Returns the picks: (campaign position, shot, label).
    """
    shots = [open_group(p) for p in shot_stores]
    cleaned = [open_group(p) for p in denoised_stores]
    matches = [open_group(p) for p in match_stores]
    matched = [m["matched"][:] for m in matches]
    if shot_truth_stores:
        picks = pick_shots_by_class(shot_truth_classes(shot_stores, shot_truth_stores),
                                    matched, n_shots)
    else:
        picks = pick_shots_by_width([c["waveform"][:] for c in cleaned], matched, n_shots)
    if not picks:
        raise ValueError("no matched shots to show: every campaign's matches are empty")
    library = open_group(library_store)
    tile_class = None
    if tile_truth_stores:
        tile_class = tile_dominant_classes(tile_truth_stores, library["hash"][:])
    fig, axes = plt.subplots(len(picks), 1 + n_matches, figsize=(3.2 + 1.6 * n_matches,
                                                                 2.0 * len(picks)),
                             squeeze=False, constrained_layout=True,
                             gridspec_kw={"width_ratios": [2.6] + [1] * n_matches})
    window = int(time_window_ns)
    t = np.arange(window)
    for row, (c, i, label) in enumerate(picks):
        ax = axes[row, 0]
        raw = network_input(background_subtracted(shots[c]["waveform"][i:i + 1],
                                                  shots[c]["background_mean"][i:i + 1]), 0.0)
        clean = query_vectors(cleaned[c]["waveform"][i:i + 1])[0]
        raw = shift_bins(raw, best_lag(raw[0], clean))[0]
        ax.plot(t, raw[:window], color="tab:red", lw=0.6, label="raw (aligned)")
        ax.plot(t, clean[:window], color="black", lw=1.4, label="cleaned")
        rows = matches[c]["neighbour"][i][:n_matches]
        offsets = matches[c]["offset_bins"][i][:n_matches]
        distances = matches[c]["distance"][i][:n_matches]
        blues = plt.cm.Blues(np.linspace(0.9, 0.45, n_matches))
        for j, (lib_row, off, dist) in enumerate(zip(rows, offsets, distances, strict=True)):
            if lib_row < 0:
                continue
            wf = library_vectors(library["waveform"][int(lib_row):int(lib_row) + 1],
                                 float(matches[c].attrs["sigma_bins"]))
            wf = shift_bins(wf, -int(off))[0]
            ax.plot(t, wf[:window], color=blues[j], lw=0.9, label=f"match {j + 1}")
            tile_ax = axes[row, 1 + j]
            tile = library["elevation"][int(lib_row)]
            tile_ax.imshow(hillshade(tile), extent=(0, 100, 0, 100))
            title = f"match {j + 1}, d={dist:.3f}"
            if tile_class is not None and tile_class[lib_row] >= 0:
                title += f"\n{SURFACE_CLASSES[int(tile_class[lib_row])]}"
            tile_ax.set_title(title, fontsize=7)
            tile_ax.tick_params(labelsize=6)
        for j in range(len(rows), n_matches):
            axes[row, 1 + j].axis("off")
        ax.set_ylabel(f"{labels[c]} #{i}\n{label}", fontsize=7)
        ax.set_ylim(-0.2, 1.15)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=6, loc="upper right")
    axes[-1, 0].set_xlabel("time in the library frame (ns)")
    fig.suptitle("GLAS shots and their closest simulated waveforms, with the tiles behind them",
                 fontsize=10)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return picks
