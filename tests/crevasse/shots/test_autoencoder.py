"""The waveform autoencoder: learning, checkpoints and resumption, determinism, real shots."""

import dataclasses

import numpy as np
import pytest
import torch
from helpers import plane_tiles, shared_data_dir

from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.matching.match import (
    autoencoder_vectors,
    library_vectors,
    match_with_offsets,
    offsets_bins,
    query_vectors,
)
from cryolearn.crevasse.matching.search import ExactIndex
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    degrade,
    measure_shots,
    read_distributions,
    write_distributions,
)
from cryolearn.crevasse.shots.autoencoder import (
    AutoencoderShape,
    TrainingConfig,
    WaveformAutoencoder,
    cosine_learning_rate,
    denoise,
    load_model,
    save_model,
    train_autoencoder,
)
from cryolearn.crevasse.shots.ingest import ingest_campaign, read_shot_arrays

SMALL = {"branch_channels": [4, 4, 4, 4], "latent": 16}


def rough_tiles(n, seed):
    """Planes of random slope with random step-like relief: a spread of waveform shapes."""
    rng = np.random.default_rng(seed)
    tiles = plane_tiles(n, 0.0)
    for i in range(n):
        tiles[i] += rng.uniform(-0.3, 0.3) * np.arange(200)[None, :] * 0.5
        tiles[i] -= (rng.random((200, 200)) < rng.uniform(0, 0.3)) * rng.uniform(0, 10)
    return tiles


@pytest.fixture(scope="module")
def library():
    waves = simulate_waveforms(rough_tiles(96, 0))
    return waves[:72], waves[72:]


@pytest.fixture(scope="module")
def dist():
    rng = np.random.default_rng(1)
    n = 200
    t = np.arange(544)
    centre = rng.uniform(60, 200, n)
    signal = rng.uniform(0.3, 1.0, n)[:, None] * np.exp(-0.5 * ((t - centre[:, None]) / 3) ** 2)
    waveform = (0.14 + signal + rng.normal(0, 0.01, (n, 544))).astype(np.float32)
    return EmpiricalDistributions(width_edges_ns=np.array([0.0, 5.0, 1000.0]),
                                  **measure_shots(waveform, np.full(n, 0.14, np.float32),
                                                  np.full(n, 0.01, np.float32)))


def config(**kw):
    base = {"epochs": 6, "batches_per_epoch": 6, "batch_size": 16, "validation_size": 24,
            "learning_rate": 3e-3, "seed": 4, "shape": SMALL}
    return TrainingConfig(**{**base, **kw})


def test_shapes_and_pooling_check():
    model = WaveformAutoencoder(AutoencoderShape(**SMALL))
    assert model(torch.zeros(3, 544)).shape == (3, 544)
    with pytest.raises(ValueError, match="divisible"):
        AutoencoderShape(n_samples=540)
    with pytest.raises(ValueError, match=r"autoencoder\.precision must be one of"):
        TrainingConfig(precision="float16")


def test_short_training_reduces_validation_loss(library, dist):
    torch.set_num_threads(1)
    _, state = train_autoencoder(*library, dist, config(), device="cpu", progress=False)
    losses = [h["val_loss"] for h in state.history]
    assert len(losses) == 6
    assert min(losses[-2:]) < 0.7 * losses[0]


def test_both_precisions_learn_and_differ_in_their_products(library, dist):
    torch.set_num_threads(1)
    heads = {}
    for precision in ("float32", "bfloat16"):
        model, state = train_autoencoder(*library, dist, config(precision=precision),
                                         device="cpu", progress=False)
        losses = [h["val_loss"] for h in state.history]
        assert min(losses[-2:]) < 0.7 * losses[0]
        heads[precision] = model.state_dict()["head.weight"]
        assert heads[precision].dtype == torch.float32
    assert not torch.equal(heads["float32"], heads["bfloat16"])


def test_resuming_continues_the_epoch_count_and_matches_an_unbroken_run(library, dist, tmp_path):
    torch.set_num_threads(1)
    ckpt = tmp_path / "ae.ckpt"
    _, first = train_autoencoder(*library, dist, config(epochs=3), checkpoint=ckpt,
                                 device="cpu", progress=False, stop_after_epochs=2)
    assert first.epoch == 2
    resumed, state = train_autoencoder(*library, dist, config(epochs=3), checkpoint=ckpt,
                                       device="cpu", progress=False)
    assert [h["epoch"] for h in state.history] == [1, 2, 3]
    unbroken, full = train_autoencoder(*library, dist, config(epochs=3), device="cpu",
                                       progress=False)
    assert state.history[1]["val_loss"] == pytest.approx(full.history[1]["val_loss"], rel=1e-6)
    for a, b in zip(resumed.state_dict().values(), unbroken.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_checkpoint_of_another_configuration_is_not_resumed(library, dist, tmp_path):
    ckpt = tmp_path / "ae.ckpt"
    train_autoencoder(*library, dist, config(epochs=1), checkpoint=ckpt, device="cpu",
                      progress=False)
    _, state = train_autoencoder(*library, dist, config(epochs=1, seed=5), checkpoint=ckpt,
                                 device="cpu", progress=False)
    assert [h["epoch"] for h in state.history] == [1]


def test_same_seed_same_weights_on_the_cpu(library, dist):
    a, _ = train_autoencoder(*library, dist, config(epochs=1), device="cpu", progress=False)
    b, _ = train_autoencoder(*library, dist, config(epochs=1), device="cpu", progress=False)
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_cosine_schedule():
    assert cosine_learning_rate(1.0, 1, 10) == pytest.approx(1.0)
    assert cosine_learning_rate(1.0, 10, 10) == pytest.approx(0.05)


def test_model_file_round_trip(library, dist, tmp_path):
    model, state = train_autoencoder(*library, dist, config(epochs=1), device="cpu",
                                     progress=False)
    save_model(tmp_path / "ae.pt", model, state, {"note": "test"})
    back, saved = load_model(tmp_path / "ae.pt")
    x = background_subtracted(library[1][:4] * 50 + 0.14, np.full(4, 0.14, np.float32))
    np.testing.assert_array_equal(denoise(model, x, device="cpu"), denoise(back, x, device="cpu"))
    assert saved["epochs"] == 1 and saved["metadata"]["note"] == "test"


@pytest.mark.realdata
def test_real_jakobshavn_shots_pass_through_ingestion_and_cleaning(library, dist, tmp_path):
    text = shared_data_dir() / "glas_jakobshavn" / "track1wcoord.txt"
    if not text.exists():
        pytest.skip(f"real GLAS sample absent: {text}")
    report = ingest_campaign([text], tmp_path / "L3H.zarr", campaign="L3H")
    assert report["n_kept"] == 106
    shots = read_shot_arrays(tmp_path / "L3H.zarr",
                             ["waveform", "background_mean", "background_sd", "x", "y"])
    model, _ = train_autoencoder(*library, dist, config(epochs=2), device="cpu", progress=False)
    cleaned = denoise(model, background_subtracted(shots["waveform"],
                                                   shots["background_mean"]), device="cpu")
    assert cleaned.shape == (106, 544) and np.isfinite(cleaned).all()
    # and they are matched to the library, every shot to k distinct tiles
    index = ExactIndex(library_vectors(library[0], 0.8))
    found = match_with_offsets(index, query_vectors(cleaned), 10, offsets_bins(2))
    assert (found.ids >= 0).all() and all(len(set(row)) == 10 for row in found.ids)
    assert (np.diff(found.distances, axis=1) >= 0).all()
    assert set(np.unique(found.offsets)) <= {-2, -1, 0, 1, 2}
    # the real shots' own statistics feed the empirical distributions too
    real = measure_shots(shots["waveform"], shots["background_mean"], shots["background_sd"])
    assert len(real["amplitude_v"]) == 106
    # in time order the real returns start late in the record: 325 ns in (median)
    assert 310 <= np.median(real["leading_edge_ns"]) <= 340
    assert len(real["noise"]) > 106


def test_a_checkpoint_made_with_other_distributions_is_not_resumed(library, dist, tmp_path):
    ckpt = tmp_path / "ae.ckpt"
    _, old = train_autoencoder(*library, dist, config(epochs=1), checkpoint=ckpt, device="cpu",
                               progress=False)
    louder = dataclasses.replace(dist, noise=dist.noise * 5.0)
    _, state = train_autoencoder(*library, louder, config(epochs=2), checkpoint=ckpt,
                                 device="cpu", progress=False)
    _, fresh = train_autoencoder(*library, louder, config(epochs=2), device="cpu",
                                 progress=False)
    # epoch 1 was trained again on the new distributions, not taken from the checkpoint
    assert state.history[0]["val_loss"] == pytest.approx(fresh.history[0]["val_loss"], rel=1e-6)
    # and the two runs differ by more than the tolerance, so the check above can fail
    assert fresh.history[0]["val_loss"] != pytest.approx(old.history[0]["val_loss"], rel=1e-4)


def test_index_vectors_in_blocks_keep_every_waveform_in_its_row(library, dist, tmp_path):
    """The library's autoencoder vectors are made a block at a time (bounded memory),
    draw-major, the generator running through the blocks in order; one block is what
    the whole library at once gave."""
    model, state = train_autoencoder(*library, dist, config(epochs=1), device="cpu",
                                     progress=False)
    save_model(tmp_path / "ae.pt", model, state, {})
    write_distributions(dist, tmp_path / "dist.zarr", {})
    stored = read_distributions(tmp_path / "dist.zarr")
    waves = library[0][:40]

    def vectors(**kw):
        return autoencoder_vectors(waves, tmp_path / "ae.pt", tmp_path / "dist.zarr",
                                   draws=2, seed=3, **kw)

    rng = np.random.default_rng(3)
    whole = np.concatenate([query_vectors(denoise(model, degrade(waves, stored, rng)[0],
                                                  device="cpu")) for _ in range(2)])
    np.testing.assert_array_equal(vectors(), whole)
    rng = np.random.default_rng(3)
    blocks = np.concatenate([query_vectors(denoise(model, degrade(waves[s:s + 7], stored,
                                                                  rng)[0], device="cpu"))
                             for _ in range(2) for s in range(0, 40, 7)])
    blocked = vectors(block_rows=7)
    assert blocked.shape == (80, 544) and blocked.dtype == np.float32
    np.testing.assert_array_equal(blocked, blocks)
    assert not np.array_equal(blocked, whole)  # other blocks, other draws
