"""Cluster montages, the pages a person labels clusters from, and the tile hillshade.

Apart from the other figures so that clustering draws its montages without
importing the figure modules that read the clusters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LightSource

from cryolearn.io.zarrstore import open_group


def hillshade(tile: np.ndarray, pixel_m: float = 0.5) -> np.ndarray:
    """RGB hillshade of a DEM tile, lit from the north-west (as every tile figure here)."""
    shade = LightSource(azdeg=315, altdeg=35)
    return shade.shade(tile, plt.cm.Blues_r, vert_exag=2.0, dx=pixel_m, dy=pixel_m,
                       blend_mode="overlay")


def plot_montage(library: Any, tiles: np.ndarray, label: int, n_tiles: int, n_nodes: int,
                 out_png: str | Path) -> None:
    """Hillshades of a cluster's most central tiles, for a person to label."""
    tiles = [int(t) for t in tiles if t >= 0]
    side = max(1, int(np.ceil(np.sqrt(max(len(tiles), 1)))))
    fig, axes = plt.subplots(side, side, figsize=(1.9 * side, 1.9 * side + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, row in zip(axes.ravel(), tiles, strict=False):
        ax.imshow(hillshade(library["elevation"][row]), extent=(0, 100, 0, 100))
        ax.set_title(f"tile {row}", fontsize=7)
    fig.suptitle(f"cluster {label}: {n_tiles} tiles on {n_nodes} nodes "
                 f"(the {len(tiles)} nearest its centre; 100 m tiles)", fontsize=9)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)


def write_montages(library_store: str | Path, central: np.ndarray, tile_labels: np.ndarray,
                   node_labels: np.ndarray, montage_dir: str | Path) -> None:
    """One montage per cluster, ``montage_dir/cluster_NNNN.png``.

    Parameters
    ----------
    library_store : the library the tile rows index
    central : (clusters, k) library rows nearest each cluster's centre; -1 pads
    tile_labels, node_labels : cluster of every tile and of every map node
    montage_dir : folder of the montages (created)
    """
    montage_dir = Path(montage_dir)
    montage_dir.mkdir(parents=True, exist_ok=True)
    library = open_group(library_store)
    for label in range(len(central)):
        plot_montage(library, central[label], label,
                     n_tiles=int((tile_labels == label).sum()),
                     n_nodes=int((node_labels == label).sum()),
                     out_png=montage_dir / f"cluster_{label:04d}.png")
