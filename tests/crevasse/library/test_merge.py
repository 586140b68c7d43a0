"""Merging flights into the library: deduplication, order, split, bad shards."""

import numpy as np
import pytest
import zarr
from helpers import ramp_dem, write_geotiff

from cryolearn.crevasse.library.forward import simulate_store
from cryolearn.crevasse.library.merge import assign_split, build_library
from cryolearn.crevasse.library.tiles import tile_flight
from cryolearn.io.zarrstore import atomic_store, create_group


def make_flight(tmp_path, name, frames):
    tiles = tmp_path / "tiles" / f"{name}.zarr"
    waves = tmp_path / "waveforms" / f"{name}.zarr"
    tile_flight(frames, tiles, flight=name, progress=False)
    simulate_store(tiles, waves, progress=False)
    return tiles, waves


@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(5)
    out = []
    for i in range(2):
        z, transform = ramp_dem(rows=480, cols=700)
        z += rng.normal(0, 0.2, z.shape).astype(np.float32)
        out.append(write_geotiff(tmp_path / "dem" / f"frame{i}.tif", z, transform))
    return out


def test_identical_tiles_from_overlapping_frames_collapse(tmp_path, frames):
    # flight B re-flies frame 0 of flight A: the same bytes give the same tiles
    a = make_flight(tmp_path, "A", frames)
    b = make_flight(tmp_path, "B", [frames[0]])
    out = tmp_path / "library.zarr"
    summary = build_library([a[0], b[0]], [a[1], b[1]], out, flights=["A", "B"],
                            holdout_share=0.25, seed=3)
    lib = zarr.open_group(str(out), mode="r")
    n_a = zarr.open_group(str(a[0]), mode="r")["hash"].shape[0]
    n_b = zarr.open_group(str(b[0]), mode="r")["hash"].shape[0]
    assert summary["n_tiles_in"] == n_a + n_b
    assert summary["n_unique"] == n_a == lib["hash"].shape[0]
    assert summary["n_duplicates"] == n_b
    hashes = list(lib["hash"][:])
    assert hashes == sorted(hashes) and len(set(hashes)) == len(hashes)
    assert set(lib["flight"][:]) == {"A"}  # the first flight keeps its tiles
    # tiles and waveforms travel together
    src = zarr.open_group(str(a[1]), mode="r")
    src_hash = list(src["hash"][:])
    i = src_hash.index(hashes[0])
    np.testing.assert_array_equal(lib["waveform"][0], src["waveform"][i])
    assert set(lib["split"][:]) <= {"train", "holdout"}


def test_split_is_deterministic_by_hash_and_near_the_share():
    hashes = [f"{i:064x}" for i in range(4000)]
    split = assign_split(hashes, 0.2, seed=11)
    assert abs(np.mean(split == "holdout") - 0.2) < 0.03
    np.testing.assert_array_equal(split[:100], assign_split(hashes[:100], 0.2, seed=11))
    assert not np.array_equal(split, assign_split(hashes, 0.2, seed=12))


def test_bucketed_merge_equals_in_memory_merge(tmp_path, frames):
    a = make_flight(tmp_path, "A", frames)
    one, many = tmp_path / "one.zarr", tmp_path / "many.zarr"
    build_library([a[0]], [a[1]], one, flights=["A"], memory_mb=4096)
    build_library([a[0]], [a[1]], many, flights=["A"], memory_mb=0.5)  # many buckets
    g1, g2 = zarr.open_group(str(one), mode="r"), zarr.open_group(str(many), mode="r")
    for name in ("hash", "split", "elevation", "waveform", "x", "source"):
        np.testing.assert_array_equal(g1[name][:], g2[name][:])


def test_flight_with_zero_tiles_is_reported_not_fatal(tmp_path, frames, caplog):
    a = make_flight(tmp_path, "A", frames)
    empty_tiles = tmp_path / "tiles" / "E.zarr"
    z, transform = ramp_dem(rows=480, cols=700)
    z[::150, ::150] = -32767.0  # a nodata pixel in every window
    tile_flight([write_geotiff(tmp_path / "holes.tif", z, transform)], empty_tiles,
                flight="E", progress=False)
    empty_waves = tmp_path / "waveforms" / "E.zarr"
    simulate_store(empty_tiles, empty_waves, progress=False)
    out = tmp_path / "library.zarr"
    summary = build_library([a[0], empty_tiles], [a[1], empty_waves], out, flights=["A", "E"])
    assert summary["empty_flights"] == ["E"]
    assert "flight E yielded no valid tiles" in caplog.text
    assert zarr.open_group(str(out), mode="r").attrs["empty_flights"] == ["E"]


def test_stale_waveform_shard_is_refused_and_nothing_written(tmp_path, frames):
    a = make_flight(tmp_path, "A", frames)
    b = make_flight(tmp_path, "B", [frames[1]])
    out = tmp_path / "library.zarr"
    with pytest.raises(ValueError, match="flight B: the waveform shard does not match"):
        build_library([a[0], b[0]], [a[1], a[1]], out, flights=["A", "B"])
    assert not out.exists()


def test_no_tiles_at_all_is_an_error(tmp_path):
    z, transform = ramp_dem(rows=480, cols=700)
    z[::150, ::150] = -32767.0
    t, w = make_flight(tmp_path, "E", [write_geotiff(tmp_path / "h.tif", z, transform)])
    with pytest.raises(ValueError, match="no valid tiles in any flight"):
        build_library([t], [w], tmp_path / "lib.zarr", flights=["E"])


def test_atomic_store_keeps_the_old_store_when_writing_fails(tmp_path):
    path = tmp_path / "s.zarr"
    with atomic_store(path) as tmp:
        create_group(tmp, {"version": 1})
    with pytest.raises(RuntimeError), atomic_store(path) as tmp:
        create_group(tmp, {"version": 2})
        raise RuntimeError("killed")
    assert zarr.open_group(str(path), mode="r").attrs["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["s.zarr"]
