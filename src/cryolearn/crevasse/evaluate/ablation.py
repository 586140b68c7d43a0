"""What each part of the per-shot classifier buys, on the same held-out shots.

Every variant gives every shot of the synthetic campaigns a probability, and all are
scored alike (:func:`cryolearn.crevasse.evaluate.crevasse.group_metrics`: overall,
cloud-free, per region and per fold of repeat tracks) against both truths:

* ``matching``: today's pipeline, the share of a shot's matched tiles in crevasse clusters;
* ``matching_aligned``: the same share, matched in the ``aligned`` space (recorded shots
  and degraded library waveforms aligned on their leading edges, exact search);
* ``classifier``: the published classifier (:mod:`cryolearn.crevasse.classify`);
* ``classifier_one_pulse``: trained with the library's one 6 ns pulse for every campaign;
* ``classifier_no_clouds``: trained without forward-scattering examples;
* ``classifier_cnn``: the 1-D network (:mod:`~cryolearn.crevasse.classify.cnn`) in place
  of the trees, on the same examples;
* ``classifier_slope``: the trees with the surface slope as one more feature: for a
  shot, its along-track slope from the product's elevations of the shots before and
  after it; for a library example, its tile's plane gradient along a random heading;
* ``classifier_along_track``: the classifier's probabilities averaged along track with
  the shots before and after (weights 1, 2, 1 within a pass);
* the ceilings, for reference only, as they use what a real survey lacks:
  ``matching_tile_truth`` (the matched tiles scored by their own zone-class truth) and
  two classifiers trained on per-shot truth, cross-validated over the folds (trained on
  the other folds' shots): ``truth_trained_raw`` on the recorded shots and
  ``truth_trained_clean`` on their noise-free waveforms (the information ceiling).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from cryolearn.constants import TILE_PIXEL_M
from cryolearn.crevasse.classify.model import (
    HOLDOUT,
    Classifier,
    ClassifierSettings,
    build_classifier,
    fit_classifier,
)
from cryolearn.crevasse.classify.pulses import campaign_pulses, library_pulse
from cryolearn.crevasse.classify.training import shot_features
from cryolearn.crevasse.evaluate.crevasse import (
    TRUTHS,
    CampaignShots,
    CrevasseEvaluation,
    group_metrics,
    load_campaign,
    matched_tile_truth_probability,
    shot_groups,
)
from cryolearn.crevasse.maps.probability import (
    ProbabilitySettings,
    tile_classes,
)
from cryolearn.crevasse.maps.probability import shot_probabilities as share_of_matches
from cryolearn.crevasse.matching.match import (
    aligned_queries,
    aligned_vectors,
    library_split_rows,
    match_with_offsets,
)
from cryolearn.crevasse.matching.search import ExactIndex
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    read_distributions,
)
from cryolearn.crevasse.surfaces.labels import CREVASSE, Clustering
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.synth.glas import truth_rows_for_shots

log = logging.getLogger(__name__)

#: shots of one pass follow each other at 40 Hz; a larger gap starts another pass
PASS_GAP_S = 0.1

DESCRIPTIONS = {
    "matching": "today's pipeline: share of the k matched tiles in crevasse clusters",
    "matching_aligned": "the same share, matched in the aligned space (no autoencoder)",
    "classifier": "the classifier: every campaign's pulse, cloud examples, leading-edge "
                  "aligned, isotonic-calibrated on the held-out library",
    "classifier_one_pulse": "the classifier trained with one 6 ns pulse for every campaign",
    "classifier_no_clouds": "the classifier trained without forward-scattering examples",
    "classifier_cnn": "the 1-D convolutional network in place of the trees",
    "classifier_slope": "the trees with the surface slope as a feature (shots: along-track "
                        "from the product's elevations; library: the tile's plane gradient "
                        "along a random heading)",
    "classifier_along_track": "the classifier's probability averaged 1-2-1 with the shots "
                              "before and after it in its pass",
    "matching_tile_truth": "ceiling: the matched tiles scored by their own zone-class truth",
    "truth_trained_raw": "reference: trees trained on recorded shots with per-shot truth, "
                         "cross-validated over folds",
    "truth_trained_clean": "reference: trees trained on noise-free shot waveforms with "
                           "per-shot truth, cross-validated over folds (information ceiling)",
}
DEPLOYABLE = {"matching", "matching_aligned", "classifier", "classifier_one_pulse",
              "classifier_no_clouds", "classifier_cnn", "classifier_slope",
              "classifier_along_track"}


def along_track_mean(probability: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Each shot's probability averaged 1-2-1 with its neighbours in the same pass."""
    p = np.asarray(probability, np.float64)
    order = np.argsort(time, kind="stable")
    ps, ts = p[order], np.asarray(time, np.float64)[order]
    total, weight = 2 * np.nan_to_num(ps), 2.0 * np.isfinite(ps)
    for step in (1, -1):
        neighbour = np.roll(ps, step)
        same_pass = np.abs(ts - np.roll(ts, step)) < PASS_GAP_S
        same_pass[0 if step == 1 else -1] = False
        use = same_pass & np.isfinite(neighbour)
        total += np.where(use, neighbour, 0.0)
        weight += use
    smoothed = np.where(np.isfinite(ps) & (weight > 0), total / np.maximum(weight, 1), np.nan)
    out = np.empty_like(smoothed)
    out[order] = smoothed
    return out


def along_track_slope(x: np.ndarray, y: np.ndarray, elevation: np.ndarray, time: np.ndarray
                      ) -> np.ndarray:
    """Each shot's absolute along-track slope (m/m): the mean of the slopes to the shots
    before and after it in its pass; NaN for a shot alone in its pass."""
    order = np.argsort(time, kind="stable")
    xs, ys, zs, ts = (np.asarray(a, np.float64)[order] for a in (x, y, elevation, time))
    step = np.hypot(np.diff(xs), np.diff(ys))
    same_pass = (np.diff(ts) < PASS_GAP_S) & (step > 0)
    slope = np.abs(np.diff(zs)) / np.where(same_pass, step, 1.0)
    slope = np.where(same_pass, slope, np.nan)
    pair = np.stack([np.append(slope, np.nan), np.insert(slope, 0, np.nan)])
    count = np.isfinite(pair).sum(0)
    mean = np.where(count > 0, np.nansum(pair, 0) / np.maximum(count, 1), np.nan)
    out = np.empty_like(mean)
    out[order] = mean
    return out


def tile_gradients(elevation: np.ndarray, pixel_m: float) -> np.ndarray:
    """(n, 2) least-squares plane gradient (dz/dx, dz/dy, m/m) of (n, rows, cols) tiles."""
    n, rows, cols = elevation.shape
    yy, xx = np.mgrid[:rows, :cols]
    design = np.stack([xx.ravel() * pixel_m, yy.ravel() * pixel_m, np.ones(rows * cols)], 1)
    z = np.asarray(elevation, np.float64).reshape(n, -1).T
    return np.linalg.lstsq(design, z, rcond=None)[0][:2].T


def truth_trained(features: np.ndarray, outcome: np.ndarray, fold: np.ndarray, seed: int
                  ) -> np.ndarray:
    """Out-of-fold probabilities of trees trained on the other folds' shots and truth."""
    out = np.full(len(outcome), np.nan)
    usable = np.all(np.isfinite(features), axis=1)
    for f in np.unique(fold):
        train = usable & (fold != f)
        test = usable & (fold == f)
        if not test.any() or len(np.unique(outcome[train])) < 2:
            continue
        trees = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
        trees.fit(features[train], outcome[train])
        out[test] = trees.predict_proba(features[test])[:, 1]
    return out


def aligned_matching(library_store: str | Path, distributions_store: str | Path,
                     clusters_store: str | Path, labels_path: str | Path,
                     shot_stores: Mapping[str, str | Path], campaigns: Sequence[str],
                     settings: ClassifierSettings, *, k: int, offsets: Sequence[int],
                     draws: int, probability: ProbabilitySettings) -> np.ndarray:
    """Every shot's share of crevasse clusters among its k matches in the aligned space."""
    rows, waveforms = library_split_rows(library_store, "train")
    vectors, which = aligned_vectors(waveforms, distributions_store, draws=draws,
                                     seed=settings.seed, settings=settings.align)
    index = ExactIndex(vectors)
    tile_class, classes, _ = tile_classes(Clustering.of_store(clusters_store), labels_path)
    out = []
    for c in campaigns:
        queries = aligned_queries(shot_stores[c], settings.align)
        usable = np.all(np.isfinite(queries), axis=1)
        p = np.full(len(queries), np.nan)
        if usable.any():
            found = match_with_offsets(index, queries[usable], k, offsets,
                                       item_rows=rows[which])
            result = share_of_matches(found.ids, found.distances, tile_class, len(classes),
                                      classes.index(CREVASSE), probability)
            p[usable] = result.probability
        out.append(p)
    return np.concatenate(out)


def _compact(block: Mapping[str, Any]) -> dict[str, Any]:
    """A scores block without its reliability tables."""
    if isinstance(block, Mapping):
        return {k: _compact(v) for k, v in block.items() if k != "reliability"}
    return block


def ablation(library_store: str | Path, clusters_store: str | Path, labels_path: str | Path,
             distributions_store: str | Path, shot_stores: Mapping[str, str | Path],
             crevasse_stores: Mapping[str, str | Path], truth_stores: Mapping[str, str | Path],
             matches_stores: Mapping[str, str | Path], tile_crevassed: np.ndarray | None,
             classified_stores: Mapping[str, str | Path], settings: ClassifierSettings,
             evaluation: CrevasseEvaluation, out_json: str | Path,
             matching: Mapping[str, Any], probability_settings: ProbabilitySettings
             ) -> dict[str, Any]:
    """Score every variant of :data:`DESCRIPTIONS` on the same shots; write the JSON.

    ``matching`` (``k``, ``offsets``, ``draws``) and ``probability_settings`` set the
    aligned matching as ``match_shots`` and ``shot_probabilities`` would."""
    campaigns = list(crevasse_stores)
    shots = {c: load_campaign(crevasse_stores[c], truth_stores[c]) for c in campaigns}
    groups = shot_groups(shots, evaluation.tracks_per_fold)
    probability: dict[str, np.ndarray] = {
        "matching": _pooled(shots, "matching_probability"),
        "classifier": np.concatenate([open_group(classified_stores[c])["probability"][:]
                                      for c in campaigns]).astype(np.float64),
    }
    probability["matching_aligned"] = aligned_matching(
        library_store, distributions_store, clusters_store, labels_path, shot_stores, campaigns,
        settings, k=int(matching["k"]), offsets=list(matching["offsets"]),
        draws=int(matching["draws"]), probability=probability_settings)
    log.info("matching_aligned done")
    dist = read_distributions(distributions_store)
    pulses = campaign_pulses(shot_stores)
    one_pulse = library_pulse(open_group(library_store).attrs["forward"])
    variants = {
        "classifier_one_pulse": (settings, dict.fromkeys(pulses, one_pulse)),
        "classifier_no_clouds": (replace(settings, examples=replace(settings.examples,
                                                                     cloud_share=0.0)), pulses),
        "classifier_cnn": (replace(settings, model="cnn"), pulses),
    }
    # every variant makes its features alike: the shots' features are made once
    raw, clean = _shot_and_clean_features(shot_stores, truth_stores, campaigns, settings)
    for name, (variant, variant_pulses) in variants.items():
        model, _, _ = build_classifier(library_store, clusters_store, labels_path, dist,
                                       variant_pulses, variant)
        probability[name] = _applied(model, raw)
        log.info("%s trained", name)
    probability["classifier_slope"] = _with_slope(library_store, clusters_store, labels_path,
                                                  dist, pulses, settings, raw, shot_stores,
                                                  campaigns)
    log.info("classifier_slope trained")
    probability["classifier_along_track"] = np.concatenate([
        along_track_mean(p, open_group(crevasse_stores[c])["time"][:])
        for c, p in zip(campaigns, np.split(probability["classifier"],
                                            np.cumsum([len(shots[c].x) for c in campaigns])[:-1]),
                        strict=True)])
    if tile_crevassed is not None:
        probability["matching_tile_truth"] = np.concatenate([
            matched_tile_truth_probability(matches_stores[c], tile_crevassed,
                                           evaluation.truth_threshold) for c in campaigns])
    if groups.fold is not None and len(np.unique(groups.fold)) > 1:
        attribute, threshold_name, _ = TRUTHS[evaluation.primary_truth]
        outcome = (_pooled(shots, attribute) >= getattr(evaluation, threshold_name)).astype(int)
        probability["truth_trained_raw"] = truth_trained(raw, outcome, groups.fold, settings.seed)
        probability["truth_trained_clean"] = truth_trained(clean, outcome, groups.fold,
                                                           settings.seed)
    result: dict[str, Any] = {"n_shots": len(groups.in_trunk), "campaigns": campaigns,
                              "primary_truth": evaluation.primary_truth, "variants": {}}
    for name, p in probability.items():
        scores = {}
        for truth, (attribute, threshold_name, _) in TRUTHS.items():
            scoring = replace(evaluation, truth_threshold=getattr(evaluation, threshold_name))
            scores[truth] = _compact(group_metrics(p, _pooled(shots, attribute), groups,
                                                   scoring))
        result["variants"][name] = {"description": DESCRIPTIONS[name],
                                    "deployable": name in DEPLOYABLE, **scores}
        log.info("%s: ROC AUC %s", name, scores[evaluation.primary_truth]["overall"]["roc_auc"])
    write_json_atomic(out_json, result)
    return result


def _pooled(shots: Mapping[str, CampaignShots], attribute: str) -> np.ndarray:
    return np.concatenate([np.asarray(getattr(s, attribute), np.float64) for s in shots.values()])


def _applied(model: Classifier, features: np.ndarray) -> np.ndarray:
    """The model's probability of every feature row (NaN: a record without a return)."""
    out = np.full(len(features), np.nan)
    found = np.all(np.isfinite(features), axis=1)
    if found.any():
        out[found] = model.probability(features[found])
    return out


def _with_slope(library_store: str | Path, clusters_store: str | Path, labels_path: str | Path,
                dist: EmpiricalDistributions, pulses: Mapping[str, np.ndarray],
                settings: ClassifierSettings, raw: np.ndarray,
                shot_stores: Mapping[str, str | Path], campaigns: Sequence[str]) -> np.ndarray:
    """Probabilities of the trees trained with the slope as one more feature."""
    _, examples, _ = build_classifier(library_store, clusters_store, labels_path, dist, pulses,
                                      settings)
    library = open_group(library_store)
    rng = np.random.default_rng(settings.seed)
    tiles = np.unique(np.concatenate([ex.tile for ex in examples.values()]))
    gradient = np.concatenate([
        tile_gradients(library["elevation"].get_orthogonal_selection(
            (chunk, slice(None), slice(None))), TILE_PIXEL_M)
        for chunk in np.array_split(tiles, max(1, len(tiles) // 256))])
    with_slope = {}
    for name, ex in examples.items():
        g = gradient[np.searchsorted(tiles, ex.tile)]
        heading = rng.uniform(0.0, np.pi, len(ex.tile))
        slope = np.abs(g[:, 0] * np.cos(heading) + g[:, 1] * np.sin(heading))
        with_slope[name] = replace(ex, features=np.column_stack([ex.features, slope]))
    model = fit_classifier(with_slope["train"], with_slope[HOLDOUT], settings, sorted(pulses))
    shot_slope = np.concatenate([
        along_track_slope(*(open_group(shot_stores[c])[k][:] for k in ("x", "y", "elevation",
                                                                      "time")))
        for c in campaigns])
    return _applied(model, np.column_stack([raw, shot_slope]))


def _shot_and_clean_features(shot_stores: Mapping[str, str | Path],
                             truth_stores: Mapping[str, str | Path], campaigns: Sequence[str],
                             settings: ClassifierSettings) -> tuple[np.ndarray, np.ndarray]:
    """Features of the recorded shots and of their noise-free truth waveforms."""
    raw, clean = [], []
    for c in campaigns:
        shots, truth = open_group(shot_stores[c]), open_group(truth_stores[c])
        signal = background_subtracted(shots["waveform"][:], shots["background_mean"][:])
        raw.append(shot_features(signal, settings.examples, settings.align)[0])
        rows = truth_rows_for_shots(shots, truth)
        clean.append(shot_features(truth["clean_waveform"][:][rows], settings.examples,
                                   settings.align)[0])
    return np.concatenate(raw), np.concatenate(clean)
