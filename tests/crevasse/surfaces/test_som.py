"""Self-organising maps: neighbourhoods, BMUs, backends, the SOM store (rule fit_som)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import blobs

from cryolearn.crevasse.surfaces.normalise import feature_vectors
from cryolearn.crevasse.surfaces.som import (
    GRID_TYPES,
    MAP_TYPES,
    FeatureSpace,
    FeatureView,
    MapGrid,
    SampleChunks,
    SomParams,
    apply_neighbourhood,
    best_matching_units,
    chunk_rows_for,
    fit_som_store,
    initial_codebook,
    sample_pass,
    som_features,
    train_som,
)
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array


@pytest.mark.parametrize("maptype", MAP_TYPES)
@pytest.mark.parametrize("gridtype", GRID_TYPES)
@pytest.mark.parametrize("compact", [True, False])
def test_factored_neighbourhood_equals_dense_matrix(maptype, gridtype, compact):
    grid = MapGrid(6, 9, maptype, gridtype)
    values = torch.as_tensor(np.random.default_rng(1).normal(size=(grid.n_nodes, 4)))
    for radius in (0.7, 1.0, 2.5, 4.5):
        dense = grid.neighbourhood_matrix(radius, 0.5, compact) @ values.numpy()
        factored = apply_neighbourhood(values, grid.neighbourhood_factors(radius, 0.5, compact),
                                       grid)
        np.testing.assert_allclose(factored.numpy(), dense, atol=1e-12)


def test_map_geometry():
    hexagonal = MapGrid(4, 5, "planar", "hexagonal")
    # every inner node of a hexagonal map has 6 neighbours at distance 1, a rectangular one 4
    degree = np.bincount(hexagonal.adjacent_pairs().ravel(), minlength=20)
    assert degree[1 * 5 + 2] == 6 and degree[2 * 5 + 2] == 6
    assert np.bincount(MapGrid(4, 5).adjacent_pairs().ravel(), minlength=20)[7] == 4
    torus = MapGrid(4, 6, "toroid", "rectangular")
    assert torus.distance(0, 5) == pytest.approx(1.0)        # wraps across the columns
    assert torus.distance(0, 3 * 6) == pytest.approx(1.0)    # and across the rows
    assert MapGrid(4, 6).distance(0, 5) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="even number of rows"):
        SomParams(rows=3, columns=4, maptype="toroid", gridtype="hexagonal")


@pytest.mark.parametrize("maptype", MAP_TYPES)
@pytest.mark.parametrize("gridtype", GRID_TYPES)
@pytest.mark.parametrize("shape", [(2, 3), (4, 6), (6, 9)])
def test_adjacent_pairs_equal_those_of_the_distance_matrix(maptype, gridtype, shape):
    if maptype == "toroid" and gridtype == "hexagonal" and shape[0] % 2:
        pytest.skip("a hexagonal toroid needs an even number of rows")
    grid = MapGrid(*shape, maptype, gridtype)
    i, j = np.nonzero(np.triu(grid.distance_matrix() ** 2 <= 1 + 1e-6, k=1))
    np.testing.assert_array_equal(grid.adjacent_pairs(), np.column_stack([i, j]))


def test_best_matching_units_equal_brute_force():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(700, 30)).astype(np.float32) + 5.0
    codebook = rng.normal(size=(48, 30)).astype(np.float32) + 5.0
    d = np.linalg.norm(x[:, None, :].astype(np.float64) - codebook[None], axis=2)
    order = np.argsort(d, axis=1)
    top, distance = best_matching_units(torch.as_tensor(x), torch.as_tensor(codebook))
    np.testing.assert_array_equal(top.numpy(), order[:, :2])
    np.testing.assert_allclose(distance.numpy(), d[np.arange(700), order[:, 0]], rtol=1e-5)
    # chunked and centred as in training: the same units, whatever the chunk size
    grid = MapGrid(6, 8)
    for chunk in (1, 64, 5000):
        result = sample_pass(SampleChunks(x, torch.device("cpu"), chunk),
                             torch.as_tensor(codebook), grid, accumulate=True)
        np.testing.assert_array_equal(result.bmu, order[:, 0])
        np.testing.assert_allclose(result.counts.numpy(), np.bincount(order[:, 0], minlength=48))
        sums = np.zeros((48, 30))
        np.add.at(sums, order[:, 0], x)
        np.testing.assert_allclose(result.sums.numpy(), sums, rtol=1e-4, atol=1e-3)


def test_batch_epoch_matches_a_dense_reference():
    """One epoch equals Σ h x / Σ h written out with the full neighbourhood matrix."""
    x, _ = blobs(60, np.eye(3, 12) * 6, 1.0, seed=3)
    params = SomParams(rows=4, columns=5, epochs=1, radius0=2.0, seed=3)
    start = initial_codebook(x, params)
    trained = train_som(x, params, start, progress=False)
    d = np.linalg.norm(x[:, None, :] - start[None], axis=2)
    h = params.grid().neighbourhood_matrix(2.0)[:, d.argmin(axis=1)]
    expected = (h @ x) / h.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(trained.codebook.reshape(20, -1), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("maptype", MAP_TYPES)
def test_backends_agree_from_the_same_start(maptype):
    pytest.importorskip("somoclu")
    x, _ = blobs(150, np.random.default_rng(4).normal(size=(5, 16)) * 4, 1.0, seed=4)
    params = SomParams(rows=6, columns=8, epochs=5, maptype=maptype, seed=4)
    start = initial_codebook(x, params)
    ours = train_som(x, params, start, progress=False)
    reference = train_som(x, replace(params, backend="somoclu"), start, progress=False)
    assert ours.quantisation_error[0] == pytest.approx(reference.quantisation_error[0])
    assert ours.quantisation_error[-1] == pytest.approx(reference.quantisation_error[-1],
                                                        rel=0.02)
    # training did something: the error fell
    assert ours.quantisation_error[-1] < 0.8 * ours.quantisation_error[0]


def test_pca_projection_keeps_the_map_quality():
    rng = np.random.default_rng(5)
    latent = rng.normal(size=(1500, 4)) * [6, 4, 3, 2]
    x = (latent @ rng.normal(size=(4, 60)) + 0.2 * rng.normal(size=(1500, 60))).astype(np.float32)
    full = train_som(x, SomParams(rows=6, columns=8, epochs=6, seed=5), progress=False)
    projected = train_som(x, SomParams(rows=6, columns=8, epochs=6, pca_components=6, seed=5),
                          progress=False)
    assert projected.space == "pca6" and projected.codebook.shape == (6, 8, 60)
    assert projected.extra["explained_variance"] > 0.99
    assert projected.quantisation_error_full == pytest.approx(projected.bmu_distance.mean())
    assert projected.quantisation_error_full < 1.05 * full.quantisation_error[-1]


def test_training_is_deterministic_and_records_every_epoch():
    x, _ = blobs(80, np.eye(4, 10) * 5, 1.0, seed=6)
    params = SomParams(rows=4, columns=6, epochs=4, seed=6)
    a, b = (train_som(x, params, progress=False) for _ in range(2))
    np.testing.assert_array_equal(a.codebook, b.codebook)
    np.testing.assert_array_equal(a.bmu, b.bmu)
    assert a.quantisation_error.shape == (5,) and a.topographic_error.shape == (5,)
    np.testing.assert_allclose(a.radius, [2.0, 5 / 3, 4 / 3, 1.0])  # half of 4 rows, cooling to 1
    assert a.umatrix.shape == (4, 6) and np.all(a.umatrix > 0)


def test_map_larger_than_the_samples_is_refused(tmp_path):
    store = tmp_path / "tiles_dct.zarr"
    with atomic_store(store) as tmp:
        group = create_group(tmp)
        write_array(group, "features", np.ones((5, 4), np.float32), ("tile", "coefficient"))
        write_array(group, "hash", np.array(list("abcde")), ("tile",), dtype=str)
        write_array(group, "split", np.array(["train"] * 5), ("tile",), dtype=str)
    out = tmp_path / "som.zarr"
    with pytest.raises(ValueError, match=r"tiles_dct.zarr: a SOM of 2 × 3 = 6 nodes is larger "
                                         r"than its 5 tiles"):
        fit_som_store(store, out, SomParams(rows=2, columns=3), progress=False)
    assert not out.exists() and not list(tmp_path.glob("som.zarr*"))
    with pytest.raises(ValueError, match="does not fit a map"):
        train_som(np.ones((10, 4), np.float32), SomParams(rows=2, columns=2),
                  np.ones((3, 4)), progress=False)


def test_fit_som_store_writes_the_contract(tmp_path):
    x, _ = blobs(40, np.eye(3, 9) * 4, 0.5, seed=7)
    store = tmp_path / "tiles_dct.zarr"
    with atomic_store(store) as tmp:
        group = create_group(tmp)
        write_array(group, "features", x, ("tile", "coefficient"))
        write_array(group, "hash", np.array([f"h{i}" for i in range(len(x))]), ("tile",),
                    dtype=str)
        write_array(group, "split", np.array(["train"] * len(x)), ("tile",), dtype=str)
    fit_som_store(store, tmp_path / "som.zarr", SomParams(rows=3, columns=4, epochs=3, seed=7),
                  progress=False)
    som = open_group(tmp_path / "som.zarr")
    assert som["codebook"].shape == (3, 4, 9)
    assert som["bmu"].shape == (120,) and som["bmu"][:].max() < 12
    assert som["umatrix"].shape == (3, 4)
    assert som["quantisation_error"].shape == (4,) and som["radius"].shape == (3,)
    assert som.attrs["feature_transform"] == "log_magnitude"


@pytest.mark.parametrize("pca_components", [0, 4])
def test_a_map_streamed_from_the_store_equals_one_trained_in_memory(tmp_path, pca_components):
    """FeatureView reads and transforms a block at a time (fit_som_store on the CPU, when
    the tiles take more than one chunk); over many chunks, with a PCA start and a PCA
    space, it trains the same map bit for bit, and so does fit_som_store."""
    x, _ = blobs(300, np.eye(3, 9) * 4, 0.5, seed=3)
    store = tmp_path / "tiles_dct.zarr"
    with atomic_store(store) as tmp:
        write_array(create_group(tmp), "features", x, ("tile", "coefficient"), chunk_rows=64)
    space = FeatureSpace()
    view = FeatureView(store, space)
    whole = som_features(store, space)
    assert view.shape == whole.shape and len(view) == len(whole)
    np.testing.assert_array_equal(view[10:20], whole[10:20])
    np.testing.assert_array_equal(view[np.array([3, 99, 250])], whole[[3, 99, 250]])
    np.testing.assert_array_equal(np.asarray(view), whole)
    # 20 kB a chunk: the 900 tiles pass in chunks of 116
    params = SomParams(rows=3, columns=4, epochs=3, seed=7, chunk_mb=0.02, pca_sample=500,
                       pca_components=pca_components)
    assert chunk_rows_for(params.n_nodes, params.chunk_mb, 9) == 116
    streamed = train_som(view, params, progress=False)
    in_memory = train_som(whole, params, progress=False)
    np.testing.assert_array_equal(streamed.codebook, in_memory.codebook)
    np.testing.assert_array_equal(streamed.bmu, in_memory.bmu)
    np.testing.assert_array_equal(streamed.quantisation_error, in_memory.quantisation_error)
    with atomic_store(tmp_path / "with_hashes.zarr") as tmp:
        group = create_group(tmp)
        write_array(group, "features", x, ("tile", "coefficient"), chunk_rows=64)
        write_array(group, "hash", np.array([f"h{i}" for i in range(len(x))]), ("tile",),
                    dtype=str)
        write_array(group, "split", np.array(["train"] * len(x)), ("tile",), dtype=str)
    fit_som_store(tmp_path / "with_hashes.zarr", tmp_path / "som.zarr", params, space,
                  progress=False)
    np.testing.assert_array_equal(open_group(tmp_path / "som.zarr")["bmu"][:], in_memory.bmu)


def test_feature_transforms():
    c = np.array([[-2.0, 0.0, 0.1, 3.0]], np.float32)
    np.testing.assert_array_equal(feature_vectors(c, "signed"), c)
    np.testing.assert_array_equal(feature_vectors(c, "magnitude"), np.abs(c))
    np.testing.assert_allclose(feature_vectors(c, "log_magnitude", 0.1),
                               np.log1p(np.abs(c) / 0.1), rtol=1e-6)
    # a texture and the same texture shifted by half a period: opposite signs, equal magnitudes
    assert np.abs(feature_vectors(-c, "log_magnitude") - feature_vectors(c, "log_magnitude")
                  ).max() == 0
    with pytest.raises(ValueError, match="feature transform"):
        feature_vectors(c, "phase")
