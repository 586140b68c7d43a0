"""Scoring of the cleaners against clean targets and synthetic truth.

The cleaners themselves (:mod:`cryolearn.crevasse.shots.cleaning`) run on real
shots; here they are scored on held-out library waveforms degraded with fresh
draws (root-mean-square error against the clean target and the error of the
leading edge, the first crossing of 10 % of the peak, in ns) and, on synthetic
campaigns, on the ingested shots against the clean waveform of the true
surface under each footprint.

Alignment dominates those two scores, so two more measure what a cleaner keeps of
the surface: the correlation of each cleaned waveform's RMS width (over its samples
above 10 % of the peak) with its target's, and ``probe_roc_auc``: a fixed probe
classifier (gradient-boosted trees on the features of
:func:`cryolearn.crevasse.classify.training.shot_features`), trained on the clean
targets of the library's training split to tell crevassed tiles (zone-class truth)
from the others, scored on every cleaner's output of the held-out split. A cleaner
that keeps the information scores as the clean targets do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from cryolearn.constants import LEAD_NS, PULSE_FWHM_NS
from cryolearn.crevasse.classify.training import ExampleSettings, shot_features
from cryolearn.crevasse.matching.match import library_split_rows, sample_generator, sample_rows
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    clean_targets,
    degrade,
    read_distributions,
)
from cryolearn.crevasse.shots.autoencoder import denoise, load_model
from cryolearn.crevasse.shots.cleaning import (
    EDGE_FRACTION,
    Cleaner,
    gaussian_xcorr_cleaner,
    identity_cleaner,
)
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.signal import relative_leading_edge_ns, rms_width_ns
from cryolearn.synth.glas import truth_rows_for_shots

#: the width of a return counts its samples above this share of its peak
WIDTH_FRACTION = 0.1


def return_width_ns(waveforms: np.ndarray) -> np.ndarray:
    """RMS width (ns) of each waveform over its samples above 10 % of its peak."""
    w = np.asarray(waveforms, np.float64)
    peak = w.max(axis=1, keepdims=True)
    return rms_width_ns(np.where(w >= WIDTH_FRACTION * peak, w, 0.0))


def score(cleaned: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """RMSE against the targets, leading-edge error (ns) and the width kept."""
    cleaned = np.asarray(cleaned, np.float64)
    targets = np.asarray(targets, np.float64)
    rmse = np.sqrt(np.mean((cleaned - targets) ** 2, axis=1))
    edge_error = np.abs(relative_leading_edge_ns(cleaned, EDGE_FRACTION)
                        - relative_leading_edge_ns(targets, EDGE_FRACTION))
    edge_error = np.where(np.isfinite(edge_error), edge_error, targets.shape[1])
    width, true_width = return_width_ns(cleaned), return_width_ns(targets)
    both = np.isfinite(width) & np.isfinite(true_width)
    varied = both.sum() > 2 and width[both].std() > 0 and true_width[both].std() > 0
    return {"rmse": float(rmse.mean()), "shift_error_ns": float(edge_error.mean()),
            "shift_error_ns_median": float(np.median(edge_error)),
            "shift_error_ns_p90": float(np.percentile(edge_error, 90)), "n": len(rmse),
            "width_correlation": float(np.corrcoef(width[both], true_width[both])[0, 1])
                if varied else None,
            "width_median_ns": float(np.median(width[both])) if both.any() else None,
            "true_width_median_ns": float(np.median(true_width[both])) if both.any() else None}


def probe_scores(train_clean: np.ndarray, train_label: np.ndarray,
                 outputs: dict[str, np.ndarray], label: np.ndarray, seed: int
                 ) -> dict[str, float | None]:
    """ROC AUC of a fixed probe, trained on clean training waveforms, on each output.

    Parameters
    ----------
    train_clean, train_label : clean targets of the training split and their labels
    outputs : name → (n, m) waveforms of the held-out split (cleaned, or the clean
        targets themselves under ``clean``)
    label : (n,) the held-out tiles' labels, repeated as the outputs are
    seed : the probe's seed
    """
    settings = ExampleSettings()
    features, found = shot_features(train_clean, settings)
    if len(np.unique(train_label[found])) < 2 or len(np.unique(label)) < 2:
        return dict.fromkeys(outputs)
    probe = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    probe.fit(features[found], train_label[found])
    scores: dict[str, float | None] = {}
    for name, waveforms in outputs.items():
        x, ok = shot_features(waveforms, settings)
        p = np.full(len(ok), 0.5)  # an output without a return tells nothing
        if ok.any():
            p[ok] = probe.predict_proba(x[ok])[:, 1]
        scores[name] = float(roc_auc_score(label, p))
    return scores


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
    scores, _ = cleaned_outputs(clean, dist, cleaners, seed=seed, repeats=repeats,
                                target_sigma_bins=target_sigma_bins)
    return scores


def cleaned_outputs(clean: np.ndarray, dist: EmpiricalDistributions, cleaners: dict[str, Cleaner],
                    *, seed: int, repeats: int = 1, target_sigma_bins: float = 0.8
                    ) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """Scores of :func:`evaluate_cleaners`, and every cleaner's outputs (``clean``: the targets)."""
    rng = np.random.default_rng(seed)
    inputs = [degrade(clean, dist, rng)[0] for _ in range(repeats)]
    targets = np.concatenate([clean_targets(clean, target_sigma_bins)] * repeats)
    outputs = {name: np.concatenate([cleaner(x) for x in inputs])
               for name, cleaner in cleaners.items()}
    return ({name: score(out, targets) for name, out in outputs.items()},
            {"clean": targets, **outputs})


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
    tile_crevassed: np.ndarray | None = None,
    max_waveforms: int = 20_000,
    max_shots: int = 20_000,
) -> dict:
    """Score the autoencoder and both baselines; write JSON.

    The main scores use held-out library waveforms degraded with fresh draws.
    When synthetic campaigns come with truth (``shot_stores`` and matching
    ``truth_stores``), the cleaners are also scored on the ingested shots
    themselves, against the clean waveform of the true surface under each
    footprint: a test across the gap between our augmentation and the
    instrument model that made the shots. Those truth waveforms carry each
    campaign's own laser pulse, so every cleaner starts from the same small
    mismatch of pulse width. With ``tile_crevassed`` (the zone-class truth share of
    every library tile) the fixed probe of :func:`probe_scores` is scored too.

    Memory stays bounded as the library and campaigns grow: at most ``max_waveforms``
    tiles of each split and ``max_shots`` shots are scored, samples seeded by ``seed``
    where there are more.
    """
    model, saved = load_model(model_path)
    train_rows, train = library_split_rows(library_store, "train", max_waveforms, seed)
    holdout_rows, holdout = library_split_rows(library_store, "holdout", max_waveforms, seed)
    cleaners = {"autoencoder": lambda x: denoise(model, x, device="cpu"),
                "identity": identity_cleaner,
                "gaussian_xcorr": gaussian_xcorr_cleaner(xcorr_sigma_bins, pulse_fwhm_ns,
                                                         lead_ns)}
    scores, outputs = cleaned_outputs(holdout, read_distributions(distributions_store),
                                      cleaners, seed=seed, repeats=repeats,
                                      target_sigma_bins=target_sigma_bins)
    if tile_crevassed is not None:
        crevassed = (np.asarray(tile_crevassed) >= 0.5).astype(np.int8)
        probe = probe_scores(clean_targets(train, target_sigma_bins), crevassed[train_rows],
                             outputs, np.tile(crevassed[holdout_rows], repeats), seed)
        for name, auc in probe.items():
            scores.setdefault(name, {})["probe_roc_auc"] = auc
    ae = scores["autoencoder"]
    result = {
        **scores,
        "autoencoder_beats_baselines": bool(all(
            ae[m] < scores[b][m] for b in ("identity", "gaussian_xcorr")
            for m in ("rmse", "shift_error_ns"))),
        "autoencoder_keeps_width": bool(
            ae["width_correlation"] is not None
            and scores["identity"]["width_correlation"] is not None
            and ae["width_correlation"] >= scores["identity"]["width_correlation"]),
        "data": {"split": "holdout", "n_waveforms": len(holdout), "repeats": repeats,
                 "seed": seed, "epochs": saved["epochs"]},
        "units": {"rmse": "unit-peak waveform", "shift_error_ns": "ns (mean absolute)"},
    }
    if shot_stores:
        result["synthetic_shots"] = score_on_synthetic_shots(
            shot_stores, truth_stores, cleaners, target_sigma_bins, max_shots=max_shots,
            seed=seed)
    write_json_atomic(out_json, result)
    return result


def score_on_synthetic_shots(
    shot_stores: Sequence[str],
    truth_stores: Sequence[str],
    cleaners: dict[str, Cleaner],
    target_sigma_bins: float = 0.8,
    *,
    max_shots: int = 20_000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Score cleaners on ingested synthetic shots against their per-shot truth.

    Shots and truth are joined on (``rec_ndx``, ``shot_count``); shots whose
    return never rises above the background noise (signal-to-noise below 5)
    are left out, as no cleaner can recover them. Where the campaigns hold more
    than ``max_shots`` shots, each campaign gives its share of a sample of that
    many, seeded by ``seed``; only the sampled shots are read.
    """
    groups = [(open_group(s), open_group(t)) for s, t in zip(shot_stores, truth_stores,
                                                             strict=True)]
    counts = np.array([shots["waveform"].shape[0] for shots, _ in groups])
    share = min(1.0, max_shots / max(1, counts.sum()))
    rng = sample_generator(seed)
    inputs, targets = [], []
    for (shots, truth), count in zip(groups, counts, strict=True):
        rows = sample_rows(np.arange(count), round(share * count), rng)
        at = truth_rows_for_shots(shots, truth)[rows]
        signal = background_subtracted(
            shots["waveform"].get_orthogonal_selection((rows, slice(None))),
            shots["background_mean"].get_orthogonal_selection(rows))
        usable = signal.max(axis=1) > 5 * shots["background_sd"].get_orthogonal_selection(rows)
        inputs.append(signal[usable])
        clean = truth["clean_waveform"].get_orthogonal_selection((at[usable], slice(None)))
        targets.append(clean_targets(clean, target_sigma_bins))
    x, t = np.concatenate(inputs), np.concatenate(targets)
    return {name: score(cleaner(x), t) for name, cleaner in cleaners.items()}
