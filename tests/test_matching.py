"""Search backends, multi-offset matching, the matches store and the hold-out scores."""

import numpy as np
import pytest
import zarr

from cryolearn.crevasse.matching import (
    best_per_neighbour,
    build_index,
    match_store,
    match_with_offsets,
    matching_settings,
    offsets_bins,
    query_vectors,
    shift_bins,
)
from cryolearn.crevasse.matching_eval import agreement_scores, recall_at
from cryolearn.crevasse.search import (
    ApproximateIndex,
    ApproximateParams,
    ExactIndex,
    ExactParams,
    IndexMismatchError,
    load_index,
)
from cryolearn.io.zarrstore import atomic_store, create_group, write_array


def brute_force(library: np.ndarray, queries: np.ndarray, k: int):
    d2 = ((queries[:, None, :].astype(np.float64) - library[None].astype(np.float64)) ** 2).sum(-1)
    ids = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(d2, ids, axis=1)), ids


def clustered(n: int, d: int, n_clusters: int, seed: int, intrinsic: int = 6):
    """Clusters that, like waveform families, vary along few directions each.

    The centres and each cluster's directions come from a fixed generator, so
    library and query sets (different ``seed``) share the clusters.
    """
    fixed = np.random.default_rng(1234)
    centres = 3 * fixed.normal(size=(n_clusters, d))
    bases = fixed.normal(size=(n_clusters, intrinsic, d)) / np.sqrt(intrinsic)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_clusters, n)
    latent = rng.normal(size=(n, intrinsic))
    x = centres[labels] + np.einsum("ni,nid->nd", latent, bases[labels])
    return (x + 0.05 * rng.normal(size=(n, d))).astype(np.float32)


def bumps(n: int, m: int = 544, seed: int = 0) -> np.ndarray:
    """Waveform-like rows: two Gaussian bumps of random position, width and height."""
    rng = np.random.default_rng(seed)
    t = np.arange(m)
    out = np.zeros((n, m), np.float32)
    for _ in range(2):
        c = rng.uniform(10, 120, n)[:, None]
        w = rng.uniform(2, 12, n)[:, None]
        out += rng.uniform(0.2, 1, n)[:, None] * np.exp(-0.5 * ((t - c) / w) ** 2)
    return query_vectors(out)


@pytest.mark.parametrize("block_rows,query_rows", [(65536, 2048), (37, 11)])
def test_exact_search_equals_numpy_brute_force(block_rows, query_rows):
    rng = np.random.default_rng(3)
    library = rng.random((500, 40), dtype=np.float32)
    queries = rng.random((60, 40), dtype=np.float32)
    index = ExactIndex(library, ExactParams(block_rows=block_rows, query_rows=query_rows,
                                            device="cpu"))
    distances, ids = index.search(queries, 7)
    ref_d, ref_i = brute_force(library, queries, 7)
    np.testing.assert_array_equal(ids, ref_i)
    np.testing.assert_allclose(distances, ref_d, rtol=1e-5, atol=1e-6)


def test_exact_search_ranks_near_duplicates_correctly():
    # waveforms closer than the rounding error of |q|² - 2q·x + |x|² in float32
    base = bumps(1, seed=4)
    rng = np.random.default_rng(5)
    library = (base + 1e-4 * rng.normal(size=(300, 544))).astype(np.float32)
    queries = (base + 1e-4 * rng.normal(size=(20, 544))).astype(np.float32)
    _, ids = ExactIndex(library, ExactParams(block_rows=64, device="cpu")).search(queries, 5)
    np.testing.assert_array_equal(ids, brute_force(library, queries, 5)[1])


def test_exact_search_streams_a_zarr_array_like_memory(tmp_path):
    library = bumps(300, seed=1)
    group = create_group(tmp_path / "v.zarr")
    write_array(group, "vector", library, ("item", "sample"), chunk_rows=50)
    queries = bumps(25, seed=2)
    params = ExactParams(block_rows=64, device="cpu")
    streamed = ExactIndex(group["vector"], params).search(queries, 6)
    in_memory = ExactIndex(library, params).search(queries, 6)
    np.testing.assert_array_equal(streamed[1], in_memory[1])
    np.testing.assert_allclose(streamed[0], in_memory[0])


def test_more_neighbours_than_vectors_are_marked_missing():
    library = bumps(3, seed=1)
    for index in (ExactIndex(library), ApproximateIndex.build(library, ApproximateParams(
            factory="HNSW8", refine_factor=1))):
        distances, ids = index.search(bumps(2, seed=2), 5)
        assert (ids[:, :3] >= 0).all() and (ids[:, 3:] == -1).all()
        assert np.isinf(distances[:, 3:]).all()


def test_approximate_search_reaches_its_recall_on_clustered_data():
    library = clustered(6000, 64, 40, seed=0)
    queries = clustered(500, 64, 40, seed=1)
    _, exact_ids = brute_force(library, queries, 10)
    for params in (ApproximateParams(factory="HNSW32", ef_search=64, refine_factor=1),
                   ApproximateParams()):  # the default: PCA32 + HNSW32 + re-ranking
        _, ids = ApproximateIndex.build(library, params).search(queries, 10)
        assert recall_at(ids, exact_ids, 10) >= 0.95, params
    # a starved graph search finds fewer: the recall measure can fail
    starved = ApproximateIndex.build(library, ApproximateParams(
        factory="PCA4,HNSW4", ef_search=1, ef_construction=8, refine_factor=1))
    assert recall_at(starved.search(queries, 10)[1], exact_ids, 10) < 0.9


def test_deterministic_build_gives_the_same_index_twice():
    library = clustered(3000, 32, 20, seed=3)
    queries = clustered(200, 32, 20, seed=4)
    a = ApproximateIndex.build(library).search(queries, 10)
    b = ApproximateIndex.build(library).search(queries, 10)
    np.testing.assert_array_equal(a[1], b[1])


def test_empty_query_set_gives_empty_answers():
    library = bumps(50)
    for index in (ExactIndex(library), ApproximateIndex.build(library)):
        distances, ids = index.search(np.zeros((0, 544), np.float32), 4)
        assert distances.shape == (0, 4) and ids.shape == (0, 4)
        found = match_with_offsets(index, np.zeros((0, 544), np.float32), 4, offsets_bins(2))
        assert found.ids.shape == (0, 4)


def test_wrong_length_and_nan_queries_are_refused():
    index = ExactIndex(bumps(20))
    with pytest.raises(IndexMismatchError, match="540 samples per waveform, but the index "
                                                 "holds 544"):
        index.search(np.zeros((3, 540), np.float32), 2)
    bad = bumps(4)
    bad[2, 7] = np.nan
    with pytest.raises(IndexMismatchError, match="1 of 4 rows hold NaN"):
        index.search(bad, 2)


def test_offsets_are_tried_nearest_first():
    assert offsets_bins(0) == [0]
    assert offsets_bins(3) == [0, -1, 1, -2, 2, -3, 3]
    assert offsets_bins(4, 2) == [0, -2, 2, -4, 4]
    with pytest.raises(ValueError):
        offsets_bins(2, 0)


def test_shift_bins_moves_and_zero_fills():
    w = np.arange(1, 7, dtype=np.float32)[None]
    np.testing.assert_array_equal(shift_bins(w, 2), [[0, 0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(shift_bins(w, -2), [[3, 4, 5, 6, 0, 0]])


def test_multi_offset_look_up_recovers_a_known_shift():
    library = bumps(400, seed=7)
    index = ExactIndex(library)
    target = 123
    query = shift_bins(library[target:target + 1], 3)
    plain = match_with_offsets(index, query, 5, [0])
    found = match_with_offsets(index, query, 5, offsets_bins(4))
    assert found.ids[0, 0] == target
    assert found.offsets[0, 0] == -3
    assert found.distances[0, 0] < 1e-5 < plain.distances[0, 0]
    # every neighbour appears once, at its best offset
    assert len(set(found.ids[0])) == 5
    assert np.all(np.diff(found.distances[0]) >= 0)


def test_several_vectors_per_tile_give_each_tile_once():
    # the autoencoder space indexes several draws per tile: ids become tiles
    tiles = bumps(60, seed=8)
    rng = np.random.default_rng(9)
    vectors = np.concatenate([tiles + 0.01 * rng.normal(size=tiles.shape) for _ in range(3)])
    item_rows = np.tile(np.arange(100, 160), 3)
    index = ExactIndex(vectors.astype(np.float32))
    found = match_with_offsets(index, tiles[:10], 6, [0, -1, 1], item_rows=item_rows)
    np.testing.assert_array_equal(found.ids[:, 0], np.arange(100, 110))
    assert all(len(set(row)) == 6 for row in found.ids)
    assert (found.ids >= 100).all()


def test_best_per_neighbour_keeps_each_id_once_at_its_best():
    distances = np.array([[0.5, 0.2, 0.3, 0.9, 0.1]], np.float32)
    ids = np.array([[4, 4, 7, 8, 7]])
    offsets = np.array([[0, 1, 0, 0, -1]], np.int16)
    found = best_per_neighbour(distances, ids, offsets, 3)
    np.testing.assert_array_equal(found.ids, [[7, 4, 8]])
    np.testing.assert_allclose(found.distances, [[0.1, 0.2, 0.9]])
    np.testing.assert_array_equal(found.offsets, [[-1, 1, 0]])


def test_recall_and_agreement_known_answers():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 1], [5, 0, 0, 0]])
    assert recall_at(found, truth, 4) == pytest.approx((3 / 4 + 1 / 4) / 2)
    query_class = np.array([0, 1, -1])
    neighbours = np.array([[0, 0, 1, -1], [1, 2, 2, 2], [0, 0, 0, 0]])
    train_class = np.array([0, 0, 1, 2])
    scores = agreement_scores(query_class, neighbours, train_class)
    # valid neighbours of the two known queries: 3 + 4; agreeing: 2 + 1
    assert scores["class_agreement"] == pytest.approx(3 / 7)
    # chance = f_query · f_train = 0.5 * 0.5 + 0.5 * 0.25
    assert scores["chance"] == pytest.approx(0.375)
    assert scores["majority_accuracy"] == pytest.approx(0.5)
    assert scores["n_queries"] == 2


def library_store(path, waveforms: np.ndarray, holdout_every: int = 5):
    n = len(waveforms)
    split = np.where(np.arange(n) % holdout_every == 0, "holdout", "train").astype(object)
    with atomic_store(path) as tmp:
        group = create_group(tmp)
        write_array(group, "waveform", waveforms, ("tile", "sample"))
        write_array(group, "split", split, ("tile",), dtype=str)
        write_array(group, "hash", np.array([f"h{i:05d}" for i in range(n)], dtype=object),
                    ("tile",), dtype=str)


def denoised_store(path, waveforms: np.ndarray, snr: np.ndarray):
    n = len(waveforms)
    with atomic_store(path) as tmp:
        group = create_group(tmp, {"campaign": "TEST"})
        write_array(group, "waveform", waveforms, ("shot", "sample"))
        write_array(group, "snr", snr.astype(np.float32), ("shot",))
        for name in ("x", "y", "lat", "lon", "time"):
            write_array(group, name, np.arange(n, dtype=np.float64), ("shot",))
        write_array(group, "rec_ndx", np.arange(n, dtype=np.int64), ("shot",))
        write_array(group, "shot_count", np.zeros(n, np.int32), ("shot",))


@pytest.fixture()
def small_index(tmp_path):
    waveforms = bumps(250, seed=11) / 10  # any scale: the index works at unit peak
    library_store(tmp_path / "library.zarr", waveforms)
    build_index(tmp_path / "library.zarr", tmp_path / "index", sigma_bins=0.0,
                approximate=ApproximateParams(factory="HNSW16", refine_factor=1))
    return tmp_path, waveforms


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_match_store_finds_library_rows_and_reports_skips(small_index, backend):
    tmp_path, waveforms = small_index
    train_rows = np.flatnonzero(np.arange(len(waveforms)) % 5 != 0)
    shots = waveforms[train_rows[:12]] * 3.0
    shots[4] = shift_bins(shots[4:5], -2)[0]
    shots[7, 100] = np.nan
    snr = np.full(12, 40.0)
    snr[9] = 2.0
    denoised_store(tmp_path / "denoised.zarr", shots, snr)
    counts = match_store(tmp_path / "index", tmp_path / "denoised.zarr",
                         tmp_path / "matches.zarr", backend=backend, k=4,
                         offsets=offsets_bins(2), min_snr=5)
    assert counts == {"n_shots": 12, "n_matched": 10, "non_finite": 1, "low_snr": 1}
    g = zarr.open_group(str(tmp_path / "matches.zarr"), mode="r")
    assert g["neighbour"].shape == (12, 4) and g.attrs["backend"] == backend
    matched = g["matched"][:]
    assert not matched[7] and not matched[9]
    assert (g["neighbour"][:][~matched] == -1).all()
    ok = np.flatnonzero(matched)
    # every shot is a library training waveform: its own row is its nearest match
    np.testing.assert_array_equal(g["neighbour"][:][ok, 0], train_rows[:12][ok])
    assert g["offset_bins"][4, 0] == 2
    np.testing.assert_allclose(g["distance"][:][ok, 0], 0, atol=1e-3)
    np.testing.assert_array_equal(g["rec_ndx"][:], np.arange(12))


def test_match_store_handles_an_empty_campaign(small_index):
    tmp_path, _ = small_index
    denoised_store(tmp_path / "empty.zarr", np.zeros((0, 544), np.float32), np.zeros(0))
    counts = match_store(tmp_path / "index", tmp_path / "empty.zarr", tmp_path / "m.zarr",
                         backend="exact", k=4)
    assert counts["n_shots"] == 0
    assert zarr.open_group(str(tmp_path / "m.zarr"), mode="r")["neighbour"].shape == (0, 4)


def test_match_store_refuses_a_different_waveform_length(small_index):
    tmp_path, _ = small_index
    denoised_store(tmp_path / "short.zarr", bumps(5, m=500), np.full(5, 40.0))
    with pytest.raises(IndexMismatchError, match=r"short\.zarr: shots have 500 samples"):
        match_store(tmp_path / "index", tmp_path / "short.zarr", tmp_path / "m.zarr",
                    backend="exact")
    assert not (tmp_path / "m.zarr").exists()


def test_saved_approximate_index_answers_like_the_built_one(small_index):
    tmp_path, waveforms = small_index
    loaded = load_index(tmp_path / "index", "approximate")
    exact = load_index(tmp_path / "index", "exact")
    assert loaded.n_vectors == exact.n_vectors == 200
    queries = query_vectors(waveforms[:30])
    assert recall_at(loaded.search(queries, 5)[1], exact.search(queries, 5)[1], 5) > 0.95
    with pytest.raises(IndexMismatchError, match="rebuild the index"):
        load_index(tmp_path / "index", "approximate",
                   approximate=ApproximateParams(factory="IVF16,Flat"))
    with pytest.raises(FileNotFoundError, match="not an index folder"):
        load_index(tmp_path, "exact")


def test_settings_parse_the_config_section():
    s = matching_settings({"backend": "exact", "k": 12, "max_offset_bins": 2,
                           "exact": {"block_rows": 10}, "approximate": {"ef_search": 20}})
    assert s.offsets == [0, -1, 1, -2, 2] and s.k == 12
    assert s.exact.block_rows == 10 and s.approximate.ef_search == 20


def test_best_lag_lines_a_shot_up_with_its_cleaned_waveform():
    from cryolearn.crevasse.figures import best_lag

    reference = bumps(1, seed=12)[0]
    assert best_lag(shift_bins(reference[None], -9)[0], reference) == 9
