"""How right the crevasse maps are, against synthetic truth.

Two truths per shot, both footprint-weighted shares of the surface under it:

* ``open_crevasses`` (the primary): the share over open crevasses, at least
  1 m below the ice between them; a shot is crevassed when it is at least
  ``open_truth_threshold`` (0.1);
* ``zone_classes``: the share in crevassed zones (their closed segments and the
  ice between crevasses included); crevassed when at least ``truth_threshold``
  (0.5).

ROC AUC and the Brier score compare the probabilities with the primary truth,
and a reliability table compares them, bin by bin, with the observed frequency
and the mean truth share. Every score is given overall, per campaign and per
region: ``trunk`` (shots at least half in the outlet trunk) and ``interior``;
the ``zone_classes`` block repeats them against the second truth.

For the maps, two truths per cell: ``under_shots``, the truth share of the
same shots averaged per cell (the error of classification alone), and
``whole_cell``, the crevassed share of the whole cell in the campaign's year,
sampled from the world on a fine lattice (classification plus the error of
sampling a 1 km cell with a few 70 m footprints). The crevassed area of a map
is the sum over cells of share x cell area; the change in crevassed area of a
pair of years is summed over the cells mapped in both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from cryolearn.crevasse.classify.model import reliability
from cryolearn.crevasse.maps.rasters import (
    ChangeBootstrap,
    RasterGrid,
    rasterise_points,
    read_raster,
)
from cryolearn.io.files import write_json_atomic, write_text_atomic
from cryolearn.io.zarrstore import open_group
from cryolearn.synth.glas import truth_rows_for_shots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrevasseEvaluation:
    """Settings of the evaluation (config ``crevasse_evaluation``)."""

    truth_threshold: float = 0.5
    reliability_bins: int = 10
    cell_sample_m: float = 25.0
    open_truth_threshold: float = 0.1
    primary_truth: str = "open_crevasses"
    tracks_per_fold: int = 1
    change_cells_m: tuple[float, ...] = ()
    ablation: bool = False  #: the workflow also runs the classifier's ablation

    def __post_init__(self) -> None:
        if self.tracks_per_fold < 1:
            raise ValueError("crevasse_evaluation.tracks_per_fold must be at least 1")
        if any(c <= 0 for c in self.change_cells_m):
            raise ValueError("crevasse_evaluation.change_cells_m must be positive sizes, m")


#: the two truths of a shot: name → (CampaignShots attribute, threshold setting, definition)
TRUTHS = {
    "open_crevasses": ("open_share", "open_truth_threshold",
                       "crevassed: at least {threshold:g} of the footprint over open crevasses "
                       "(at least 1 m below the ice between them)"),
    "zone_classes": ("truth_share", "truth_threshold",
                     "crevassed: at least {threshold:g} of the footprint in crevassed zones "
                     "(their closed segments and the ice between crevasses included)"),
}
#: trunk: shots at least this much in the outlet trunk (the truth store's trunk weight)
TRUNK_WEIGHT = 0.5


def reliability_table(probability: np.ndarray, outcome: np.ndarray, truth_share: np.ndarray,
                      n_bins: int) -> list[dict[str, Any]]:
    """Per probability bin: count, mean probability, observed frequency, mean truth share.

    Bins are equal-width on [0, 1]; the last includes 1. Empty bins are kept,
    with nulls, so that tables of different campaigns line up.
    """
    rows = reliability(probability, outcome, n_bins)
    which = np.clip(np.digitize(probability, np.linspace(0.0, 1.0, n_bins + 1)) - 1, 0,
                    n_bins - 1)
    for b, row in enumerate(rows):
        sel = which == b
        row["mean_truth_share"] = float(truth_share[sel].mean()) if sel.any() else None
    return rows


def shot_metrics(probability: np.ndarray, truth_share: np.ndarray,
                 settings: CrevasseEvaluation) -> dict[str, Any]:
    """ROC AUC, Brier score (and its skill over the base rate), reliability, for one set.

    Shots without a probability are counted in ``n_shots`` and left out of
    the scores.
    """
    probability = np.asarray(probability, dtype=np.float64)
    truth_share = np.asarray(truth_share, dtype=np.float64)
    use = np.isfinite(probability) & np.isfinite(truth_share)
    p, share = probability[use], truth_share[use]
    outcome = (share >= settings.truth_threshold).astype(np.int8)
    out: dict[str, Any] = {"n_shots": len(probability), "n_scored": int(use.sum()),
                           "coverage": float(use.mean()) if len(use) else 0.0}
    if not use.any():
        return {**out, "roc_auc": None, "brier": None, "brier_base_rate": None,
                "brier_skill": None, "crevassed_share": None, "reliability": []}
    base_rate = float(outcome.mean())
    brier = float(np.mean((p - outcome) ** 2))
    reference = float(np.mean((base_rate - outcome) ** 2))
    both_classes = 0 < outcome.sum() < len(outcome)
    return {
        **out,
        "crevassed_share": base_rate,
        "roc_auc": float(roc_auc_score(outcome, p)) if both_classes else None,
        "brier": brier,
        "brier_base_rate": reference,
        "brier_skill": float(1 - brier / reference) if reference > 0 else None,
        "mean_squared_error_share": float(np.mean((p - share) ** 2)),
        "correlation_share": float(np.corrcoef(p, share)[0, 1])
            if both_classes and p.std() > 0 else None,
        "reliability": reliability_table(p, outcome, share, settings.reliability_bins),
    }


@dataclass
class CampaignShots:
    """Probability store joined with its truth store."""

    campaign: str
    x: np.ndarray
    y: np.ndarray
    probability: np.ndarray
    truth_share: np.ndarray
    year: float  #: decimal year of the campaign's truth
    open_share: np.ndarray | None = None  #: footprint share over open crevasses
    trunk_weight: np.ndarray | None = None  #: how much of the outlet trunk each shot is in
    matching_probability: np.ndarray | None = None  #: the matches' share, beside a classifier's
    cloudy: np.ndarray | None = None  #: the simulator's own cloud mask (truth, not the flag)
    track: np.ndarray | None = None  #: repeat ground track of each shot


def load_campaign(probability_store: str | Path, truth_store: str | Path) -> CampaignShots:
    """Join a campaign's probabilities with its synthetic shot truth on the shot key."""
    shots = open_group(probability_store)
    truth = open_group(truth_store)
    rows = truth_rows_for_shots(shots, truth)

    def truth_of(name: str) -> np.ndarray | None:
        return truth[name][:][rows] if name in truth else None

    return CampaignShots(
        campaign=str(shots.attrs.get("campaign", Path(probability_store).stem)),
        x=shots["x"][:], y=shots["y"][:], probability=shots["probability"][:],
        truth_share=truth["crevassed_fraction"][:][rows], year=float(truth.attrs["year"]),
        open_share=truth_of("open_crevasse_fraction"),
        trunk_weight=truth_of("trunk_weight"), cloudy=truth_of("cloudy"), track=truth_of("track"),
        matching_probability=(shots["matching_probability"][:]
                              if shots.attrs.get("source") == "classifier" else None))


def truth_metrics(shots: Mapping[str, CampaignShots], truth: str,
                  settings: CrevasseEvaluation) -> dict[str, Any] | None:
    """Scores against one truth of :data:`TRUTHS`: overall, cloud-free, per campaign,
    per region and per fold of repeat tracks.

    ``None`` when a truth store predates that truth. The regions are ``trunk`` and
    ``interior`` (see :data:`TRUNK_WEIGHT`); a world without a trunk has only interior.
    When the published probability is the classifier's, ``methods.matching`` scores the
    matches' share on the same shots.
    """
    attribute, threshold_name, definition = TRUTHS[truth]
    if not shots or any(getattr(s, attribute) is None for s in shots.values()):
        return None
    threshold = getattr(settings, threshold_name)
    scoring = replace(settings, truth_threshold=threshold)
    share = np.concatenate([getattr(s, attribute) for s in shots.values()])
    groups = shot_groups(shots, settings.tracks_per_fold)
    probability = np.concatenate([s.probability for s in shots.values()])
    block = {"definition": definition.format(threshold=threshold),
             **group_metrics(probability, share, groups, scoring),
             "campaigns": {c: shot_metrics(s.probability, getattr(s, attribute), scoring)
                           for c, s in shots.items()}}
    if all(s.matching_probability is not None for s in shots.values()):
        matching = np.concatenate([s.matching_probability for s in shots.values()])
        block["methods"] = {"matching": group_metrics(matching, share, groups, scoring)}
    return block


@dataclass
class ShotGroups:
    """Pooled shots' region, cloud mask and fold."""

    in_trunk: np.ndarray
    cloudy: np.ndarray | None
    fold: np.ndarray | None
    tracks_per_fold: int


def shot_groups(shots: Mapping[str, CampaignShots], tracks_per_fold: int) -> ShotGroups:
    """Region, cloudiness and fold of every pooled shot (in the order of ``shots``)."""
    weight = np.concatenate([np.zeros(len(s.probability)) if s.trunk_weight is None
                             else s.trunk_weight for s in shots.values()])
    cloudy = (np.concatenate([s.cloudy for s in shots.values()]).astype(bool)
              if all(s.cloudy is not None for s in shots.values()) else None)
    fold = None
    if all(s.track is not None for s in shots.values()):
        fold = track_folds(np.concatenate([s.x for s in shots.values()]),
                           np.concatenate([s.y for s in shots.values()]),
                           np.concatenate([s.track for s in shots.values()]), tracks_per_fold)
    return ShotGroups(weight >= TRUNK_WEIGHT, cloudy, fold, tracks_per_fold)


def track_folds(x: np.ndarray, y: np.ndarray, track: np.ndarray, tracks_per_fold: int
                ) -> np.ndarray:
    """Fold of every shot: its repeat track's rank across track, ``tracks_per_fold`` a fold.

    Tracks are ordered by their mean position along the shots' second principal axis
    (across the tracks), so that a fold holds adjacent tracks and folds are spatially
    disjoint strips, never random shots.
    """
    xy = np.stack([x, y], axis=1).astype(np.float64)
    centred = xy - xy.mean(axis=0)
    across = np.linalg.svd(centred, full_matrices=False)[2][-1] if len(xy) > 1 else np.zeros(2)
    position = centred @ across
    tracks = np.unique(track)
    order = np.argsort([position[track == t].mean() for t in tracks])
    rank = np.empty(len(tracks), np.int64)
    rank[order] = np.arange(len(tracks))
    return rank[np.searchsorted(tracks, track)] // tracks_per_fold


def group_metrics(probability: np.ndarray, share: np.ndarray, groups: ShotGroups,
                  scoring: CrevasseEvaluation) -> dict[str, Any]:
    """Overall, cloud-free, per-region and per-fold scores of one set of probabilities."""
    out: dict[str, Any] = {
        "overall": shot_metrics(probability, share, scoring),
        "regions": {name: shot_metrics(probability[where], share[where], scoring)
                    for name, where in (("trunk", groups.in_trunk),
                                        ("interior", ~groups.in_trunk))},
    }
    if groups.cloudy is not None:
        out["cloud_free"] = shot_metrics(probability[~groups.cloudy], share[~groups.cloudy],
                                         scoring)
    if groups.fold is not None:
        out["folds"] = fold_summary(probability, share, groups, scoring)
    return out


def fold_summary(probability: np.ndarray, share: np.ndarray, groups: ShotGroups,
                 scoring: CrevasseEvaluation) -> dict[str, Any]:
    """Per fold of repeat tracks: AUC and Brier skill, over all and cloud-free shots,
    with their mean and sd over folds."""
    assert groups.fold is not None
    folds = np.unique(groups.fold)
    subsets = {"all": np.ones(len(probability), bool)}
    if groups.cloudy is not None:
        subsets["cloud_free"] = ~groups.cloudy
    out: dict[str, Any] = {"n_folds": len(folds), "tracks_per_fold": groups.tracks_per_fold}
    for name, keep in subsets.items():
        per_fold = [shot_metrics(probability[(groups.fold == f) & keep],
                                 share[(groups.fold == f) & keep], scoring) for f in folds]
        out[name] = {
            "n_scored": [m["n_scored"] for m in per_fold],
            **{key: _spread([m[key] for m in per_fold]) for key in ("roc_auc", "brier_skill")},
        }
    return out


def _spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean and sd (over folds with a value) and every fold's value."""
    given = np.array([v for v in values if v is not None], np.float64)
    return {"mean": float(given.mean()) if len(given) else None,
            "sd": float(given.std(ddof=1)) if len(given) > 1 else None,
            "per_fold": list(values)}


def whole_cell_shares(world: Any, grid: RasterGrid, cells: np.ndarray, year: float,
                      sample_m: float, crevassed_codes: Sequence[int],
                      truth: str = "zone_classes") -> np.ndarray:
    """Crevassed share of whole cells in ``year``, on a lattice of ``sample_m`` in each.

    Parameters
    ----------
    world : a :class:`cryolearn.synth.world.SyntheticWorld`
    cells : (height, width) bool, the cells to sample (others NaN)
    crevassed_codes : the crevassed classes (``zone_classes``)
    truth : ``zone_classes`` (share in crevassed classes) or ``open_crevasses`` (share
        at least :data:`~cryolearn.synth.truth.OPEN_CREVASSE_DEPTH_M` below the ice
        between the crevasses)
    """
    from cryolearn.synth.truth import OPEN_CREVASSE_DEPTH_M

    out = np.full((grid.height, grid.width), np.nan)
    steps = max(1, round(grid.cell_m / sample_m))
    offsets = (np.arange(steps) + 0.5) * grid.cell_m / steps
    ox, oy = np.meshgrid(offsets, offsets)
    for row, col in zip(*np.nonzero(cells), strict=True):
        x = grid.x_min + col * grid.cell_m + ox
        y = grid.y_max - row * grid.cell_m - oy
        if truth == "open_crevasses":
            _, _, depth = world.evaluate(x, y, year, crevasse_depth=True)
            out[row, col] = (depth >= OPEN_CREVASSE_DEPTH_M).mean()
        else:
            _, surface_class = world.evaluate(x, y, year)
            out[row, col] = np.isin(surface_class, crevassed_codes).mean()
    return out


def crevassed_area_km2(share: np.ndarray, cells: np.ndarray, cell_m: float) -> float:
    """Sum of share x cell area over the given cells, km^2."""
    return float(np.nansum(np.where(cells, share, 0.0)) * cell_m**2 / 1e6)


@dataclass
class YearTruth:
    """A yearly map with its two truths per cell."""

    predicted: np.ndarray
    under_shots: np.ndarray
    whole_cell: np.ndarray | None
    mapped: np.ndarray
    cell_m: float


def year_truth(map_tif: str | Path, campaigns: Sequence[CampaignShots], world: Any | None,
               settings: CrevasseEvaluation, crevassed_codes: Sequence[int],
               truth: str = "zone_classes") -> YearTruth:
    """The map as written, and one truth (:data:`TRUTHS`) on its grid (only shots that
    have a probability)."""
    attribute = TRUTHS[truth][0]
    raster = read_raster(map_tif)
    grid = raster.grid
    predicted = raster.bands["crevasse_probability"]
    mapped = raster.bands["shot_count"] > 0
    x = np.concatenate([c.x for c in campaigns]) if campaigns else np.zeros(0)
    y = np.concatenate([c.y for c in campaigns]) if campaigns else np.zeros(0)
    share = np.concatenate([np.where(np.isfinite(c.probability), getattr(c, attribute), np.nan)
                            for c in campaigns]) if campaigns else np.zeros(0)
    under_shots, _, _ = rasterise_points(x, y, share, grid)
    whole = None
    if world is not None and campaigns:
        year = float(np.mean([c.year for c in campaigns]))
        whole = whole_cell_shares(world, grid, mapped, year, settings.cell_sample_m,
                                  crevassed_codes, truth)
    return YearTruth(predicted, under_shots, whole, mapped, grid.cell_m)


def year_metrics(truth: YearTruth) -> dict[str, Any]:
    """Crevassed area of the map and of the truths, and the per-cell error."""
    mapped, cell_m = truth.mapped, truth.cell_m
    out: dict[str, Any] = {
        "cells_mapped": int(mapped.sum()),
        "crevassed_area_km2": crevassed_area_km2(truth.predicted, mapped, cell_m),
        "truth_under_shots_area_km2": crevassed_area_km2(truth.under_shots, mapped, cell_m),
        "cell_rmse_under_shots": _rmse(truth.predicted, truth.under_shots, mapped),
    }
    if truth.whole_cell is not None:
        out["truth_whole_cell_area_km2"] = crevassed_area_km2(truth.whole_cell, mapped, cell_m)
        out["cell_rmse_whole_cell"] = _rmse(truth.predicted, truth.whole_cell, mapped)
    return out


def _rmse(a: np.ndarray, b: np.ndarray, cells: np.ndarray) -> float | None:
    use = cells & np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[use] - b[use]) ** 2))) if use.any() else None


def change_metrics(earlier: YearTruth, later: YearTruth) -> dict[str, Any]:
    """Change in crevassed area over the cells mapped in both years, against the truths."""
    both = earlier.mapped & later.mapped
    cell_m = earlier.cell_m
    predicted = crevassed_area_km2(later.predicted - earlier.predicted, both, cell_m)
    under = crevassed_area_km2(later.under_shots - earlier.under_shots, both, cell_m)
    out: dict[str, Any] = {
        "cells_in_both": int(both.sum()),
        "area_change_km2": predicted,
        "truth_under_shots_area_change_km2": under,
        "area_change_error_under_shots_km2": predicted - under,
        "cell_change_rmse_under_shots": _rmse(later.predicted - earlier.predicted,
                                              later.under_shots - earlier.under_shots, both),
    }
    if earlier.whole_cell is not None and later.whole_cell is not None:
        whole = crevassed_area_km2(later.whole_cell - earlier.whole_cell, both, cell_m)
        out["truth_whole_cell_area_change_km2"] = whole
        out["area_change_error_whole_cell_km2"] = predicted - whole
    return out


def tile_crevassed_shares(library_store: str | Path, tile_truth_stores: Sequence[str | Path],
                          crevassed_classes: Sequence[str]) -> np.ndarray:
    """Truth crevassed share of every library tile (joined on hash; 0 where unknown)."""
    from cryolearn.synth.truth import class_fractions_for_hashes

    fractions, names = class_fractions_for_hashes(tile_truth_stores,
                                                  open_group(library_store)["hash"][:])
    return fractions[:, [names.index(c) for c in crevassed_classes]].sum(axis=1)


def matched_tile_truth_probability(matches_store: str | Path, tile_crevassed: np.ndarray,
                                   threshold: float) -> np.ndarray:
    """A shot's probability had every matched tile been labelled by its own truth.

    The share of matched tiles that are crevassed (truth share at least
    ``threshold``): the ceiling that matching alone allows, whatever the
    clustering and labelling.
    """
    from cryolearn.crevasse.maps.probability import ProbabilitySettings, shot_probabilities

    matches = open_group(matches_store)
    truly_crevassed = np.where(tile_crevassed >= threshold, 0, 1)
    result = shot_probabilities(matches["neighbour"][:], matches["distance"][:],
                                truly_crevassed, 2, 0, ProbabilitySettings(min_known=1))
    return np.where(matches["matched"][:], result.probability, np.nan)


def evaluate_crevasse(probability_stores: Mapping[str, str | Path],
                      truth_stores: Mapping[str, str | Path],
                      year_maps: Mapping[int, str | Path],
                      campaigns_of_year: Mapping[int, Sequence[str]],
                      change_pairs: Sequence[tuple[int, int]], out_json: str | Path,
                      settings: CrevasseEvaluation, world: Any | None = None,
                      crevassed_codes: Sequence[int] = (),
                      matches_stores: Mapping[str, str | Path] | None = None,
                      tile_crevassed: np.ndarray | None = None,
                      change_tifs: Mapping[tuple[int, int], str | Path] | None = None,
                      bootstrap: ChangeBootstrap | None = None) -> dict[str, Any]:
    """Write ``results/eval/crevasse.json``: per campaign, region, year and change.

    The top level scores the primary truth (``settings.primary_truth``); the other
    truth of :data:`TRUTHS` gets a block of the same scores under its own name.

    Parameters
    ----------
    probability_stores, truth_stores : by campaign
    year_maps : ``crevasse_{year}.tif`` by year
    campaigns_of_year : the campaigns rasterised into each year's map
    change_pairs : (earlier, later) years
    world : the synthetic world, for the whole-cell truth (optional)
    crevassed_codes : class codes that count as crevassed in ``world``
    matches_stores, tile_crevassed : by campaign, and the zone-class truth crevassed share
        of every library tile: with both, each truth's ``diagnostics.matched_tile_truth``
        scores the probabilities a perfect labeller of every tile would give (matching's
        ceiling)
    change_tifs : ``change_{year1}_{year2}.tif`` by pair: their bootstrap intervals of the
        crevassed-area change are reported beside the truths' change
    bootstrap : the change maps' bootstrap: with ``world`` and
        ``settings.change_cells_m``, ``change_detectability`` gives every pair's interval
        and the primary truth's whole-cell change at each of those cell sizes
        (:func:`cryolearn.crevasse.evaluate.change.change_detectability`)
    """
    if settings.primary_truth not in TRUTHS:
        raise ValueError(f"crevasse_evaluation.primary_truth must be one of {sorted(TRUTHS)}, "
                         f"not {settings.primary_truth!r}")
    shots = {c: load_campaign(probability_stores[c], truth_stores[c]) for c in probability_stores}
    blocks = {name: truth_metrics(shots, name, settings) for name in TRUTHS}
    primary = settings.primary_truth
    if blocks[primary] is None:
        log.warning("the truth stores hold no %s truth: scoring against zone classes", primary)
        primary = "zone_classes"
    ceiling = None
    if matches_stores is not None and tile_crevassed is not None and shots:
        ceiling = np.concatenate([
            matched_tile_truth_probability(matches_stores[c], tile_crevassed,
                                           settings.truth_threshold) for c in shots])
    result: dict[str, Any] = {"settings": asdict(settings), "primary_truth": primary}
    for name, block in blocks.items():
        if block is None:
            continue
        block.update(_map_metrics(shots, name, year_maps, campaigns_of_year, change_pairs,
                                  settings, world, crevassed_codes, change_tifs))
        if ceiling is not None:
            block["diagnostics"] = {"matched_tile_truth": _ceiling_metrics(
                shots, ceiling, name, settings)}
        if name == primary:
            result.update(block)
        else:
            result[name] = block
    if world is not None and bootstrap is not None and settings.change_cells_m:
        result["change_detectability"] = _detectability(
            probability_stores, shots, campaigns_of_year, change_pairs, settings, bootstrap,
            world, crevassed_codes, primary)
    write_json_atomic(out_json, result)
    overall = result["overall"]
    log.info("per-shot ROC AUC %s, Brier %s over %d shots (%s)", overall["roc_auc"],
             overall["brier"], overall["n_scored"], primary)
    return result


def _map_metrics(shots: Mapping[str, CampaignShots], truth: str,
                 year_maps: Mapping[int, str | Path],
                 campaigns_of_year: Mapping[int, Sequence[str]],
                 change_pairs: Sequence[tuple[int, int]], settings: CrevasseEvaluation,
                 world: Any | None, crevassed_codes: Sequence[int],
                 change_tifs: Mapping[tuple[int, int], str | Path] | None = None
                 ) -> dict[str, Any]:
    """Yearly maps and their changes against one truth (with the change maps' intervals)."""
    truths = {year: year_truth(path, [shots[c] for c in campaigns_of_year[year] if c in shots],
                               world, settings, crevassed_codes, truth)
              for year, path in year_maps.items()}
    changes = {}
    for a, b in change_pairs:
        changes[f"{a}_{b}"] = change_metrics(truths[a], truths[b])
        if change_tifs and (a, b) in change_tifs:
            changes[f"{a}_{b}"].update(interval_metrics(changes[f"{a}_{b}"],
                                                        read_raster(change_tifs[a, b]).tags))
    return {"years": {str(y): year_metrics(t) for y, t in truths.items()}, "changes": changes}


def _detectability(probability_stores: Mapping[str, str | Path],
                   shots: Mapping[str, CampaignShots],
                   campaigns_of_year: Mapping[int, Sequence[str]],
                   change_pairs: Sequence[tuple[int, int]], settings: CrevasseEvaluation,
                   bootstrap: ChangeBootstrap, world: Any, crevassed_codes: Sequence[int],
                   truth: str) -> dict[str, Any]:
    from cryolearn.crevasse.evaluate.change import change_detectability

    def of_year(year: int) -> tuple[list[str | Path], float]:
        names = [c for c in campaigns_of_year[year] if c in shots]
        return [probability_stores[c] for c in names], float(np.mean([shots[c].year
                                                                      for c in names]))
    out = {}
    for a, b in change_pairs:
        (earlier, year_a), (later, year_b) = of_year(a), of_year(b)
        out[f"{a}_{b}"] = change_detectability(earlier, later, (year_a, year_b),
                                               settings.change_cells_m, bootstrap, world,
                                               crevassed_codes, truth, settings.cell_sample_m)
        log.info("%s→%s: detectability at cells %s m", a, b, list(settings.change_cells_m))
    return {"truth": truth, "pairs": out}


def interval_metrics(change: Mapping[str, Any], tags: Mapping[str, Any]) -> dict[str, Any]:
    """The change map's bootstrap interval, and whether each truth's change lies in it."""
    area = tags.get("area_change")
    if not area or area.get("interval_km2") is None:
        return {}
    low, high = area["interval_km2"]
    out: dict[str, Any] = {"interval_km2": [low, high], "interval_level": area["level"],
                           "interval_excludes_zero": area["excludes_zero"],
                           "shots_per_cell": area.get("shots_per_cell")}
    for name in ("truth_under_shots_area_change_km2", "truth_whole_cell_area_change_km2"):
        if change.get(name) is not None:
            key = name.replace("_area_change_km2", "_in_interval")
            out[key] = bool(low <= change[name] <= high)
    return out


def _ceiling_metrics(shots: Mapping[str, CampaignShots], ceiling: np.ndarray, truth: str,
                     settings: CrevasseEvaluation) -> dict[str, Any]:
    """Matching's ceiling (tiles labelled by their zone-class truth) against one truth."""
    attribute, threshold_name, _ = TRUTHS[truth]
    share = np.concatenate([getattr(s, attribute) for s in shots.values()])
    scored = np.isfinite(np.concatenate([s.probability for s in shots.values()]))
    scoring = replace(settings, truth_threshold=getattr(settings, threshold_name))
    return shot_metrics(np.where(scored, ceiling, np.nan), share, scoring)


TABLE_COLUMNS = ("n_shots", "n_scored", "crevassed_share", "roc_auc", "brier",
                 "brier_base_rate", "brier_skill")


def write_campaign_table(result: Mapping[str, Any], out_tsv: str | Path) -> None:
    """Per-campaign and overall scores as a tab-separated table (for the report)."""
    def cell(value: Any) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    rows = [("campaign", *TABLE_COLUMNS)]
    for name, metrics in [*result["campaigns"].items(), ("all", result["overall"])]:
        rows.append((name, *(cell(metrics.get(c)) for c in TABLE_COLUMNS)))
    write_text_atomic(out_tsv, "\n".join("\t".join(r) for r in rows) + "\n")
