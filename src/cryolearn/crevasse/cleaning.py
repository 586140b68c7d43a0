"""Ways to clean a shot, and how each is judged against truth.

Three cleaners map a background-subtracted shot to a unit-peak waveform in the
library frame (highest surface point at ``lead_ns``):

* ``identity``: no processing beyond scaling to unit peak;
* ``gaussian_xcorr``: the classical pipeline: Gaussian smoothing, then
  alignment by cross-correlation with the transmit pulse, the lag of best
  correlation placing the return's main peak at ``lead_ns``;
* ``autoencoder``: :mod:`cryolearn.crevasse.autoencoder`.

They are scored on held-out library waveforms degraded with fresh draws: the
root-mean-square error against the clean target, and the error of the leading
edge (first crossing of 10 % of the peak) in ns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.signal import fftconvolve

from cryolearn.constants import LEAD_NS, PULSE_FWHM_NS
from cryolearn.crevasse.augment import (
    EmpiricalDistributions,
    background_subtracted,
    clean_targets,
    degrade,
    network_input,
    read_distributions,
)
from cryolearn.crevasse.autoencoder import denoise, library_split, load_model
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.signal import fractional_shift, gaussian_smooth, relative_leading_edge_ns
from cryolearn.synth.glas import truth_rows_for_shots

Cleaner = Callable[[np.ndarray], np.ndarray]

#: leading edge of a unit-peak waveform for scoring: first crossing of this fraction
EDGE_FRACTION = 0.1


def identity_cleaner(signal_v: np.ndarray) -> np.ndarray:
    """No cleaning: the shot scaled to unit peak, where the gate put it."""
    return network_input(signal_v, smooth_bins=0.0)


def gaussian_pulse_samples(fwhm_ns: float = PULSE_FWHM_NS, half_width: int = 12) -> np.ndarray:
    """A unit-peak Gaussian transmit pulse sampled at 1 ns."""
    sigma = fwhm_ns / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    t = np.arange(-half_width, half_width + 1, dtype=np.float64)
    return np.exp(-0.5 * (t / sigma) ** 2)


def xcorr_alignment_shift(signal: np.ndarray, pulse: np.ndarray,
                          lead_ns: float = LEAD_NS) -> np.ndarray:
    """Shift (ns) that puts each waveform's best match with the pulse at ``lead_ns``.

    The cross-correlation peak is refined to a fraction of a sample with a
    parabola through its three highest samples.
    """
    pulse = np.asarray(pulse, np.float64)
    if len(pulse) % 2 == 0:
        raise ValueError("the alignment pulse needs an odd number of samples")
    corr = fftconvolve(np.asarray(signal, np.float64), pulse[None, ::-1], mode="same", axes=1)
    best = np.argmax(corr, axis=1)
    rows = np.arange(len(best))
    lo = corr[rows, np.clip(best - 1, 0, corr.shape[1] - 1)]
    mid = corr[rows, best]
    hi = corr[rows, np.clip(best + 1, 0, corr.shape[1] - 1)]
    curvature = lo - 2 * mid + hi
    offset = np.where(curvature < 0, 0.5 * (lo - hi) / np.where(curvature < 0, curvature, -1), 0)
    # an odd-length pulse and mode="same": index i is the pulse centred on sample i
    return lead_ns - (best + np.clip(offset, -0.5, 0.5))


def gaussian_xcorr_cleaner(sigma_bins: float = 2.0, pulse_fwhm_ns: float = PULSE_FWHM_NS,
                           lead_ns: float = LEAD_NS) -> Cleaner:
    """The classical baseline: smooth, then align by cross-correlation with the pulse."""
    pulse = gaussian_pulse_samples(pulse_fwhm_ns)

    def clean(signal_v: np.ndarray) -> np.ndarray:
        smooth = network_input(gaussian_smooth(signal_v, sigma_bins), smooth_bins=0.0)
        return fractional_shift(smooth, xcorr_alignment_shift(smooth, pulse, lead_ns))

    return clean


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
