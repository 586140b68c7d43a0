"""Scoring of the cleaners against clean targets and synthetic truth.

The cleaners themselves (:mod:`cryolearn.crevasse.shots.cleaning`) run on real
shots; here they are scored on held-out library waveforms degraded with fresh
draws (root-mean-square error against the clean target and the error of the
leading edge, the first crossing of 10 % of the peak, in ns) and, on synthetic
campaigns, on the ingested shots against the clean waveform of the true
surface under each footprint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cryolearn.constants import LEAD_NS, PULSE_FWHM_NS
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    clean_targets,
    degrade,
    read_distributions,
)
from cryolearn.crevasse.shots.autoencoder import denoise, library_split, load_model
from cryolearn.crevasse.shots.cleaning import (
    EDGE_FRACTION,
    Cleaner,
    gaussian_xcorr_cleaner,
    identity_cleaner,
)
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.signal import relative_leading_edge_ns
from cryolearn.synth.glas import truth_rows_for_shots


def score(cleaned: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """RMSE against the targets and leading-edge error (ns) of cleaned waveforms."""
    cleaned = np.asarray(cleaned, np.float64)
    targets = np.asarray(targets, np.float64)
    rmse = np.sqrt(np.mean((cleaned - targets) ** 2, axis=1))
    edge_error = np.abs(relative_leading_edge_ns(cleaned, EDGE_FRACTION)
                        - relative_leading_edge_ns(targets, EDGE_FRACTION))
    edge_error = np.where(np.isfinite(edge_error), edge_error, targets.shape[1])
    return {"rmse": float(rmse.mean()), "shift_error_ns": float(edge_error.mean()),
            "shift_error_ns_median": float(np.median(edge_error)),
            "shift_error_ns_p90": float(np.percentile(edge_error, 90)), "n": len(rmse)}


def evaluate_cleaners(
    clean: np.ndarray,
    dist: EmpiricalDistributions,
    cleaners: dict[str, Cleaner],
    *,
    seed: int,
    repeats: int = 1,
    target_sigma_bins: float = 0.8,
) -> dict[str, dict[str, float]]:
    """Score cleaners on the same fresh degradations of held-out library waveforms.

    Parameters
    ----------
    clean : (n, 544) held-out library waveforms
    dist : empirical distributions the degradations are drawn from
    cleaners : name → cleaner (background-subtracted volts → unit-peak library frame)
    seed : seed of the draws (use one never used in training)
    repeats : independent degradations of every waveform
    target_sigma_bins : smoothing of the targets, as in training

    Returns
    -------
    name → {rmse, shift_error_ns, shift_error_ns_median, shift_error_ns_p90, n}
    """
    rng = np.random.default_rng(seed)
    inputs = [degrade(clean, dist, rng)[0] for _ in range(repeats)]
    targets = np.concatenate([clean_targets(clean, target_sigma_bins)] * repeats)
    return {name: score(np.concatenate([cleaner(x) for x in inputs]), targets)
            for name, cleaner in cleaners.items()}


def evaluate_autoencoder(
    model_path: str,
    library_store: str,
    distributions_store: str,
    out_json: str,
    *,
    seed: int,
    repeats: int = 2,
    xcorr_sigma_bins: float = 2.0,
    target_sigma_bins: float = 0.8,
    pulse_fwhm_ns: float = PULSE_FWHM_NS,
    lead_ns: float = LEAD_NS,
    shot_stores: Sequence[str] = (),
    truth_stores: Sequence[str] = (),
) -> dict:
    """Score the autoencoder and both baselines; write JSON.

    The main scores use held-out library waveforms degraded with fresh draws.
    When synthetic campaigns come with truth (``shot_stores`` and matching
    ``truth_stores``), the cleaners are also scored on the ingested shots
    themselves, against the clean waveform of the true surface under each
    footprint: a test across the gap between our augmentation and the
    instrument model that made the shots. Those truth waveforms carry each
    campaign's own laser pulse, so every cleaner starts from the same small
    mismatch of pulse width.
    """
    model, saved = load_model(model_path)
    _, holdout = library_split(library_store)
    cleaners = {"autoencoder": lambda x: denoise(model, x, device="cpu"),
                "identity": identity_cleaner,
                "gaussian_xcorr": gaussian_xcorr_cleaner(xcorr_sigma_bins, pulse_fwhm_ns,
                                                         lead_ns)}
    scores = evaluate_cleaners(holdout, read_distributions(distributions_store), cleaners,
                               seed=seed, repeats=repeats, target_sigma_bins=target_sigma_bins)
    ae = scores["autoencoder"]
    result = {
        **scores,
        "autoencoder_beats_baselines": bool(all(
            ae[m] < scores[b][m] for b in ("identity", "gaussian_xcorr")
            for m in ("rmse", "shift_error_ns"))),
        "data": {"split": "holdout", "n_waveforms": len(holdout), "repeats": repeats,
                 "seed": seed, "epochs": saved["epochs"]},
        "units": {"rmse": "unit-peak waveform", "shift_error_ns": "ns (mean absolute)"},
    }
    if shot_stores:
        result["synthetic_shots"] = score_on_synthetic_shots(
            shot_stores, truth_stores, cleaners, target_sigma_bins)
    write_json_atomic(out_json, result)
    return result


def score_on_synthetic_shots(
    shot_stores: Sequence[str],
    truth_stores: Sequence[str],
    cleaners: dict[str, Cleaner],
    target_sigma_bins: float = 0.8,
) -> dict[str, dict[str, float]]:
    """Score cleaners on ingested synthetic shots against their per-shot truth.

    Shots and truth are joined on (``rec_ndx``, ``shot_count``); shots whose
    return never rises above the background noise (signal-to-noise below 5)
    are left out, as no cleaner can recover them.
    """
    inputs, targets = [], []
    for shots_path, truth_path in zip(shot_stores, truth_stores, strict=True):
        shots, truth = open_group(shots_path), open_group(truth_path)
        at = truth_rows_for_shots(shots, truth)
        signal = background_subtracted(shots["waveform"][:], shots["background_mean"][:])
        usable = signal.max(axis=1) > 5 * shots["background_sd"][:]
        inputs.append(signal[usable])
        targets.append(clean_targets(truth["clean_waveform"][:][at[usable]], target_sigma_bins))
    x, t = np.concatenate(inputs), np.concatenate(targets)
    return {name: score(cleaner(x), t) for name, cleaner in cleaners.items()}
