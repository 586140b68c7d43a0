"""Figures of the crevasse maps: yearly probability, change between years, reliability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import rasterio
from matplotlib.colors import LightSource
from matplotlib.ticker import MaxNLocator

from cryolearn.crevasse.maps.rasters import MapRaster, read_raster

KM = 1000.0


@dataclass
class Backdrop:
    """A hillshade of the area and its extent (km: left, right, bottom, top)."""

    shade: np.ndarray
    extent: tuple[float, float, float, float]


def read_backdrop(path: str | Path | None) -> Backdrop | None:
    """Hillshade of a regional DEM GeoTIFF; ``None`` when no DEM is given."""
    if not path:
        return None
    with rasterio.open(path) as src:
        z = src.read(1, masked=True).astype(np.float64).filled(np.nan)
        left, bottom, right, top = src.bounds
        pixel = abs(src.transform.a)
    z = np.where(np.isfinite(z), z, np.nanmean(z))
    # exaggerated: a regional slope of a degree is invisible at true scale
    shade = LightSource(azdeg=315, altdeg=35).hillshade(z, vert_exag=20.0, dx=pixel, dy=pixel)
    return Backdrop(shade, (left / KM, right / KM, bottom / KM, top / KM))


def _extent(raster: MapRaster) -> tuple[float, float, float, float]:
    x_min, y_min, x_max, y_max = raster.grid.bounds
    return x_min / KM, x_max / KM, y_min / KM, y_max / KM


def _panel_grid(n: int, columns: int = 4, size: float = 3.6) -> tuple[Any, np.ndarray]:
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols + 1.0, size * rows),
                             squeeze=False, constrained_layout=True)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes


def _draw(ax: Any, raster: MapRaster, band: str, backdrop: Backdrop | None,
          **imshow: Any) -> Any:
    if backdrop is not None:
        ax.imshow(backdrop.shade, cmap="gray", extent=backdrop.extent, vmin=0, vmax=1)
    image = ax.imshow(np.ma.masked_invalid(raster.bands[band]), extent=_extent(raster),
                      interpolation="nearest", alpha=0.85, **imshow)
    left, right, bottom, top = _extent(raster)
    if backdrop is not None:
        left, right = min(left, backdrop.extent[0]), max(right, backdrop.extent[1])
        bottom, top = min(bottom, backdrop.extent[2]), max(top, backdrop.extent[3])
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    return image


def plot_yearly_maps(maps: Mapping[int, str | Path], backdrop: Backdrop | None,
                     out_png: str | Path) -> None:
    """One panel per year: mean crevasse probability per cell over the hillshade."""
    fig, axes = _panel_grid(len(maps))
    image = None
    for ax, (year, path) in zip(axes.ravel(), sorted(maps.items()), strict=False):
        raster = read_raster(path)
        image = _draw(ax, raster, "crevasse_probability", backdrop, cmap="YlOrRd",
                      vmin=0, vmax=1)
        shots = int(np.nansum(raster.bands["shot_count"]))
        ax.set_title(f"{year}: {shots} shots" if shots else f"{year}: no shots", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("y, km (EPSG:3413)", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("x, km", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="crevasse probability (cell mean)")
    fig.suptitle("Crevasse probability per year (grey: no shots)")
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def plot_change_maps(changes: Mapping[tuple[int, int], str | Path], backdrop: Backdrop | None,
                     out_png: str | Path) -> None:
    """One panel per pair of years: later minus earlier probability."""
    fig, axes = _panel_grid(max(1, len(changes)), columns=3)
    image = None
    for ax, ((a, b), path) in zip(axes.ravel(), sorted(changes.items()), strict=False):
        raster = read_raster(path)
        image = _draw(ax, raster, "probability_change", backdrop, cmap="RdBu_r",
                      vmin=-1, vmax=1)
        cells = int(np.isfinite(raster.bands["probability_change"]).sum())
        ax.set_title(f"{b} minus {a}: {cells} cells in both", fontsize=9)
        ax.set_xlabel("x, km", fontsize=8)
    axes[0, 0].set_ylabel("y, km (EPSG:3413)", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="change of crevasse probability")
    else:
        axes[0, 0].text(0.5, 0.5, "no change pairs configured", ha="center", va="center")
    fig.suptitle("Change of crevasse probability (red: more crevassed later)")
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def _curve(table: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [r for r in table if r["n"]]
    return (np.array([r["mean_probability"] for r in rows]),
            np.array([r["observed_frequency"] for r in rows]),
            np.array([r["n"] for r in rows]))


def plot_reliability(evaluation: Mapping[str, Any], out_png: str | Path) -> None:
    """Reliability diagram of the per-shot probabilities (from ``crevasse.json``)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]},
                                      constrained_layout=True)
    top.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="perfectly reliable")
    for campaign, metrics in sorted(evaluation["campaigns"].items()):
        p, observed, _ = _curve(metrics["reliability"])
        top.plot(p, observed, lw=0.7, alpha=0.4, marker=".", label=campaign)
    overall = evaluation["overall"]
    p, observed, _n = _curve(overall["reliability"])
    top.plot(p, observed, color="k", lw=2, marker="o", label="all campaigns")
    auc = overall.get("roc_auc")
    brier = overall.get("brier")
    top.set_title(f"ROC AUC {auc:.3f}, Brier {brier:.3f} over {overall['n_scored']} shots"
                  if auc is not None and brier is not None else "too few shots to score",
                  fontsize=9)
    top.set_ylabel("observed crevassed frequency")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(fontsize=7, ncol=2)
    edges = [r["bin_low"] for r in overall["reliability"]]
    counts = [r["n"] for r in overall["reliability"]]
    width = edges[1] - edges[0] if len(edges) > 1 else 1.0
    bottom.bar(edges, counts, width=width, align="edge", color="0.5")
    bottom.set_xlabel("predicted crevasse probability")
    bottom.set_ylabel("shots")
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
