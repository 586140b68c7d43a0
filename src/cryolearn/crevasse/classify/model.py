"""Train, calibrate and apply the per-shot crevasse classifier.

The model (config ``classifier.model``) is scikit-learn's histogram
gradient-boosted trees (:class:`~sklearn.ensemble.HistGradientBoostingClassifier`,
``trees``, the default) or a small 1-D network (:mod:`~cryolearn.crevasse.classify.cnn`,
``cnn``, on the GPU when present), on the features of
:func:`~cryolearn.crevasse.classify.training.shot_features`. It is trained on the
library's training split and calibrated on its held-out split: an isotonic
regression (Zadrozny & Elkan 2002) from the model's score to the observed
frequency of crevasse labels among held-out library waveforms, degraded with
fresh draws. No shot's truth is used anywhere: a shot's probability is what the
labelled library says waveforms like it are.

Trees are the default by measurement: on ``config/skill.yaml``'s held-out tracks
they score a higher per-shot AUC than the network, train in seconds on two cores
and need no GPU (README, "Per-shot skill"; the ``classifier_cnn`` row of
``results/eval/crevasse_ablation.json``).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

from cryolearn.crevasse.classify.cnn_settings import CNNSettings
from cryolearn.crevasse.classify.pulses import surface_histograms
from cryolearn.crevasse.classify.training import (
    SCALAR_FEATURES,
    Examples,
    ExampleSettings,
    feature_names,
    make_examples,
    shot_features,
)
from cryolearn.crevasse.shots.align import AlignSettings, align_settings
from cryolearn.crevasse.shots.augment import (
    EmpiricalDistributions,
    background_subtracted,
    read_distributions,
)
from cryolearn.crevasse.surfaces.labels import (
    CREVASSE,
    Clustering,
    check_same_tiles,
    tile_classes,
)
from cryolearn.io.files import write_json_atomic
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array
from cryolearn.settings import settings_from

if TYPE_CHECKING:
    from cryolearn.crevasse.classify.cnn import CNNScorer

log = logging.getLogger(__name__)

HOLDOUT = "holdout"  #: the library split the calibration is fitted on
MODEL_FORMAT = "cryolearn-crevasse-classifier-2"  #: what :meth:`Classifier.save` writes
MODELS = ("trees", "cnn")  #: the models config ``classifier.model`` can name


@dataclass(frozen=True)
class TreeSettings:
    """The gradient-boosted trees (config ``classifier.trees``)."""

    max_iter: int = 300
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    l2_regularization: float = 0.0


@dataclass(frozen=True)
class ClassifierSettings:
    """Everything that makes the classifier (config ``classifier``)."""

    examples: ExampleSettings = field(default_factory=ExampleSettings)
    align: AlignSettings = field(default_factory=AlignSettings)
    model: str = "trees"
    trees: TreeSettings = field(default_factory=TreeSettings)
    cnn: CNNSettings = field(default_factory=CNNSettings)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"classifier.model must be one of {', '.join(MODELS)}, not "
                             f"{self.model!r}")


def classifier_settings(section: Mapping[str, Any], align: Mapping[str, Any] | None = None
                        ) -> ClassifierSettings:
    """:class:`ClassifierSettings` from config ``classifier`` and ``align``; unknown keys
    are refused."""
    section = dict(section)
    parts = {"examples": ExampleSettings, "trees": TreeSettings, "cnn": CNNSettings}
    nested: dict[str, Any] = {
        name: settings_from(cls, dict(section.pop(name, {})), f"classifier.{name}")
        for name, cls in parts.items()}
    nested["align"] = align_settings(align or {})
    return settings_from(ClassifierSettings, {**section, **nested}, "classifier")


def new_scorer(settings: ClassifierSettings) -> HistGradientBoostingClassifier | CNNScorer:
    """The untrained model that ``settings.model`` names."""
    if settings.model == "cnn":
        from cryolearn.crevasse.classify.cnn import CNNScorer  # torch only when asked for

        return CNNScorer(len(SCALAR_FEATURES), settings.cnn, settings.seed)
    return HistGradientBoostingClassifier(**asdict(settings.trees), random_state=settings.seed,
                                          early_stopping=False)


@dataclass
class Classifier:
    """A trained, calibrated classifier and how its features are made."""

    scorer: HistGradientBoostingClassifier | CNNScorer
    calibration: IsotonicRegression
    settings: ClassifierSettings
    campaigns: list[str]
    feature_names: list[str]

    def score(self, features: np.ndarray) -> np.ndarray:
        """The model's uncalibrated crevasse score of feature rows."""
        return self.scorer.predict_proba(features)[:, 1]

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Calibrated crevasse probability of feature rows."""
        return self.calibration.predict(self.score(features)).astype(np.float32)

    def save(self, path: str | Path) -> None:
        """Pickle the classifier (under a temporary name, then renamed).

        The settings are kept as plain values, so that a model outlives a move of
        this package's classes; only scikit-learn's objects are pickled as such.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        state = {"format": MODEL_FORMAT, "scorer": self.scorer, "calibration": self.calibration,
                 "settings": asdict(self.settings), "campaigns": self.campaigns,
                 "feature_names": self.feature_names}
        tmp.write_bytes(pickle.dumps(state))
        tmp.replace(path)

    @staticmethod
    def load(path: str | Path) -> Classifier:
        """Read a classifier written by :meth:`save` (a file of this workflow's own)."""
        state = pickle.loads(Path(path).read_bytes())
        if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not a cryolearn crevasse classifier of format "
                             f"{MODEL_FORMAT}; train it again (rule train_classifier)")
        settings = dict(state["settings"])
        align = settings.pop("align")
        return Classifier(state["scorer"], state["calibration"],
                          classifier_settings(settings, align), list(state["campaigns"]),
                          list(state["feature_names"]))


def library_labels(library_store: str | Path, clusters_store: str | Path,
                   labels_path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Every library tile's label through its cluster: 1 crevasse, 0 another class, -1 unknown."""
    clustering = Clustering.of_store(clusters_store)
    check_same_tiles(clustering, library_store)
    tile_class, classes, provenance = tile_classes(clustering, labels_path)
    label = np.where(tile_class < 0, -1, (tile_class == classes.index(CREVASSE)).astype(int))
    return label.astype(np.int8), provenance


def fit_classifier(train: Examples, holdout: Examples, settings: ClassifierSettings,
                   campaigns: Sequence[str]) -> Classifier:
    """Fit the trees on ``train`` and their calibration on ``holdout``."""
    for name, ex in (("training", train), ("held-out", holdout)):
        if len(np.unique(ex.label)) < 2:
            raise ValueError(f"the {name} library waveforms hold one label only: the "
                             "classifier needs tiles labelled crevasse and not crevasse")
    scorer = new_scorer(settings)
    scorer.fit(train.features, train.label)
    calibration = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    calibration.fit(scorer.predict_proba(holdout.features)[:, 1], holdout.label)
    return Classifier(scorer, calibration, settings, list(campaigns),
                      feature_names(settings.examples))


def reliability(probability: np.ndarray, outcome: np.ndarray, bins: int = 10
                ) -> list[dict[str, float | int | None]]:
    """Per probability bin: count, mean probability and observed frequency.

    Bins are equal-width on [0, 1]; the last includes 1. Empty bins are kept, with nulls.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges) - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        sel = which == b
        table.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                      "n": int(sel.sum()),
                      "mean_probability": float(probability[sel].mean()) if sel.any() else None,
                      "observed_frequency": float(outcome[sel].mean()) if sel.any() else None})
    return table


def _tile_histograms(library: Any, tiles: np.ndarray, block_rows: int = 2048) -> np.ndarray:
    """Energy histograms of library tiles, their elevations read a block at a time (a
    tile's are 160 KB: the original's library would be 34 GB)."""
    return np.concatenate([surface_histograms(library["elevation"].get_orthogonal_selection(
        (tiles[start:start + block_rows], slice(None), slice(None))), library.attrs["forward"])
        for start in range(0, max(len(tiles), 1), block_rows)])


def build_classifier(library_store: str | Path, clusters_store: str | Path,
                     labels_path: str | Path, dist: EmpiricalDistributions,
                     pulses: Mapping[str, np.ndarray], settings: ClassifierSettings
                     ) -> tuple[Classifier, dict[str, Examples], dict[str, Any]]:
    """Make the examples of both library splits and fit the calibrated classifier.

    Parameters
    ----------
    library_store, clusters_store, labels_path : the labelled library
    dist : what shots look like (:func:`~cryolearn.crevasse.shots.augment.read_distributions`)
    pulses : campaign → its pulse kernel
        (:func:`~cryolearn.crevasse.classify.pulses.campaign_pulse`)
    settings : the classifier

    Returns
    -------
    the classifier, the examples by split (``train``, ``holdout``) and the labels'
    provenance
    """
    library = open_group(library_store)
    label, provenance = library_labels(library_store, clusters_store, labels_path)
    split = library["split"][:]
    known = label >= 0
    campaigns = sorted(pulses)
    kernels = [np.asarray(pulses[c]) for c in campaigns]
    rng = np.random.default_rng(settings.seed)
    examples = {}
    held_out = split == HOLDOUT
    for name, rows in (("train", known & ~held_out), (HOLDOUT, known & held_out)):
        tiles = np.flatnonzero(rows)
        hist = _tile_histograms(library, tiles)
        examples[name] = make_examples(hist, tiles, label[rows], kernels, dist,
                                       settings.examples, rng, settings.align)
        log.info("%s: %d examples of %d tiles, %.0f %% crevasse", name,
                 len(examples[name].label), len(tiles), 100 * examples[name].label.mean())
    return fit_classifier(examples["train"], examples[HOLDOUT], settings, campaigns), \
        examples, provenance


def train_classifier(library_store: str | Path, clusters_store: str | Path,
                     labels_path: str | Path, distributions_store: str | Path,
                     pulses: Mapping[str, np.ndarray], out_model: str | Path,
                     out_report: str | Path, settings: ClassifierSettings) -> dict[str, Any]:
    """Train on the library's training split, calibrate on its held-out split, and write both.

    Parameters
    ----------
    library_store, clusters_store, labels_path : the labelled library
    distributions_store : ``results/augment/distributions.zarr``
    pulses : campaign → its pulse kernel
        (:func:`~cryolearn.crevasse.classify.pulses.campaign_pulse`)
    out_model : ``results/models/classifier.pkl``
    out_report : JSON: examples, the held-out library's AUC and reliability
    settings : the classifier

    Returns
    -------
    the report
    """
    model, examples, provenance = build_classifier(
        library_store, clusters_store, labels_path, read_distributions(distributions_store),
        pulses, settings)
    model.save(out_model)
    held = examples[HOLDOUT]
    score = model.score(held.features)
    # the calibration is fitted on these: their reliability shows the fit, not a test
    report = {
        "campaigns": model.campaigns, "settings": asdict(settings),
        "labels": provenance,
        "n_tiles": {k: len(np.unique(v.tile)) for k, v in examples.items()},
        "n_examples": {k: len(v.label) for k, v in examples.items()},
        "crevasse_share": {k: float(v.label.mean()) for k, v in examples.items()},
        "model": settings.model, "iterations": int(model.scorer.n_iter_),
        "holdout_library_roc_auc": float(roc_auc_score(held.label, score)),
        "holdout_library_reliability": reliability(model.calibration.predict(score), held.label),
    }
    write_json_atomic(out_report, report)
    log.info("classifier: %s, %d iterations; held-out library ROC AUC %.3f", settings.model,
             report["iterations"], report["holdout_library_roc_auc"])
    return report


def shot_probabilities(model: Classifier, shots_store: str | Path
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probability and uncalibrated score of every shot of a store (NaN: no return)."""
    shots = open_group(shots_store)
    signal = background_subtracted(shots["waveform"][:], shots["background_mean"][:])
    features, found = shot_features(signal, model.settings.examples, model.settings.align)
    probability = np.full(len(found), np.nan, np.float32)
    score = np.full(len(found), np.nan, np.float32)
    if found.any():
        raw = model.score(features[found])
        score[found] = raw
        probability[found] = model.calibration.predict(raw)  # as model.probability does
    return probability, score


def classify_store(model_path: str | Path, shots_store: str | Path,
                   out_store: str | Path) -> dict[str, Any]:
    """Write ``results/classified/{campaign}.zarr``: every shot's calibrated probability.

    The store holds ``probability`` (NaN where the record has no return above the
    leading-edge threshold), the uncalibrated ``score``, ``leading_edge_ns`` and the
    shot's ``x``, ``y``, ``lat``, ``lon``, ``time``, ``rec_ndx``, ``shot_count``.
    """
    model = Classifier.load(model_path)
    shots = open_group(shots_store)
    probability, score = shot_probabilities(model, shots_store)
    attrs = {"campaign": shots.attrs.get("campaign", ""), "model": str(model_path),
             "n_shots": len(probability), "n_with_probability": int(np.isfinite(probability).sum()),
             "trained_for": model.campaigns}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        write_array(group, "probability", probability, ("shot",),
                    {"meaning": "calibrated crevasse probability of the per-shot classifier"})
        write_array(group, "score", score, ("shot",), {"meaning": "the model's uncalibrated score"})
        for name in ("x", "y", "lat", "lon", "time", "rec_ndx", "shot_count"):
            write_array(group, name, shots[name][:], ("shot",), dict(shots[name].attrs))
    log.info("%s: %d of %d shots classified", attrs["campaign"], attrs["n_with_probability"],
             attrs["n_shots"])
    return attrs

