"""Multi-offset matching of shots to the library and the matches store (rule match_shots)."""

import numpy as np
import pytest
import zarr
from helpers import bumps

from cryolearn.crevasse.matching.match import (
    best_per_neighbour,
    match_store,
    match_with_offsets,
    matching_settings,
    offsets_bins,
    shift_bins,
)
from cryolearn.crevasse.matching.search import (
    ExactIndex,
    IndexMismatchError,
)
from cryolearn.io.zarrstore import atomic_store, create_group, write_array


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


def test_settings_parse_the_config_section():
    s = matching_settings({"backend": "exact", "k": 12, "max_offset_bins": 2,
                           "exact": {"block_rows": 10}, "approximate": {"ef_search": 20}})
    assert s.offsets == [0, -1, 1, -2, 2] and s.k == 12
    assert s.exact.block_rows == 10 and s.approximate.ef_search == 20


def test_the_aligned_space_matches_recorded_shots_wherever_the_gate_put_them(tmp_path):
    """Library and shots aligned on their leading edges: no autoencoder, the width kept."""
    from helpers import write_waveform_library

    from cryolearn.crevasse.matching.match import build_index
    from cryolearn.crevasse.matching.search import ApproximateParams
    from cryolearn.crevasse.shots.align import AlignSettings
    from cryolearn.crevasse.shots.augment import EmpiricalDistributions, write_distributions
    from cryolearn.signal import fractional_shift

    rng = np.random.default_rng(2)
    waveforms = bumps(100, seed=12)
    write_waveform_library(tmp_path / "library.zarr", waveforms)
    dist = EmpiricalDistributions(
        noise=rng.normal(0.0, 0.004, (200, 64)).astype(np.float32),
        amplitude_v=np.full(50, 0.9, np.float32), width_ns=np.full(50, 5.0, np.float32),
        width_edges_ns=np.array([0.0, 1000.0]),
        leading_edge_ns=rng.uniform(80, 300, 50).astype(np.float32),
        background_v=np.full(50, 0.1, np.float32))
    write_distributions(dist, tmp_path / "dist.zarr", {})
    meta = build_index(tmp_path / "library.zarr", tmp_path / "index", sigma_bins=0.0,
                       approximate=ApproximateParams(factory="HNSW16", refine_factor=1),
                       space="aligned", distributions_store=tmp_path / "dist.zarr", draws=2,
                       align_settings=AlignSettings(threshold_sd=5.0))
    assert meta["space"] == "aligned" and meta["align"]["threshold_sd"] == 5.0
    # recorded shots: training waveforms at 0.8 V, wherever the gate put them (40-300 ns
    # later), over a 0.12 V background and the same kind of noise
    train_rows = np.flatnonzero(np.arange(100) % 5 != 0)[:20]
    shift = rng.uniform(40, 300, 20)
    recorded = 0.12 + fractional_shift(0.8 * waveforms[train_rows], shift) + rng.normal(
        0.0, 0.004, (20, 544))
    shots = tmp_path / "shots.zarr"
    with atomic_store(shots) as tmp:
        group = create_group(tmp, {"campaign": "TEST"})
        write_array(group, "waveform", recorded.astype(np.float32), ("shot", "sample"))
        write_array(group, "background_mean", np.full(20, 0.12, np.float32), ("shot",))
    denoised_store(tmp_path / "denoised.zarr", np.zeros((20, 544), np.float32),
                   np.full(20, 40.0))
    match_store(tmp_path / "index", tmp_path / "denoised.zarr", tmp_path / "matches.zarr",
                backend="exact", k=3, shots_store=shots)
    g = zarr.open_group(str(tmp_path / "matches.zarr"), mode="r")
    assert g.attrs["space"] == "aligned"
    # each shot's nearest tile is the tile it was made from, for all but one or two
    assert (g["neighbour"][:][:, 0] == train_rows).mean() >= 0.9
    with pytest.raises(ValueError, match="aligned-space index: matching needs"):
        match_store(tmp_path / "index", tmp_path / "denoised.zarr", tmp_path / "m2.zarr",
                    backend="exact", k=3)
