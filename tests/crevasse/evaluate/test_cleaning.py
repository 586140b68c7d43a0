"""Scores of the cleaners: known answers of the RMSE and leading-edge error."""

from helpers import plane_tiles

from cryolearn.crevasse.evaluate.cleaning import score
from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.shots.augment import clean_targets


def test_score_of_a_perfect_cleaner_is_zero():
    t = clean_targets(simulate_waveforms(plane_tiles(4, 0.1)))
    s = score(t, t)
    assert s["rmse"] == 0.0 and s["shift_error_ns"] == 0.0
    assert s["width_correlation"] is None  # every plane returns the same width


def gaussian_returns(widths_ns, centre=60.0):
    import numpy as np

    t = np.arange(544.0)
    return np.exp(-0.5 * ((t[None, :] - centre) / np.asarray(widths_ns)[:, None]) ** 2)


def test_width_is_measured_over_the_return_and_its_loss_is_seen():
    import numpy as np

    from cryolearn.crevasse.evaluate.cleaning import return_width_ns
    from cryolearn.signal import gaussian_smooth

    sigma = np.array([2.0, 4.0, 8.0, 16.0])
    targets = gaussian_returns(sigma)
    # a Gaussian cut at 10 % of its peak keeps +-2.15 sigma: its sd is then 0.907 sigma
    np.testing.assert_allclose(return_width_ns(targets), 0.907 * sigma, rtol=0.03)
    # a cleaner that broadens every return to about 20 ns keeps almost none of the width
    broadened = gaussian_smooth(targets, 20.0)
    broadened /= broadened.max(axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    widths = rng.uniform(2.0, 20.0, 200)
    targets = gaussian_returns(widths)
    noisy = targets + rng.normal(0.0, 0.01, targets.shape)
    blurred = gaussian_smooth(targets, 20.0)
    blurred /= blurred.max(axis=1, keepdims=True)
    blurred += rng.normal(0.0, 0.02, blurred.shape) * blurred
    assert score(noisy, targets)["width_correlation"] > 0.99
    assert score(blurred, targets)["width_correlation"] < score(noisy, targets)[
        "width_correlation"]
    assert score(blurred, targets)["width_median_ns"] > 15.0


def test_the_probe_scores_what_a_cleaner_keeps_of_the_surface():
    import numpy as np

    from cryolearn.crevasse.evaluate.cleaning import probe_scores

    # crevassed tiles return broad waveforms, smooth ones narrow: the clean targets tell
    # them apart, a cleaner that makes every return alike does not
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, 400).astype(np.int8)
    widths = np.where(label == 1, rng.uniform(8, 20, 400), rng.uniform(2, 6, 400))
    clean = gaussian_returns(widths)
    alike = gaussian_returns(np.full(200, 10.0)) + rng.normal(0, 0.01, (200, 544))
    scores = probe_scores(clean[:200], label[:200], {"clean": clean[200:], "alike": alike},
                          label[200:], seed=0)
    assert scores["clean"] > 0.97
    assert abs(scores["alike"] - 0.5) < 0.1


def _campaign_stores(folder, name, n, first_centre):
    """A shots store of n noise-free returns (background 0.1 V) and its truth store,
    whose rows are in reverse order: return i peaks at ``first_centre + i`` ns."""
    import numpy as np

    from cryolearn.io.zarrstore import atomic_store, create_group, write_array

    centres = first_centre + np.arange(n, dtype=float)
    clean = np.exp(-0.5 * ((np.arange(544.0) - centres[:, None]) / 3.0) ** 2)
    rec_ndx, shot_count = np.arange(n, dtype=np.int32) // 40, np.arange(n, dtype=np.int32) % 40
    with atomic_store(folder / f"{name}_shots.zarr") as tmp:
        group = create_group(tmp)
        write_array(group, "waveform", (0.1 + clean).astype(np.float32), ("shot", "sample"))
        write_array(group, "background_mean", np.full(n, 0.1, np.float32), ("shot",))
        write_array(group, "background_sd", np.full(n, 0.01, np.float32), ("shot",))
        write_array(group, "rec_ndx", rec_ndx, ("shot",))
        write_array(group, "shot_count", shot_count, ("shot",))
    with atomic_store(folder / f"{name}_truth.zarr") as tmp:
        group = create_group(tmp)
        write_array(group, "clean_waveform", clean[::-1].astype(np.float32), ("shot", "sample"))
        write_array(group, "rec_ndx", rec_ndx[::-1].copy(), ("shot",))
        write_array(group, "shot_count", shot_count[::-1].copy(), ("shot",))
    return str(folder / f"{name}_shots.zarr"), str(folder / f"{name}_truth.zarr")


def test_synthetic_shots_are_scored_on_a_seeded_sample_each_campaign_its_share(tmp_path):
    import numpy as np

    from cryolearn.crevasse.evaluate.cleaning import score_on_synthetic_shots

    a = _campaign_stores(tmp_path, "a", 120, 60.0)
    b = _campaign_stores(tmp_path, "b", 40, 300.0)
    seen = []

    def recording(x):
        seen.append(x)
        return x

    def scored(max_shots, seed=3):
        seen.clear()
        result = score_on_synthetic_shots([a[0], b[0]], [a[1], b[1]], {"id": recording},
                                          max_shots=max_shots, seed=seed)["id"]
        return result, np.argmax(seen[0], axis=1)  # each scored shot's peak, ns

    everything, peaks = scored(1000)
    assert everything["n"] == 160
    np.testing.assert_array_equal(peaks, np.r_[60:180, 300:340])
    # each shot met its own truth across the reversed truth rows: no leading-edge error
    assert everything["shift_error_ns"] < 0.5
    sample, peaks = scored(40)
    # 40 of 160: a quarter of each campaign, 30 and 10, distinct, in store order
    assert sample["n"] == 40 and sample["shift_error_ns"] < 0.5
    assert ((peaks >= 60) & (peaks < 180)).sum() == 30 and (peaks >= 300).sum() == 10
    assert np.all(np.diff(peaks) > 0)
    _, same = scored(40)
    np.testing.assert_array_equal(same, peaks)
    _, other = scored(40, seed=4)
    assert not np.array_equal(other, peaks)
