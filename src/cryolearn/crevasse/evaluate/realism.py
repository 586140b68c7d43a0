"""How real the synthetic shots look: the same statistics of real and synthetic waveforms.

The synthetic world carries every accuracy figure of the crevasse pipeline, so it
is measured against the only real shots at hand (``../shared/data/glas_jakobshavn``,
106 GLAS shots of campaign L3H over the lower trunk of Jakobshavn Isbræ). Both
sets go through the same reader conventions (:mod:`cryolearn.io.glas`: volts of
``volt_table_1``, time order on the 1 ns grid) and the same measurement here, so
any difference is one of the world or the instrument, never of the measurement.

Per shot, on the received waveform in volts:

* the background is the mean and standard deviation of the ``background_samples``
  earliest samples (50: before any return in both sets);
* the signal is the waveform less that mean; where the signal smoothed by a 2 ns
  Gaussian lies above ``n_sigma`` (4) background standard deviations is the
  *return* (smoothed, so that a lone noise sample above the threshold, common in
  500 samples of noise, neither stretches the extent nor widens the return);
* ``rms_width_ns``: root-mean-square width of the return about its centroid;
* ``extent_ns``: from the first to the last sample of the return;
* ``n_peaks``: local maxima of the smoothed signal above ``n_sigma`` background
  standard deviations and with at least that prominence;
* ``peak_amplitude_v``: the largest signal sample;
* ``snr``: that amplitude over the background standard deviation;
* ``background_sd_v``: the background standard deviation.

For each statistic the report gives both medians and the two-sample
Kolmogorov–Smirnov statistic (:func:`scipy.stats.ks_2samp`) between the real
shots and the synthetic shots of the same setting: those whose surface
elevation lies in the band of the real shots and, with ``exclude_cloud_flagged``
(the default), that the product does not flag as cloudy (``elev_use_flg``): the
real shots are one clear pass, as shots chosen for crevasse mapping are, so the
synthetic ones are the shots a user would choose too. The flag is the imperfect
one of the product, never the simulator's truth, so some cloudy shots stay in.
``statistics_in_band`` gives the same comparison with every shot in the band.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks
from scipy.stats import ks_2samp

from cryolearn.constants import N_LONG_SAMPLES
from cryolearn.crevasse.shots.ingest import read_campaign, read_shot_arrays
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.settings import settings_from
from cryolearn.signal import rms_width_ns

log = logging.getLogger(__name__)

#: the statistics compared, in the order of the report and the figure
STATISTICS = ("rms_width_ns", "extent_ns", "n_peaks", "peak_amplitude_v", "snr",
              "background_sd_v")


@dataclass(frozen=True)
class RealismSettings:
    """The measurement and the choice of comparable synthetic shots.

    ``elevation_band_m`` selects the synthetic shots compared: ``None`` takes the
    band of the real shots' own elevations, widened by ``band_margin_m``.
    """

    background_samples: int = 50
    n_sigma: float = 4.0
    smoothing_ns: float = 2.0
    elevation_band_m: tuple[float, float] | None = None
    band_margin_m: float = 100.0
    exclude_cloud_flagged: bool = True


def waveform_statistics(waveform_v: np.ndarray, settings: RealismSettings | None = None
                        ) -> dict[str, np.ndarray]:
    """The statistics of :data:`STATISTICS` for every waveform (n, samples) in volts."""
    settings = settings or RealismSettings()
    w = np.asarray(waveform_v, np.float64)
    background = w[:, :settings.background_samples]
    sd = background.std(axis=1, ddof=1)
    signal = w - background.mean(axis=1, keepdims=True)
    floor = settings.n_sigma * sd
    smooth = gaussian_filter1d(signal, settings.smoothing_ns, axis=1, mode="nearest")
    above = smooth > floor[:, None]
    has_return = above.any(axis=1)
    first = np.argmax(above, axis=1)
    last = w.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    amplitude = signal.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.where(sd > 0, amplitude / sd, np.nan)
    n_peaks = np.array([len(find_peaks(row, height=f, prominence=f)[0])
                        for row, f in zip(smooth, floor, strict=True)])
    return {
        "rms_width_ns": np.where(has_return, rms_width_ns(np.where(above, signal, 0.0)), np.nan),
        "extent_ns": np.where(has_return, last - first + 1, 0).astype(np.float64),
        "n_peaks": n_peaks.astype(np.float64),
        "peak_amplitude_v": amplitude,
        "snr": snr,
        "background_sd_v": sd,
    }


def compare(real: Mapping[str, np.ndarray], synthetic: Mapping[str, np.ndarray]
            ) -> dict[str, dict[str, float]]:
    """Medians, quantiles and the two-sample KS statistic of every statistic."""
    out = {}
    for name in STATISTICS:
        a, b = (np.asarray(s[name], np.float64) for s in (real, synthetic))
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if not (len(a) and len(b)):
            out[name] = {"real_median": None, "synthetic_median": None, "ks": None}
            continue
        test = ks_2samp(a, b)
        out[name] = {
            "real_median": float(np.median(a)), "synthetic_median": float(np.median(b)),
            "real_p10_p90": [float(q) for q in np.percentile(a, [10, 90])],
            "synthetic_p10_p90": [float(q) for q in np.percentile(b, [10, 90])],
            "ks": float(test.statistic), "ks_p_value": float(test.pvalue),
        }
    return out


def elevation_band(real_elevation: np.ndarray, settings: RealismSettings
                   ) -> tuple[float, float] | None:
    """The band of synthetic elevations compared (``None`` when no real elevation is known)."""
    if settings.elevation_band_m is not None:
        low, high = settings.elevation_band_m
        return float(low), float(high)
    known = real_elevation[np.isfinite(real_elevation)]
    if not len(known):
        return None
    return float(known.min() - settings.band_margin_m), float(known.max() + settings.band_margin_m)


def _chosen_shots(stores: Mapping[str, str | Path], band: tuple[float, float] | None
                  ) -> tuple[dict[str, np.ndarray], list[tuple[str, int]], np.ndarray, bool]:
    """Per campaign the rows of the shots in the band (every row if none is), their
    (campaign, shot), whether the product flags each as cloudy, and whether any was."""
    campaigns = sorted(stores)
    arrays = {c: read_shot_arrays(stores[c], ["elevation", "elev_use_flg"]) for c in campaigns}
    inside = {c: np.ones(len(a["elevation"]), bool) if band is None
              else (a["elevation"] >= band[0]) & (a["elevation"] <= band[1])
              for c, a in arrays.items()}
    band_matched = any(rows.any() for rows in inside.values())
    chosen = {c: np.flatnonzero(rows) if band_matched else np.arange(len(rows))
              for c, rows in inside.items()}
    names = [(c, int(i)) for c in campaigns for i in chosen[c]]
    flagged = np.concatenate([arrays[c]["elev_use_flg"][chosen[c]] == 1 for c in campaigns]
                             ) if campaigns else np.zeros(0, bool)
    return chosen, names, flagged, band_matched


def synthetic_statistics(stores: Mapping[str, str | Path], band: tuple[float, float] | None,
                         settings: RealismSettings, block_rows: int = 8192
                         ) -> tuple[dict[str, np.ndarray], list[tuple[str, int]], np.ndarray,
                                    bool]:
    """:func:`waveform_statistics` of the synthetic shots in the band, read and measured
    ``block_rows`` at a time (a million shots' waveforms in float64 would be tens of GB),
    with their (campaign, shot), whether the product flags each as cloudy, and whether
    any fell in the band (if none did, every shot is measured, so that the report still
    says how far the world is from the real shots).
    """
    chosen, names, flagged, band_matched = _chosen_shots(stores, band)
    parts = []
    for campaign, rows in sorted(chosen.items()):
        waveform = open_group(stores[campaign])["waveform"]
        for start in range(0, len(rows), block_rows):
            block = waveform.get_orthogonal_selection((rows[start:start + block_rows],
                                                       slice(None)))
            parts.append(waveform_statistics(block, settings))
    if not parts:
        parts = [waveform_statistics(np.zeros((0, N_LONG_SAMPLES), np.float32), settings)]
    return ({name: np.concatenate([p[name] for p in parts]) for name in parts[0]}, names,
            flagged, band_matched)


def realism_report(real_inputs: Sequence[str | Path], shot_stores: Mapping[str, str | Path],
                   out_json: str | Path, settings: RealismSettings | None = None
                   ) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Compare real and synthetic shots; write ``results/eval/realism.json``.

    Parameters
    ----------
    real_inputs : folders or files of real GLAS shots (granule pairs or text extracts);
        when none exists the comparison is skipped and the report says why
    shot_stores : campaign → ``results/shots/{campaign}.zarr`` of the synthetic campaigns
    out_json : the report
    settings : the measurement and the band of synthetic shots compared

    Returns
    -------
    report : as written; with the comparison, ``statistics`` holds per statistic both
        medians and the KS statistic, and ``synthetic_shots`` the compared shots as
        ``[campaign, shot index]`` pairs
    real, synthetic : the per-shot statistics behind it (empty when skipped), for the
        figure
    """
    settings = settings or RealismSettings()
    present = [str(p) for p in real_inputs if Path(p).exists()]
    result: dict[str, Any] = {"settings": asdict(settings),
                              "real_inputs": [str(p) for p in real_inputs]}
    if not present:
        result["skipped"] = ("no real GLAS shots at " + ", ".join(map(str, real_inputs))
                             + ": the comparison needs them")
        log.warning("%s", result["skipped"])
        write_json_atomic(out_json, result)
        empty = {name: np.zeros(0) for name in STATISTICS}
        return result, empty, dict(empty)
    arrays, _, sources, _ = read_campaign(present)
    band = elevation_band(arrays["elevation"], settings)
    in_band_stats, names, flagged, band_matched = synthetic_statistics(shot_stores, band,
                                                                       settings)
    real_stats = waveform_statistics(arrays["waveform"], settings)
    keep = ~flagged if settings.exclude_cloud_flagged else np.ones(len(names), bool)
    synthetic_stats = {name: values[keep] for name, values in in_band_stats.items()}
    result.update({
        "real_sources": sources,
        "n_real": len(arrays["waveform"]), "n_synthetic": int(keep.sum()),
        "n_synthetic_in_band": len(names), "n_cloud_flagged": int(flagged.sum()),
        "real_elevation_m": _range(arrays["elevation"]),
        "elevation_band_m": list(band) if band else None,
        "band_matched": band_matched,
        "statistics": compare(real_stats, synthetic_stats),
        "statistics_in_band": compare(real_stats, in_band_stats),
        "synthetic_shots": [[campaign, int(i)] for (campaign, i), k in zip(names, keep,
                                                                            strict=True) if k],
    })
    if not band_matched:
        result["note"] = (f"no synthetic shot lies in the real shots' elevation band {band}; "
                          "every synthetic shot was compared")
    write_json_atomic(out_json, result)
    for name, values in result["statistics"].items():
        log.info("%-17s real median %s, synthetic median %s, KS %s", name,
                 values["real_median"], values["synthetic_median"], values["ks"])
    return result, real_stats, synthetic_stats


def realism_settings(section: Mapping[str, Any] | None) -> RealismSettings:
    """Settings from the config's ``realism`` section (its ``real`` paths aside)."""
    values = {k: v for k, v in dict(section or {}).items() if k != "real"}
    if values.get("elevation_band_m") is not None:
        values["elevation_band_m"] = tuple(values["elevation_band_m"])
    return settings_from(RealismSettings, values, "realism")


def _range(values: np.ndarray) -> list[float] | None:
    known = np.asarray(values, np.float64)
    known = known[np.isfinite(known)]
    return [float(known.min()), float(known.max())] if len(known) else None
