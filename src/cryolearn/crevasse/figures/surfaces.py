"""Figures of the unsupervised stage: montages, U-matrix, reachability, neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from cryolearn.classes import CLASS_CODE, SURFACE_CLASSES
from cryolearn.crevasse.evaluate.som import raw_tile_vectors
from cryolearn.crevasse.evaluate.truth import tile_dominant_classes
from cryolearn.crevasse.matching.search import ExactIndex, ExactParams
from cryolearn.crevasse.surfaces.montages import hillshade
from cryolearn.crevasse.surfaces.som import FeatureSpace, MapGrid, som_features
from cryolearn.io.zarrstore import open_group

#: cluster colours: tab20 without its two greys, which mean noise here
_CLUSTER_COLOURS = [c for i, c in enumerate(plt.get_cmap("tab20").colors) if i not in (14, 15)]
_NOISE_COLOUR = (0.7, 0.7, 0.7, 1.0)


def cluster_colours(labels: np.ndarray) -> list[tuple[float, ...]]:
    """One colour per label; noise (-1) grey."""
    return [(*_CLUSTER_COLOURS[lab % len(_CLUSTER_COLOURS)], 1.0) if lab >= 0 else _NOISE_COLOUR
            for lab in labels]


def _save(fig: plt.Figure, out_png: str | Path, dpi: int = 110) -> None:
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=dpi)
    plt.close(fig)


def _boundary_segments(grid: MapGrid, labels: np.ndarray) -> np.ndarray:
    """Edges between adjacent nodes of different clusters, as (m, 2, 2) segments."""
    pos = grid.positions()
    segments = []
    for i, j in grid.adjacent_pairs():
        if labels[i] == labels[j]:
            continue
        a, b = pos[i], pos[j]
        if np.linalg.norm(a - b) > 1.01:  # wraps around a toroid: not drawn
            continue
        mid, along = (a + b) / 2, (b - a) / np.linalg.norm(b - a)
        half = 0.5 if grid.gridtype == "rectangular" else 0.5 / np.sqrt(3)
        normal = np.array([-along[1], along[0]]) * half
        segments.append([mid - normal, mid + normal])
    return np.array(segments).reshape(-1, 2, 2)


def _node_image(ax: plt.Axes, grid: MapGrid, values: Any, cmap: Any, **kwargs: Any) -> Any:
    pos = grid.positions()
    marker = "s" if grid.gridtype == "rectangular" else "h"
    size = (72 * 4.8 / max(grid.columns, grid.rows)) ** 2
    return ax.scatter(pos[:, 0], pos[:, 1], c=values, cmap=cmap, marker=marker,
                      s=size, linewidths=0, **kwargs)


def plot_umatrix(som_store: str | Path, clusters_store: str | Path, out_png: str | Path) -> None:
    """U-matrix with cluster boundaries, the clusters on the map, and the training curves."""
    som = open_group(som_store)
    clusters = open_group(clusters_store)
    grid = MapGrid(int(som.attrs["rows"]), int(som.attrs["columns"]), str(som.attrs["maptype"]),
                   str(som.attrs["gridtype"]))
    labels = clusters["node_label"][:]
    umat = som["umatrix"][:].ravel()
    hits = np.bincount(som["bmu"][:], minlength=grid.n_nodes)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    segments = _boundary_segments(grid, labels)
    art = _node_image(axes[0], grid, umat, "magma_r")
    fig.colorbar(art, ax=axes[0], label="mean distance to adjacent nodes")
    axes[0].add_collection(LineCollection(segments, colors="cyan", linewidths=1.6))
    axes[0].set_title("U-matrix and cluster boundaries")
    n_clusters = int(clusters.attrs["n_clusters"])
    _node_image(axes[1], grid, cluster_colours(labels), None)
    pos = grid.positions()
    for label in range(n_clusters):
        members = pos[labels == label]
        axes[1].text(*members.mean(axis=0), str(label), ha="center", va="center", fontsize=8,
                     weight="bold")
    axes[1].add_collection(LineCollection(segments, colors="k", linewidths=1.0))
    axes[1].set_title(f"{n_clusters} OPTICS clusters (grey: noise); "
                      f"{(hits == 0).sum()} nodes without tiles", fontsize=10)
    for ax in axes[:2]:
        ax.set_aspect("equal")
        ax.invert_yaxis()
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    qe = som["quantisation_error"][:]
    te = som["topographic_error"][:]
    epochs = np.arange(len(qe))
    axes[2].plot(epochs, qe, "o-", color="k", label="quantisation error")
    axes[2].set_xlabel("epochs trained")
    axes[2].set_ylabel(f"quantisation error ({som.attrs['space']} space)")
    twin = axes[2].twinx()
    twin.plot(epochs, te, "s--", color="tab:red", label="topographic error")
    twin.set_ylabel("topographic error", color="tab:red")
    axes[2].set_title(f"training ({som.attrs['backend']})")
    fig.tight_layout()
    _save(fig, out_png)


def plot_reachability(clusters_store: str | Path, out_png: str | Path) -> None:
    """OPTICS reachability of the nodes in cluster order, coloured by cluster."""
    clusters = open_group(clusters_store)
    order = clusters["ordering"][:]
    reach = clusters["reachability"][:][order]
    labels = clusters["node_label"][:][order]
    finite = np.isfinite(reach)
    top = float(reach[finite].max()) * 1.05 if finite.any() else 1.0
    reach = np.where(finite, reach, top)
    n_clusters = int(clusters.attrs["n_clusters"])
    colours = cluster_colours(labels)
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.bar(np.arange(len(reach)), reach, width=1.0, color=colours)
    ax.set_xlim(-0.5, len(reach) - 0.5)
    ax.set_xlabel("SOM nodes in OPTICS order")
    ax.set_ylabel("reachability distance")
    ax.set_title(f"OPTICS reachability: {n_clusters} clusters (colours), noise grey; "
                 "bars at the top are undefined (first of a region)", fontsize=10)
    fig.tight_layout()
    _save(fig, out_png)


def plot_neighbours_before_after(library_store: str | Path, features_store: str | Path,
                                 som_store: str | Path, out_png: str | Path,
                                 truth_stores: Sequence[str | Path] = (), seed: int = 0) -> int:
    """A query tile and its 4 nearest tiles on raw heights, then in the normalised feature space.

    The query is a crevassed tile when truth is known (else the tile with the
    most relief). Returns the query's library row.
    """
    library = open_group(library_store)
    som = open_group(som_store)
    n = library["elevation"].shape[0]
    classes = None
    if truth_stores:
        classes = tile_dominant_classes(truth_stores, library["hash"][:])
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(n, 3000), replace=False))
    space = FeatureSpace.of_som(som)
    spaces = {"raw heights": raw_tile_vectors(library, rows),
              f"normalised DCT ({space.transform})": som_features(features_store, space, rows)}
    query = _pick_query(spaces["raw heights"], classes, rows)
    def title(row: int) -> str:
        if classes is None or classes[row] < 0:
            return f"tile {row}"
        return f"tile {row}\n{SURFACE_CLASSES[int(classes[row])]}"

    fig, axes = plt.subplots(2, 5, figsize=(12, 5.6))
    for r, (name, vectors) in enumerate(spaces.items()):
        q = int(np.flatnonzero(rows == query)[0])
        _, ids = ExactIndex(vectors, ExactParams(device="cpu")).search(vectors[q:q + 1], 5)
        neighbours = [rows[i] for i in ids[0] if i >= 0 and rows[i] != query][:4]
        for c, row in enumerate([query, *neighbours]):
            ax = axes[r, c]
            ax.imshow(hillshade(library["elevation"][row]), extent=(0, 100, 0, 100))
            ax.set_title(("query, " if c == 0 else f"#{c}, ") + title(row), fontsize=8)
            ax.tick_params(labelsize=6)
        axes[r, 0].set_ylabel(name, fontsize=9)
    fig.suptitle("Four nearest tiles before (top) and after (bottom) normalisation", fontsize=11)
    fig.tight_layout()
    _save(fig, out_png)
    return query


def _pick_query(raw: np.ndarray, classes: np.ndarray | None, rows: np.ndarray) -> int:
    relief = np.ptp(raw, axis=1)
    if classes is not None:
        crevassed = np.flatnonzero(classes[rows] == CLASS_CODE["crevasses"])
        if len(crevassed):
            return int(rows[crevassed[np.argsort(relief[crevassed])[len(crevassed) // 2]]])
    return int(rows[np.argmax(relief)])
