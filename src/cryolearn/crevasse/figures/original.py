"""The original talk's figures that had no counterpart: normalisation, DCT, hold-out.

* :func:`plot_normalisation_steps`: one tile through every step of
  :func:`~cryolearn.crevasse.surfaces.normalise.normalisation_steps`;
* :func:`plot_dct_truncation`: a normalised tile, the tile rebuilt from its stored
  truncated DCT coefficients and their difference, with the library's share of
  pixels off by more than GLAS's 15 cm range resolution (from ``dct.json``);
* :func:`plot_holdout_matches`: hold-out waveforms (red) with their nearest library
  waveforms (blue) and all their tiles, from the hold-out experiment's own matches.

``docs/original-figures.md`` maps each of the original's figures to ours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import zarr
from matplotlib.patches import Rectangle

from cryolearn.classes import CLASS_CODE, SURFACE_CLASSES
from cryolearn.crevasse.evaluate.truth import tile_dominant_classes
from cryolearn.crevasse.surfaces.montages import hillshade
from cryolearn.crevasse.surfaces.normalise import (
    NormaliseParams,
    circular_mask,
    normalisation_steps,
    plane_frame_points,
    reconstruct,
    rerasterise,
)
from cryolearn.io.zarrstore import open_group

#: GLAS's range resolution, m: the original argued errors below it do not matter
RANGE_RESOLUTION_M = 0.15
#: the classes the hold-out figure shows first, when the library holds them
HOLDOUT_CLASS_ORDER = ("crevasses", "moulin_bowl", "channel", "serac_field",
                       "crossing_crevasses", "hummocky", "lake", "smooth")


def _save(fig: plt.Figure, out_png: str | Path, metadata: dict[str, str] | None = None) -> None:
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110, metadata=metadata)
    plt.close(fig)


def tile_relief(elevation: zarr.Array) -> np.ndarray:
    """Each tile's elevation range (m), read a chunk of tiles at a time."""
    step = elevation.chunks[0]
    return np.concatenate([np.ptp(elevation[i:i + step].reshape(
        min(step, elevation.shape[0] - i), -1), axis=1)
        for i in range(0, elevation.shape[0], step)])


def pick_tile(library_store: str | Path, truth_stores: Sequence[str | Path] = ()) -> int:
    """A library tile to show: a crevasse tile of middling relief where truth is known,
    else the tile of largest relief."""
    library = open_group(library_store)
    elevation = library["elevation"]
    relief = tile_relief(elevation)
    if truth_stores:
        classes = tile_dominant_classes(truth_stores, library["hash"][:])
        crevassed = np.flatnonzero(classes == CLASS_CODE["crevasses"])
        if len(crevassed):
            return int(crevassed[np.argsort(relief[crevassed])[len(crevassed) // 2]])
    return int(np.argmax(relief))


def _image(ax: plt.Axes, values: np.ndarray, title: str, cmap: str = "viridis",
           label: str = "m") -> None:
    shown = ax.imshow(values, cmap=cmap)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    plt.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, label=label)


def plot_normalisation_steps(library_store: str | Path, out_png: str | Path,
                             params: NormaliseParams, truth_stores: Sequence[str | Path] = ()
                             ) -> dict[str, Any]:
    """One tile through the circular mask, the PCA detrend and rotation, the point cloud
    in the plane's frame, the re-rasterised tile, the crop and the second mask.

    Returns the tile shown (library row) and its plane's tilt, degrees.
    """
    row = pick_tile(library_store, truth_stores)
    tile = np.asarray(open_group(library_store)["elevation"][row], np.float64)[None]
    steps = normalisation_steps(tile, params)
    size = tile.shape[1]
    whole = rerasterise(steps.height, steps.centroid, steps.e1, steps.e2, size,
                        params.pixel_m)[0]
    points = plane_frame_points(steps.masked[0], steps.centroid[0], steps.normal[0],
                                steps.e1[0], steps.e2[0], params.pixel_m)
    points = points[:: max(1, len(points) // 6000)]
    tilt = float(np.degrees(np.arccos(steps.normal[0, 2])))
    fig = plt.figure(figsize=(13, 7.6))
    axes = [fig.add_subplot(2, 3, i + 1, projection="3d" if i == 2 else None)
            for i in range(6)]
    _image(axes[0], steps.masked[0], f"1. tile {row}, circular mask")
    _image(axes[1], steps.height[0], f"2. PCA: height above the plane\n(tilt {tilt:.1f}°)",
           cmap="RdBu_r")
    cloud = axes[2]
    cloud.scatter(points[:, 0], points[:, 1], points[:, 2], c=points[:, 2], cmap="RdBu_r", s=1)
    cloud.set_title("3. the points in the plane's frame\n(dominant direction along x)",
                    fontsize=9)
    cloud.set_xlabel("x, m", fontsize=8)
    cloud.set_ylabel("y, m", fontsize=8)
    cloud.set_zlabel("z, m", fontsize=8)
    _image(axes[3], whole, "4. re-rasterised on the rotated grid", cmap="RdBu_r")
    corner = 0.5 * (size - params.crop_px) - 0.5
    axes[3].add_patch(Rectangle((corner, corner), params.crop_px, params.crop_px, fill=False,
                                edgecolor="k", linestyle="--"))
    _image(axes[4], steps.rerasterised[0], f"5. crop to {params.crop_px} px", cmap="RdBu_r")
    shown = np.where(circular_mask(params.crop_px), steps.normalised[0], np.nan)
    _image(axes[5], shown, "6. second mask: the normalised tile", cmap="RdBu_r")
    fig.suptitle("Tile normalisation: pose removed, surface kept", fontsize=11)
    fig.tight_layout()
    _save(fig, out_png)
    return {"library_row": row, "tilt_deg": tilt}


def plot_dct_truncation(library_store: str | Path, features_store: str | Path,
                        dct_json: str | Path, out_png: str | Path, params: NormaliseParams,
                        truth_stores: Sequence[str | Path] = ()) -> dict[str, Any]:
    """The normalised tile, its rebuild from the stored K × K coefficients and the error.

    The title gives the library's share of masked pixels off by more than 15 cm, read
    from ``dct.json`` (the PNG carries it as metadata ``share_over_15cm``), and the
    tile's own.
    """
    summary = json.loads(Path(dct_json).read_text())
    features = open_group(features_store)
    k = int(features.attrs["dct_size"])
    crop = int(features.attrs["crop_px"])
    row = pick_tile(library_store, truth_stores)
    tile = np.asarray(open_group(library_store)["elevation"][row], np.float64)[None]
    normalised = normalisation_steps(tile, params).normalised[0]
    rebuilt = reconstruct(features["features"][row][None], k, crop)[0]
    mask = circular_mask(crop)
    error = np.where(mask, rebuilt - normalised, np.nan)
    tile_share = float((np.abs(error[mask]) > RANGE_RESOLUTION_M).mean())
    library_share = float(summary["share_over_15cm"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    low, high = np.nanmin(normalised[mask]), np.nanmax(normalised[mask])
    for ax, values, title in ((axes[0], np.where(mask, normalised, np.nan), "normalised tile"),
                              (axes[1], np.where(mask, rebuilt, np.nan),
                               f"rebuilt from {k} × {k} DCT coefficients")):
        shown = ax.imshow(values, cmap="RdBu_r", vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        plt.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, label="m")
    limit = max(float(np.nanmax(np.abs(error))), RANGE_RESOLUTION_M)
    shown = axes[2].imshow(error, cmap="PuOr", vmin=-limit, vmax=limit)
    axes[2].contour(np.abs(np.nan_to_num(error)) > RANGE_RESOLUTION_M, levels=[0.5],
                    colors="k", linewidths=0.6)
    axes[2].set_title(f"difference (outlined: off by > 15 cm, {100 * tile_share:.1f} % here)",
                      fontsize=9)
    plt.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.02, label="m")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"DCT truncation, tile {row}: over the library, "
                 f"{100 * library_share:.2f} % of pixels are off by more than GLAS's 15 cm "
                 "range resolution", fontsize=10)
    fig.tight_layout()
    _save(fig, out_png, {"share_over_15cm": repr(library_share),
                         "tile_share_over_15cm": repr(tile_share)})
    return {"library_row": row, "share_over_15cm": library_share,
            "tile_share_over_15cm": tile_share}


def pick_holdout_queries(query_class: np.ndarray, distance: np.ndarray, n_classes: int = 4
                         ) -> list[tuple[str, int]]:
    """(class name, query index) for up to ``n_classes`` classes of
    :data:`HOLDOUT_CLASS_ORDER`, each the query of median nearest distance in its class."""
    picks = []
    for name in HOLDOUT_CLASS_ORDER:
        queries = np.flatnonzero(query_class == CLASS_CODE[name])
        if len(queries):
            middle = queries[np.argsort(distance[queries])[len(queries) // 2]]
            picks.append((name, int(middle)))
        if len(picks) == n_classes:
            break
    return picks


def plot_holdout_matches(holdout_store: str | Path, library_store: str | Path,
                         truth_stores: Sequence[str | Path], out_png: str | Path,
                         n_neighbours: int = 3, time_window_ns: float = 200.0
                         ) -> list[dict[str, Any]]:
    """Hold-out waveforms (red) with their nearest library waveforms (blue), and tiles.

    One row per surface class (:func:`pick_holdout_queries`): the waveforms, the
    held-out tile, and its ``n_neighbours`` nearest training tiles, each titled with
    its truth class. Without truth, the queries of the four smallest nearest
    distances are shown untitled by class.
    """
    found = open_group(holdout_store)
    library = open_group(library_store)
    rows = found["holdout_row"][:]
    neighbours = found["neighbour"][:, :n_neighbours]
    distance = found["distance"][:, 0]
    classes = (tile_dominant_classes(truth_stores, library["hash"][:]) if truth_stores
               else None)
    if classes is not None:
        picks = pick_holdout_queries(classes[rows], distance)
    else:
        picks = [("", int(q)) for q in np.argsort(distance)[:4]]

    def class_name(tile: int) -> str:
        return "" if classes is None or classes[tile] < 0 else SURFACE_CLASSES[classes[tile]]

    n_samples = int(min(time_window_ns, library["waveform"].shape[1]))  # 1 ns samples
    t = np.arange(n_samples, dtype=float)
    fig, axes = plt.subplots(len(picks), 2 + n_neighbours,
                             figsize=(3.0 * (2 + n_neighbours), 2.7 * len(picks)),
                             squeeze=False)
    shown = []
    for (name, query), ax_row in zip(picks, axes, strict=True):
        tiles = [int(rows[query]), *(int(n) for n in neighbours[query])]
        waves = library["waveform"].get_orthogonal_selection((tiles, slice(0, n_samples)))
        ax = ax_row[0]
        for wave in waves[1:]:
            ax.plot(t, wave / max(wave.max(), 1e-12), color="tab:blue", lw=0.9, alpha=0.8)
        ax.plot(t, waves[0] / max(waves[0].max(), 1e-12), color="tab:red", lw=1.4)
        ax.set_title(f"hold-out {name}".strip(), fontsize=9)
        ax.set_xlabel("ns", fontsize=8)
        ax.set_yticks([])
        for ax, tile, role in zip(ax_row[1:], tiles, ["hold-out"] + [f"match {i + 1}"
                                                                      for i in range(len(tiles))],
                                  strict=False):
            ax.imshow(hillshade(np.asarray(library["elevation"][tile], np.float64)))
            ax.set_title(f"{role}: {class_name(tile)}".rstrip(": "), fontsize=8,
                         color="tab:red" if role == "hold-out" else "tab:blue")
            ax.set_xticks([])
            ax.set_yticks([])
        shown.append({"class": name, "holdout_row": tiles[0], "matches": tiles[1:],
                      "match_classes": [class_name(x) for x in tiles[1:]]})
    fig.suptitle("The hold-out experiment: a held-out waveform (red), its nearest library "
                 "waveforms (blue) and their tiles", fontsize=10)
    fig.tight_layout()
    _save(fig, out_png)
    return shown
