"""Tile normalisation (detrend, rotate, crop, mask) and DCT compression."""

import json

import numpy as np
import pytest
import zarr

from cryolearn.crevasse.surfaces.normalise import (
    NormaliseParams,
    circular_mask,
    dct_features,
    dominant_direction,
    normalisation_steps,
    normalise_library,
    normalise_tiles,
    pixel_coordinates,
    plane_frame_points,
    principal_planes,
    reconstruction_errors,
)
from cryolearn.io.zarrstore import atomic_store, create_group, write_array

X, Y = pixel_coordinates(200)


def crevasse_field(azimuth: float, spacing_m: float = 20.0, depth_m: float = 3.0) -> np.ndarray:
    """V-shaped crevasses running across ``azimuth`` (their slopes point along it)."""
    d = X * np.cos(azimuth) + Y * np.sin(azimuth)
    phase = np.abs((d % spacing_m) - 0.5 * spacing_m)
    return -depth_m * np.clip(1 - phase / 2.0, 0, None)


def test_a_tilted_plane_normalises_to_a_flat_tile():
    planes = np.stack([0.05 * X - 0.03 * Y + 3.0, -0.1 * X + 12.0, 0.07 * Y])
    out = normalise_tiles(planes)
    assert out.shape == (3, 142, 142)
    np.testing.assert_allclose(out, 0.0, atol=1e-6)


def test_the_plane_normal_is_the_tilt():
    slope = np.tan(np.radians(4.0))
    _, normal = principal_planes((slope * X)[None], circular_mask(200))
    expected = np.array([-slope, 0.0, 1.0]) / np.hypot(slope, 1.0)
    np.testing.assert_allclose(normal[0], expected, atol=1e-9)


@pytest.mark.parametrize("rotation", [0.4, 1.1, np.pi / 2, 2.6])
def test_a_rotated_crevasse_pattern_normalises_to_the_same_orientation(rotation):
    base = 0.3
    tiles = np.stack([crevasse_field(base) + 0.03 * X, crevasse_field(base + rotation)])
    mask = circular_mask(200)
    height = np.where(mask, tiles - tiles[:, mask].mean(axis=1)[:, None, None], 0)
    azimuth = dominant_direction(height, mask)
    turned = (azimuth[1] - azimuth[0] - rotation) % np.pi
    assert min(turned, np.pi - turned) < np.radians(1.0)
    a, b = normalise_tiles(tiles)
    inner = circular_mask(142, 130)
    assert np.corrcoef(a[inner], b[inner])[0, 1] > 0.95
    # and the normalised crevasses run along y: heights vary across x, barely along y
    assert np.abs(np.diff(a, axis=0))[inner[1:]].mean() < 0.2 * np.abs(np.diff(a, axis=1))[
        inner[:, 1:]].mean()


def test_unnormalised_rotations_do_not_match():
    # the same comparison without normalisation: the check above can fail
    a, b = crevasse_field(0.3), crevasse_field(1.4)
    mask = circular_mask(200, 180)
    assert np.corrcoef(a[mask], b[mask])[0, 1] < 0.5


def test_dct_truncation_of_a_smooth_surface_reconstructs_within_tolerance():
    smooth = 2.0 * np.sin(X / 30.0) * np.cos(Y / 25.0) + 0.5 * np.cos((X + Y) / 40.0)
    flat = normalise_tiles(smooth[None])
    errors = reconstruction_errors(flat, dct_features(flat, 71), 71)
    assert np.sqrt(np.mean(errors ** 2)) < 0.03
    assert (errors > 0.1).mean() < 0.02
    # the full set of coefficients reconstructs exactly (the transform is orthonormal)
    full = dct_features(flat, 142)
    assert reconstruction_errors(flat, full, 142).max() < 1e-5
    np.testing.assert_allclose((full ** 2).sum(), (flat.astype(np.float64) ** 2).sum(), rtol=1e-5)


def test_sizes_beyond_the_tile_are_refused():
    with pytest.raises(ValueError, match="crop_px 300 must lie between 1 and the tile size 200"):
        normalise_tiles(np.zeros((1, 200, 200)), NormaliseParams(crop_px=300))
    with pytest.raises(ValueError, match="DCT size 150 must lie between 1 and the normalised"):
        dct_features(np.zeros((1, 142, 142)), 150)


def library_of(tiles: np.ndarray, path):
    n = len(tiles)
    with atomic_store(path) as tmp:
        group = create_group(tmp)
        write_array(group, "elevation", tiles.astype(np.float32), ("tile", "y_px", "x_px"),
                    chunk_rows=4)
        write_array(group, "hash", np.array([f"h{i}" for i in range(n)], dtype=object),
                    ("tile",), dtype=str)
        write_array(group, "split", np.array(["train"] * n, dtype=object), ("tile",), dtype=str)


def test_normalise_library_streams_tiles_into_features_and_reports_errors(tmp_path):
    tiles = np.stack([crevasse_field(a) + s * X for a, s in zip(np.linspace(0, 3, 7),
                                                               np.linspace(-0.05, 0.05, 7),
                                                               strict=True)])
    library_of(tiles, tmp_path / "library.zarr")
    params = NormaliseParams(dct_size=30, batch_size=3)
    summary = normalise_library(tmp_path / "library.zarr", tmp_path / "f.zarr",
                                tmp_path / "dct.json", params, progress=False)
    g = zarr.open_group(str(tmp_path / "f.zarr"), mode="r")
    assert g["features"].shape == (7, 900)
    np.testing.assert_allclose(g["features"][:], dct_features(normalise_tiles(tiles, params), 30),
                               atol=1e-5)
    assert list(g["hash"][:]) == [f"h{i}" for i in range(7)]
    saved = json.loads((tmp_path / "dct.json").read_text())
    assert saved == summary
    assert 0 < saved["share_over_30cm"] < saved["share_over_10cm"] < 1


def test_normalise_library_refuses_a_dct_larger_than_the_crop(tmp_path):
    library_of(np.zeros((2, 200, 200)), tmp_path / "library.zarr")
    with pytest.raises(ValueError, match="dct_size 150 exceeds the normalised tile"):
        normalise_library(tmp_path / "library.zarr", tmp_path / "f.zarr", tmp_path / "d.json",
                          NormaliseParams(dct_size=150), progress=False)
    assert not (tmp_path / "f.zarr").exists()


def test_the_steps_end_in_the_normalised_tile_and_the_point_cloud_lies_on_its_plane():
    azimuth = 0.7
    tiles = np.stack([crevasse_field(azimuth) + 0.04 * X - 0.02 * Y + 1500.0])
    steps = normalisation_steps(tiles)
    np.testing.assert_array_equal(steps.normalised, normalise_tiles(tiles))
    disc = circular_mask(200)
    assert np.isnan(steps.masked[0][~disc]).all() and np.isfinite(steps.masked[0][disc]).all()
    points = plane_frame_points(steps.masked[0], steps.centroid[0], steps.normal[0],
                                steps.e1[0], steps.e2[0])
    assert points.shape == (disc.sum(), 3)
    # the third coordinate is the height above the principal plane, centred on it
    np.testing.assert_allclose(points[:, 2], steps.height[0][disc], atol=1e-9)
    assert abs(points[:, 2].mean()) < 1e-9
    # the crevasses' slopes point along e1: heights vary along x of the frame, not y
    order_x = np.argsort(points[:, 0])
    order_y = np.argsort(points[:, 1])
    rough_x = np.abs(np.diff(points[order_x, 2])).mean()
    rough_y = np.abs(np.diff(points[order_y, 2])).mean()
    assert rough_x < 0.2 * rough_y  # sorted by x, neighbours share their crevasse phase
    assert steps.rerasterised.shape == (1, 142, 142)
