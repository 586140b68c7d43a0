"""Truth of the synthetic world under tiles: read only by evaluation and figures.

The pipeline itself never reads truth; evaluation steps use these tables to
say how right its answers are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np
import rasterio
from rasterio.transform import Affine

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES, SURFACE_CLASSES
from cryolearn.constants import FOOTPRINT_SIGMA_M, TILE_PIXEL_M
from cryolearn.footprint import footprint_weights
from cryolearn.io.zarrstore import atomic_store, create_array, create_group, open_group
from cryolearn.synth.flights import TRUTH_NODATA, truth_path_for

log = logging.getLogger(__name__)


def sample_truth_classes(
    truth: np.ndarray, transform: Affine, x: np.ndarray, y: np.ndarray, size_px: int,
    pixel_m: float = TILE_PIXEL_M,
) -> np.ndarray:
    """Truth class of every pixel of tiles centred at (x, y), nearest neighbour.

    Parameters
    ----------
    truth : (rows, cols) uint8 truth raster of one frame
    transform : its affine transform
    x, y : (n,) tile centres, metres

    Returns
    -------
    (n, size_px, size_px) uint8 class codes; 255 where the truth has no data
    """
    inverse = ~transform
    offsets = (np.arange(size_px) + 0.5 - 0.5 * size_px) * pixel_m
    px = x[:, None, None] + offsets[None, None, :]
    py = y[:, None, None] - offsets[None, :, None]
    px, py = np.broadcast_arrays(px, py)
    col, row = inverse @ (px, py)
    col = np.floor(col).astype(np.int64)
    row = np.floor(row).astype(np.int64)
    inside = (row >= 0) & (row < truth.shape[0]) & (col >= 0) & (col < truth.shape[1])
    out = np.full(px.shape, TRUTH_NODATA, dtype=np.uint8)
    out[inside] = truth[row[inside], col[inside]]
    return out


def footprint_class_fractions(
    classes: np.ndarray, pixel_m: float = TILE_PIXEL_M, sigma_m: float = FOOTPRINT_SIGMA_M
) -> np.ndarray:
    """Footprint-weighted share of each surface class in each tile.

    Parameters
    ----------
    classes : (n, size, size) uint8 class codes (255 = unknown)

    Returns
    -------
    (n, len(SURFACE_CLASSES)) float64; rows sum to 1 minus the unknown share
    """
    n, size, _ = classes.shape
    w = footprint_weights(size, pixel_m, sigma_m).ravel()
    codes = np.ascontiguousarray(classes, dtype=np.uint8).reshape(n, -1)
    return _weight_per_class(codes, w, len(SURFACE_CLASSES))


@numba.njit(cache=True)
def _weight_per_class(codes: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row of ``codes``, the sum of the pixels' ``weights`` in each class (codes of
    ``n_classes`` and above count in none), added in pixel order."""
    out = np.zeros((codes.shape[0], n_classes + 1))
    for t in range(codes.shape[0]):
        for i in range(codes.shape[1]):
            out[t, min(codes[t, i], n_classes)] += weights[i]
    return out[:, :n_classes]


#: a patch of surface counts as over an open crevasse where it lies at least this far
#: below the ice between the crevasses of its set (the truth of issue 12: closed
#: segments and the ice between crevasses are crevassed zone, not open crevasse)
OPEN_CREVASSE_DEPTH_M = 1.0


def footprint_open_crevasse_share(
    depth: np.ndarray, open_depth_m: float = OPEN_CREVASSE_DEPTH_M,
    pixel_m: float = TILE_PIXEL_M, sigma_m: float = FOOTPRINT_SIGMA_M,
) -> np.ndarray:
    """Footprint-weighted share of each tile that lies over open crevasses.

    Parameters
    ----------
    depth : (n, size, size) open-crevasse depth of every pixel, metres
        (:meth:`cryolearn.synth.world.SyntheticWorld.evaluate` with ``crevasse_depth``)
    open_depth_m : least depth of an open crevasse

    Returns
    -------
    (n,) float64 in [0, 1]
    """
    n, size, _ = depth.shape
    w = footprint_weights(size, pixel_m, sigma_m).ravel()
    return _weight_at_least(np.ascontiguousarray(depth, np.float64).reshape(n, -1), w,
                            float(open_depth_m))


@numba.njit(cache=True)
def _weight_at_least(values: np.ndarray, weights: np.ndarray, least: float) -> np.ndarray:
    """Per row of ``values``, the sum of the ``weights`` of its pixels of at least ``least``."""
    out = np.zeros(values.shape[0])
    for t in range(values.shape[0]):
        total = 0.0
        for i in range(values.shape[1]):
            total += weights[i] if values[t, i] >= least else 0.0
        out[t] = total
    return out


@lru_cache(maxsize=4)
def _plane_projector(size: int, pixel_m: float, sigma_m: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The footprint weights, the plane's design (1, x, y) of a tile's pixels and the
    weighted least-squares projector onto its coefficients, (3, size²)."""
    w = footprint_weights(size, pixel_m, sigma_m).ravel()
    c = (np.arange(size) + 0.5 - size / 2) * pixel_m
    gx, gy = np.meshgrid(c, c)
    design = np.column_stack([np.ones(size * size), gx.ravel(), gy.ravel()])
    root = np.sqrt(w)
    return (w, design, np.ascontiguousarray(np.linalg.pinv(design * root[:, None]) * root))


def footprint_relief(heights: np.ndarray, pixel_m: float = TILE_PIXEL_M,
                     sigma_m: float = FOOTPRINT_SIGMA_M) -> np.ndarray:
    """Footprint-weighted standard deviation of each tile's heights about its plane.

    The plane is the footprint-weighted least-squares fit, so a uniform slope has
    no relief; what is left is what broadens a return beyond the slope's spread.

    Returns
    -------
    (n,) float64, metres
    """
    n, size, _ = heights.shape
    w, design, projector = _plane_projector(size, float(pixel_m), float(sigma_m))
    z = np.ascontiguousarray(heights, np.float64).reshape(n, -1)
    return _plane_residual_sd(z, w, design, projector)


@numba.njit(cache=True)
def _plane_residual_sd(z: np.ndarray, weights: np.ndarray, design: np.ndarray,
                       projector: np.ndarray) -> np.ndarray:
    """Per row of ``z``, the weighted sd of its residuals from the plane that
    ``projector`` fits (coefficients of ``design``'s columns 1, x, y)."""
    out = np.empty(z.shape[0])
    total = weights.sum()
    for t in range(z.shape[0]):
        c0 = 0.0
        c1 = 0.0
        c2 = 0.0
        for i in range(z.shape[1]):
            c0 += projector[0, i] * z[t, i]
            c1 += projector[1, i] * z[t, i]
            c2 += projector[2, i] * z[t, i]
        acc = 0.0
        for i in range(z.shape[1]):
            r = z[t, i] - (design[i, 0] * c0 + design[i, 1] * c1 + design[i, 2] * c2)
            acc += weights[i] * r * r
        out[t] = np.sqrt(acc / total)
    return out


def class_fractions_for_hashes(
    truth_stores: Sequence[str | Path], hashes: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Truth class shares of library tiles, joined on hash from per-flight truth stores.

    Parameters
    ----------
    truth_stores : ``results/truth/tiles/{flight}.zarr`` stores
    hashes : tile hashes to look up

    Returns
    -------
    fractions : (n, n_classes); all zero for a hash no store knows
    names : class names, in column order
    """
    lookup: dict[str, np.ndarray] = {}
    names = list(SURFACE_CLASSES)
    for path in truth_stores:
        group = open_group(path)
        names = json.loads(group.attrs["classes"])
        if group["hash"].shape[0] == 0:
            continue
        for h, f in zip(group["hash"][:], group["class_fraction"][:], strict=True):
            lookup.setdefault(str(h), f)
    missing = np.zeros(len(names))
    fractions = np.array([lookup.get(str(h), missing) for h in hashes]).reshape(-1, len(names))
    return fractions, names


def dominant_class(fractions: np.ndarray) -> np.ndarray:
    """Code of the class with the largest share in each row; -1 where nothing is known."""
    fractions = np.asarray(fractions)
    return np.where(fractions.sum(axis=1) > 0, np.argmax(fractions, axis=1), -1)


def tile_truth(tiles_store: str | Path, truth_dir: str | Path, out_store: str | Path) -> int:
    """Footprint-weighted truth class shares of every tile of a flight shard.

    Writes ``class_fraction[tile, class]``, ``crevassed_fraction[tile]`` and
    ``hash[tile]`` to ``out_store``. Returns the number of tiles.
    """
    tiles = open_group(tiles_store)
    n = tiles["hash"].shape[0]
    size = tiles["elevation"].shape[1]
    fractions = np.zeros((n, len(SURFACE_CLASSES)))
    if n:
        sources = tiles["source"][:]
        x, y = tiles["x"][:], tiles["y"][:]
        flight = str(tiles.attrs["flight"])
        for source in np.unique(sources):
            sel = np.flatnonzero(sources == source)
            raster = truth_path_for(Path(flight) / str(source), truth_dir)
            if not raster.exists():
                raise FileNotFoundError(f"{raster}: truth raster of frame {source} is missing")
            with rasterio.open(raster) as src:
                truth, transform = src.read(1), src.transform
            for start in range(0, len(sel), 256):
                part = sel[start : start + 256]
                classes = sample_truth_classes(truth, transform, x[part], y[part], size)
                fractions[part] = footprint_class_fractions(classes)
    crevassed = fractions[:, [CLASS_CODE[c] for c in CREVASSED_CLASSES]].sum(axis=1)
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {"classes": json.dumps(list(SURFACE_CLASSES)),
                                   "crevassed_classes": list(CREVASSED_CLASSES)})
        create_array(group, "class_fraction", (n, len(SURFACE_CLASSES)), np.float64,
                     ("tile", "class"), (8192, len(SURFACE_CLASSES)))[:] = fractions
        create_array(group, "crevassed_fraction", (n,), np.float64, ("tile",), (8192,))[:] = (
            crevassed)
        if n:
            create_array(group, "hash", (n,), str, ("tile",), (8192,))[:] = tiles["hash"][:]
        else:
            create_array(group, "hash", (0,), str, ("tile",), (8192,))
    return n
