"""Tile normalisation and DCT compression: features that compare surface type, not pose.

The original work's first self-organising map grouped tiles by orientation and
slope instead of surface type. Normalising every tile first fixed that:

1. a circular mask of the tile's diameter, so that no direction is favoured;
2. the masked pixels as (x, y, z) points and their principal axes (PCA): the
   axis of least variance is the normal of the mean plane, and the height
   above that plane becomes the new z (plane detrending and tilt removal);
3. rotation in the plane so that the surface's dominant direction lies along
   x. On a disc the in-plane spread of the points is the same in every
   direction, so their PCA cannot fix that direction; we take it from the
   principal axis of the surface's slope vectors instead (the structure
   tensor of the detrended surface): crevasses, channels and ridges then all
   run along y, whatever their heading;
4. re-rasterisation onto the pixel grid (bilinear), crop to the central
   ``crop_px`` square (default 142 px, the square inscribed in the 200 px
   disc, so that no pixel comes from outside it) and the circular mask again
   (zero outside);
5. the orthonormal 2-D DCT, truncated to the ``K × K`` lowest frequencies
   (the original kept about 25 % of them, later 71 × 71 = 5,041, reporting
   only 1.9 % of pixels off by more than 10 cm). Pixel-scale DEM noise (12 cm
   in the demo world) lies above those frequencies and is dropped with them.

In-plane positions are taken to first order: a tile tilted by θ is
shortened by 1 - cos θ in the plane (0.1 % at 3°), which is neglected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.fft import dctn, idctn
from scipy.ndimage import gaussian_filter, map_coordinates
from tqdm import tqdm

from cryolearn.constants import TILE_PIXEL_M
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import (
    atomic_store,
    create_array,
    create_group,
    open_group,
    write_array,
)

log = logging.getLogger(__name__)

#: pixel errors of the DCT reconstruction that are reported, metres (0.15: GLAS's range
#: resolution, below which the original argued errors do not matter)
ERROR_THRESHOLDS_M = (0.1, 0.15, 0.3)


@dataclass(frozen=True)
class NormaliseParams:
    """Sizes of the normalisation.

    ``crop_px`` is the side of the central square kept after rotation (at most
    the tile's), ``dct_size`` the K of the K × K coefficients kept (at most
    ``crop_px``).
    """

    crop_px: int = 142
    dct_size: int = 71
    pixel_m: float = TILE_PIXEL_M
    batch_size: int = 256


def circular_mask(size_px: int, diameter_px: float | None = None) -> np.ndarray:
    """Pixels whose centres lie within a disc centred on the tile (diameter = the tile's)."""
    diameter = size_px if diameter_px is None else diameter_px
    c = np.arange(size_px) + 0.5 - 0.5 * size_px
    return (c[:, None] ** 2 + c[None, :] ** 2) <= (0.5 * diameter) ** 2


def pixel_coordinates(size_px: int, pixel_m: float = TILE_PIXEL_M) -> tuple[np.ndarray, np.ndarray]:
    """East (x) and north (y) of every pixel centre relative to the tile centre, metres.

    Row 0 is north, as in the tile stores.
    """
    c = (np.arange(size_px) + 0.5 - 0.5 * size_px) * pixel_m
    x, y = np.meshgrid(c, -c)
    return x, y


def principal_planes(tiles: np.ndarray, mask: np.ndarray, pixel_m: float = TILE_PIXEL_M
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Centroid and unit normal (pointing up) of each tile's masked points, by PCA.

    Returns
    -------
    centroid : (n, 3) metres
    normal : (n, 3), the principal axis of least variance, with a positive z
    """
    x, y = pixel_coordinates(tiles.shape[1], pixel_m)
    z = tiles[:, mask].astype(np.float64)
    xy = np.stack([x[mask], y[mask]], axis=1)
    n_points = mask.sum()
    points = np.concatenate([np.broadcast_to(xy, (len(z), n_points, 2)), z[:, :, None]], axis=2)
    centroid = points.mean(axis=1)
    centred = points - centroid[:, None, :]
    covariance = np.einsum("npi,npj->nij", centred, centred) / n_points
    _, vectors = np.linalg.eigh(covariance)
    normal = vectors[:, :, 0]
    normal *= np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    return centroid, normal


def height_above_plane(tiles: np.ndarray, centroid: np.ndarray, normal: np.ndarray,
                       pixel_m: float = TILE_PIXEL_M) -> np.ndarray:
    """Signed distance of every pixel from its tile's principal plane, metres."""
    x, y = pixel_coordinates(tiles.shape[1], pixel_m)
    return ((x[None] - centroid[:, 0, None, None]) * normal[:, 0, None, None]
            + (y[None] - centroid[:, 1, None, None]) * normal[:, 1, None, None]
            + (tiles - centroid[:, 2, None, None]) * normal[:, 2, None, None])


def dominant_direction(height: np.ndarray, mask: np.ndarray, pixel_m: float = TILE_PIXEL_M,
                       smooth_px: float = 2.0) -> np.ndarray:
    """Azimuth (radians from east, anticlockwise) of the principal slope direction.

    The leading eigenvector of the slope vectors' second-moment matrix (the
    structure tensor) over the disc; defined modulo π. The heights are first
    smoothed by ``smooth_px`` pixels so that the pixel grid's own directions do
    not bias the slopes of sharp edges.
    """
    smooth = gaussian_filter(height, (0, smooth_px, smooth_px)) if smooth_px else height
    gy_rows, gx = np.gradient(smooth, pixel_m, axis=(1, 2))
    gy = -gy_rows  # rows run southwards
    # slopes near the rim see the zeros outside the disc
    inner = circular_mask(mask.shape[0], mask.shape[0] - 2 * (3 * smooth_px + 2))
    jxx = (gx * gx)[:, inner].sum(axis=1)
    jyy = (gy * gy)[:, inner].sum(axis=1)
    jxy = (gx * gy)[:, inner].sum(axis=1)
    return 0.5 * np.arctan2(2.0 * jxy, jxx - jyy)


def in_plane_axes(normal: np.ndarray, azimuth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal in-plane axes: e1 along ``azimuth`` projected onto the plane, e2 = n × e1."""
    horizontal = np.stack([np.cos(azimuth), np.sin(azimuth), np.zeros_like(azimuth)], axis=1)
    e1 = horizontal - (horizontal * normal).sum(axis=1, keepdims=True) * normal
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(normal, e1)


def rerasterise(height: np.ndarray, centroid: np.ndarray, e1: np.ndarray, e2: np.ndarray,
                crop_px: int, pixel_m: float = TILE_PIXEL_M) -> np.ndarray:
    """Heights resampled on a ``crop_px`` grid whose x axis is e1 and y axis e2.

    Output pixel (u, v) takes the height at the horizontal position of the
    plane point ``centroid + u e1 + v e2`` (bilinear; NaN outside the tile).
    """
    size = height.shape[1]
    u, v = pixel_coordinates(crop_px, pixel_m)
    out = np.empty((len(height), crop_px, crop_px), np.float32)
    for i in range(len(height)):
        px = centroid[i, 0] + u * e1[i, 0] + v * e2[i, 0]
        py = centroid[i, 1] + u * e1[i, 1] + v * e2[i, 1]
        col = px / pixel_m + 0.5 * size - 0.5
        row = -py / pixel_m + 0.5 * size - 0.5
        out[i] = map_coordinates(height[i], [row, col], order=1, mode="constant", cval=np.nan)
    return out


@dataclass
class NormalisationSteps:
    """Every step of :func:`normalise_tiles`, kept for figures and checks.

    Attributes
    ----------
    masked : (n, size, size) elevations inside the circular mask, NaN outside
    height : (n, size, size) heights above each tile's principal plane, NaN outside
    centroid, normal : (n, 3) the principal plane (:func:`principal_planes`)
    e1, e2 : (n, 3) in-plane axes, e1 along the dominant direction
    rerasterised : (n, crop_px, crop_px) heights on the rotated grid, NaN where the
        grid leaves the disc
    normalised : (n, crop_px, crop_px) the result: zero outside the second mask
    """

    masked: np.ndarray
    height: np.ndarray
    centroid: np.ndarray
    normal: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    rerasterised: np.ndarray
    normalised: np.ndarray


def normalisation_steps(tiles: np.ndarray, params: NormaliseParams | None = None
                        ) -> NormalisationSteps:
    """Normalise tiles and keep every intermediate step (:class:`NormalisationSteps`)."""
    params = params or NormaliseParams()
    tiles = np.asarray(tiles, np.float64)
    if tiles.ndim != 3 or tiles.shape[1] != tiles.shape[2]:
        raise ValueError(f"tiles must be (n, size, size), got shape {tiles.shape}")
    size = tiles.shape[1]
    if not 1 <= params.crop_px <= size:
        raise ValueError(f"crop_px {params.crop_px} must lie between 1 and the tile size {size}")
    mask = circular_mask(size)
    centroid, normal = principal_planes(tiles, mask, params.pixel_m)
    height = np.where(mask, height_above_plane(tiles, centroid, normal, params.pixel_m), 0.0)
    e1, e2 = in_plane_axes(normal, dominant_direction(height, mask, params.pixel_m))
    # the plane's centroid is where the rotated grid is centred; its height is 0
    inside = np.where(mask, height, np.nan)
    flat = rerasterise(inside, centroid, e1, e2, params.crop_px, params.pixel_m)
    crop_mask = circular_mask(params.crop_px)
    normalised = np.where(crop_mask & np.isfinite(flat), flat, 0.0).astype(np.float32)
    return NormalisationSteps(np.where(mask, tiles, np.nan), inside, centroid, normal, e1, e2,
                              flat, normalised)


def normalise_tiles(tiles: np.ndarray, params: NormaliseParams | None = None) -> np.ndarray:
    """Normalised tiles: detrended, rotated to the dominant direction, cropped, masked.

    Parameters
    ----------
    tiles : (n, size, size) elevations, metres (any offset)
    params : crop and pixel size

    Returns
    -------
    (n, crop_px, crop_px) float32 heights above each tile's principal plane,
    zero outside the circular mask
    """
    return normalisation_steps(tiles, params).normalised


def plane_frame_points(tile: np.ndarray, centroid: np.ndarray, normal: np.ndarray,
                       e1: np.ndarray, e2: np.ndarray, pixel_m: float = TILE_PIXEL_M
                       ) -> np.ndarray:
    """(m, 3) coordinates of one tile's finite pixels along (e1, e2, normal), metres.

    The point cloud the normalisation works on, seen in the tile's own frame: the
    principal plane is z = 0 and the dominant direction runs along x.
    """
    x, y = pixel_coordinates(tile.shape[0], pixel_m)
    keep = np.isfinite(tile)
    points = np.stack([x[keep], y[keep], tile[keep]], axis=1) - centroid
    return points @ np.stack([e1, e2, normal], axis=1)


def dct_features(normalised: np.ndarray, dct_size: int) -> np.ndarray:
    """The ``dct_size``² lowest-frequency orthonormal 2-D DCT coefficients, flattened."""
    if not 1 <= dct_size <= normalised.shape[1]:
        raise ValueError(f"DCT size {dct_size} must lie between 1 and the normalised tile size "
                         f"{normalised.shape[1]}")
    coefficients = dctn(normalised, type=2, norm="ortho", axes=(1, 2))
    return coefficients[:, :dct_size, :dct_size].reshape(len(normalised), -1).astype(np.float32)


#: how DCT coefficients become the vectors the SOM compares
FEATURE_TRANSFORMS = ("signed", "magnitude", "log_magnitude")


def feature_vectors(coefficients: np.ndarray, transform: str = "log_magnitude",
                    floor_m: float = 0.1) -> np.ndarray:
    """The vectors that the SOM and the neighbour evaluation compare.

    ``signed`` keeps the DCT coefficients as they are (the original's
    features). Their Euclidean distance depends on where a texture sits in the
    tile: two crevasse fields of the same spacing but shifted by half a period
    have opposite coefficients, and each is then nearer to a flat tile than to
    the other, so neighbours fall back on smooth tiles. ``magnitude`` drops the
    sign, which carries most of that phase; ``log_magnitude`` also compresses
    the range of relief (crevasses of 1 to 20 m), as ``log(1 + |c| / floor_m)``
    with ``floor_m`` about the DEM noise per coefficient (orthonormal DCT:
    pixel noise of σ metres gives coefficients of σ metres).
    """
    c = np.asarray(coefficients, np.float32)
    if transform == "signed":
        return c
    if transform == "magnitude":
        return np.abs(c)
    if transform == "log_magnitude":
        if floor_m <= 0:
            raise ValueError(f"the magnitude floor must be positive, got {floor_m}")
        return np.log1p(np.abs(c) / np.float32(floor_m))
    raise ValueError(f"feature transform must be one of {', '.join(FEATURE_TRANSFORMS)}; "
                     f"got {transform!r}")


def reconstruct(features: np.ndarray, dct_size: int, size_px: int) -> np.ndarray:
    """Tiles back from truncated DCT features (the dropped coefficients as zero)."""
    full = np.zeros((len(features), size_px, size_px), np.float64)
    full[:, :dct_size, :dct_size] = features.reshape(len(features), dct_size, dct_size)
    return idctn(full, type=2, norm="ortho", axes=(1, 2))


def reconstruction_errors(normalised: np.ndarray, features: np.ndarray, dct_size: int
                          ) -> np.ndarray:
    """Absolute error of every masked pixel of every tile after DCT truncation, metres."""
    back = reconstruct(features, dct_size, normalised.shape[1])
    mask = circular_mask(normalised.shape[1])
    return np.abs(back - normalised)[:, mask]


def normalise_library(library_store: str | Path, out_store: str | Path, out_json: str | Path,
                      params: NormaliseParams | None = None, *, progress: bool = True) -> dict:
    """Normalise and DCT-compress every library tile (``results/features/tiles_dct.zarr``).

    Streams the library in batches. The store holds ``features[tile, coefficient]``
    (float32, K² per tile, in library order), ``hash`` and ``split``; the JSON
    the distribution of reconstruction errors over masked pixels.

    Returns
    -------
    the reconstruction-error summary written to ``out_json``
    """
    params = params or NormaliseParams()
    library = open_group(library_store)
    elevation = library["elevation"]
    n, size = elevation.shape[0], elevation.shape[1]
    if params.crop_px > size:
        raise ValueError(f"normalise.crop_px {params.crop_px} exceeds the tile size {size} px "
                         f"of {library_store}")
    if params.dct_size > params.crop_px:
        raise ValueError(f"normalise.dct_size {params.dct_size} exceeds the normalised tile "
                         f"({params.crop_px} px): at most {params.crop_px}")
    k2 = params.dct_size ** 2
    over = np.zeros(len(ERROR_THRESHOLDS_M), np.int64)
    n_pixels = 0
    sum_sq = 0.0
    worst = 0.0
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, {"dct_size": params.dct_size, "crop_px": params.crop_px,
                                   "pixel_m": params.pixel_m, "library": str(library_store)})
        features = create_array(group, "features", (n, k2), np.float32, ("tile", "coefficient"),
                                (max(1, min(n, params.batch_size)), k2),
                                {"meaning": "orthonormal 2-D DCT of the normalised tile, "
                                            "K x K lowest frequencies, row-major"})
        batches = range(0, n, params.batch_size)
        for start in tqdm(batches, desc="normalise tiles", unit="batch", disable=not progress):
            flat = normalise_tiles(elevation[start:start + params.batch_size], params)
            coefficients = dct_features(flat, params.dct_size)
            features[start:start + len(flat)] = coefficients
            errors = reconstruction_errors(flat, coefficients, params.dct_size)
            over += [(errors > t).sum() for t in ERROR_THRESHOLDS_M]
            n_pixels += errors.size
            sum_sq += float((errors ** 2).sum())
            worst = max(worst, float(errors.max(initial=0.0)))
        for name in ("hash", "split"):
            write_array(group, name, library[name][:], ("tile",), chunk_rows=8192, dtype=str)
    summary = {
        "n_tiles": int(n), "dct_size": params.dct_size, "n_features": k2,
        "crop_px": params.crop_px, "n_pixels": int(n_pixels),
        **{f"share_over_{round(t * 100)}cm": float(c / max(n_pixels, 1))
           for t, c in zip(ERROR_THRESHOLDS_M, over, strict=True)},
        "rmse_m": float(np.sqrt(sum_sq / max(n_pixels, 1))), "max_error_m": worst,
    }
    write_json_atomic(out_json, summary)
    log.info("normalised %d tiles to %d DCT coefficients: %s", n, k2, summary)
    return summary
