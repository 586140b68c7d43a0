"""Figures of the waveform library."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LightSource

from cryolearn.io.zarrstore import open_group


def rms_width_ns(waveforms: np.ndarray) -> np.ndarray:
    """RMS width of each waveform about its centroid, ns (1 ns bins)."""
    t = np.arange(waveforms.shape[1])
    total = waveforms.sum(axis=1)
    centroid = waveforms @ t / total
    return np.sqrt(np.maximum(waveforms @ t**2 / total - centroid**2, 0.0))


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
