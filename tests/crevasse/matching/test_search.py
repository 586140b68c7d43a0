"""Search backends: exact against brute force, approximate recall, saved indexes."""

import numpy as np
import pytest
from helpers import bumps

from cryolearn.crevasse.evaluate.matching import recall_at
from cryolearn.crevasse.matching.match import (
    match_with_offsets,
    offsets_bins,
    query_vectors,
)
from cryolearn.crevasse.matching.search import (
    ApproximateIndex,
    ApproximateParams,
    ExactIndex,
    ExactParams,
    IndexMismatchError,
    load_index,
)
from cryolearn.io.zarrstore import create_group, write_array


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
