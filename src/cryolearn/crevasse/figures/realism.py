"""The realism figure: real against synthetic waveform statistics, as cumulative distributions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cryolearn.crevasse.evaluate.realism import STATISTICS

#: axis label of each statistic
LABELS = {"rms_width_ns": "RMS width of the return (ns)", "extent_ns": "extent of the return (ns)",
          "n_peaks": "peaks", "peak_amplitude_v": "peak amplitude (V)", "snr": "SNR",
          "background_sd_v": "background sd (V)"}


def ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted finite values and their cumulative shares, 1/n … 1."""
    x = np.sort(np.asarray(values, np.float64)[np.isfinite(values)])
    return x, np.arange(1, len(x) + 1) / max(len(x), 1)


def panel_title(name: str, values: Mapping[str, Any] | None) -> str:
    """'medians real a, synthetic b; KS c' for one statistic of the report."""
    if not values or values.get("ks") is None:
        return LABELS[name]
    return (f"medians {values['real_median']:.3g} real, {values['synthetic_median']:.3g} "
            f"synthetic; KS {values['ks']:.2f}")


def plot_realism(report: Mapping[str, Any], real: Mapping[str, np.ndarray],
                 synthetic: Mapping[str, np.ndarray], out_png: str | Path) -> None:
    """Six panels of cumulative distributions, real (black) against synthetic (blue)."""
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    statistics = report.get("statistics", {})
    for ax, name in zip(axes.ravel(), STATISTICS, strict=True):
        for values, colour, label in ((real, "k", "real"), (synthetic, "tab:blue", "synthetic")):
            x, share = ecdf(values[name])
            if len(x):
                ax.step(x, share, where="post", color=colour, label=f"{label} ({len(x)})")
        ax.set_xlabel(LABELS[name])
        ax.set_title(panel_title(name, statistics.get(name)), fontsize=9)
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("share of shots")
    axes[1, 0].set_ylabel("share of shots")
    if "skipped" in report:
        fig.suptitle(f"not compared: {report['skipped']}", fontsize=10)
    else:
        axes[0, 0].legend(fontsize=8)
        band = report.get("elevation_band_m")
        where = (f"synthetic shots at {band[0]:.0f}–{band[1]:.0f} m" if report.get("band_matched")
                 else "all synthetic shots (none in the real shots' elevation band)")
        fig.suptitle(f"Real GLAS shots against {where}", fontsize=11)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
