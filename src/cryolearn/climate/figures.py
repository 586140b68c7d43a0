"""Figures of the climate clustering: each cluster's mean anomaly maps, and its calendar."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment

from cryolearn.climate.features import ClimateFeatures


def matched_order(labels: np.ndarray, truth: np.ndarray | None) -> tuple[list[int], dict]:
    """Cluster ids in the order of the true regimes they overlap most (Hungarian matching
    of the contingency table), and the matched regime of each cluster."""
    clusters = list(np.unique(labels))
    if truth is None:
        return clusters, {}
    regimes = list(np.unique(truth))
    table = np.array([[np.sum((labels == c) & (truth == r)) for r in regimes] for c in clusters])
    rows, cols = linear_sum_assignment(-table)
    match = {clusters[r]: regimes[c] for r, c in zip(rows, cols, strict=True)}
    ordered = sorted(clusters, key=lambda c: (match.get(c, np.inf), c))
    return ordered, match


def plot_cluster_anomalies(features: ClimateFeatures, labels: np.ndarray, method: str,
                           path: str | Path, truth: np.ndarray | None = None) -> None:
    """Mean anomaly (field minus seasonal cycle) of every variable in every cluster.

    Rows are clusters (ordered to match the true regimes when known), columns
    variables, one colour scale per variable; the bottom strip is the calendar
    of labels, with the true regimes beneath it.
    """
    anomalies = features.anomalies()
    order, match = matched_order(labels, truth)
    n_rows, n_cols = len(order), len(features.variables)
    figure = plt.figure(figsize=(1.9 * n_cols + 1.5, 1.7 * n_rows + 1.6), layout="constrained")
    grid = figure.add_gridspec(n_rows + 1, n_cols, height_ratios=[1.0] * n_rows + [0.6])
    extent = (features.longitude.min(), features.longitude.max(), features.latitude.min(),
              features.latitude.max())
    for col, variable in enumerate(features.variables):
        means = [np.nanmean(anomalies[labels == c, col], axis=0) for c in order]
        limit = max(float(np.nanmax(np.abs(m))) for m in means) or 1.0
        for row, (cluster, mean) in enumerate(zip(order, means, strict=True)):
            axis = figure.add_subplot(grid[row, col])
            image = axis.imshow(mean, origin="lower" if features.latitude[0] < features.latitude[-1]
                                else "upper", extent=extent, cmap="RdBu_r", vmin=-limit,
                                vmax=limit)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(variable)
            if col == 0:
                days = int(np.sum(labels == cluster))
                regime = f"\n≈ regime {match[cluster]}" if cluster in match else ""
                axis.set_ylabel(f"cluster {cluster}\n{days} days{regime}", fontsize=8)
        bar = figure.colorbar(image, ax=axis, orientation="horizontal", fraction=0.08, pad=0.02)
        bar.ax.locator_params(nbins=3)
        bar.ax.tick_params(labelsize=7)
        bar.formatter.set_powerlimits((-2, 3))
    calendar = figure.add_subplot(grid[n_rows, :])
    rank = {cluster: index for index, cluster in enumerate(order)}
    strips = [np.array([rank[c] for c in labels])]
    names = [method]
    if truth is not None:
        regime_rank = {match[c]: rank[c] for c in match}
        unmatched = [r for r in np.unique(truth) if r not in regime_rank]
        regime_rank.update({r: len(order) + i for i, r in enumerate(unmatched)})
        strips.append(np.array([regime_rank[r] for r in truth]))
        names.append("truth")
    calendar.imshow(np.stack(strips), aspect="auto", cmap="tab20", vmin=0, vmax=19,
                    interpolation="nearest")
    calendar.set_yticks(range(len(names)), names)
    calendar.set_xlabel("day")
    figure.suptitle(f"{method}: mean anomaly of each cluster (field minus seasonal cycle)")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
