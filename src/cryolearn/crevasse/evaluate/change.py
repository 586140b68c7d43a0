"""Can the maps see the world's change? The change interval at several cell sizes.

For each pair of years and each cell size, the crevassed-area change of the shots'
probabilities with its bootstrap interval
(:func:`~cryolearn.crevasse.maps.rasters.area_change_interval`, the change maps'
own), beside the synthetic world's whole-cell truth over the same cells. The
interval's sd shrinks as 1/√n with the shots per cell, so each row also says how
many times today's shots would make the truth's change stand out from zero at the
interval's level: ``(z · sd / |truth|)²``, where z is the normal quantile of the
level (a factor below 1: it stands out already).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from cryolearn.crevasse.evaluate.crevasse import crevassed_area_km2, whole_cell_shares
from cryolearn.crevasse.maps.rasters import (
    ChangeBootstrap,
    RasterGrid,
    area_change_interval,
    grid_around_stores,
    rasterise_points,
)
from cryolearn.io.zarrstore import open_group


def mapped_cells(stores: Sequence[str | Path], grid: RasterGrid) -> np.ndarray:
    """(height, width) cells holding at least one shot with a probability."""
    count = np.zeros((grid.height, grid.width), np.int64)
    for path in stores:
        group = open_group(path)
        count += rasterise_points(group["x"][:], group["y"][:], group["probability"][:],
                                  grid)[1]
    return count > 0


def shots_needed_factor(sd_km2: float | None, truth_km2: float | None, level: float
                        ) -> float | None:
    """How many times today's shots put ``truth_km2`` z·sd from zero (sd ∝ 1/√n)."""
    if sd_km2 is None or truth_km2 is None or truth_km2 == 0:
        return None
    z = float(norm.ppf(0.5 + level / 2))
    return float((z * sd_km2 / abs(truth_km2)) ** 2)


def change_detectability(earlier_stores: Sequence[str | Path],
                         later_stores: Sequence[str | Path], years: tuple[float, float],
                         cell_sizes_m: Sequence[float], bootstrap: ChangeBootstrap,
                         world: Any, crevassed_codes: Sequence[int], truth: str,
                         sample_m: float) -> list[dict[str, Any]]:
    """One row per cell size: the estimate, its interval and the world's change.

    Parameters
    ----------
    earlier_stores, later_stores : the two years' probability stores
    years : the two years' decimal years (of the world's truth)
    cell_sizes_m : cell sizes to try, m
    bootstrap : the change maps' bootstrap (config ``maps.change_interval``)
    world, crevassed_codes, truth, sample_m : the whole-cell truth
        (:func:`~cryolearn.crevasse.evaluate.crevasse.whole_cell_shares`)
    """
    rows = []
    for cell_m in cell_sizes_m:
        grid = grid_around_stores([*earlier_stores, *later_stores], float(cell_m))
        estimate = area_change_interval(earlier_stores, later_stores, grid, bootstrap)
        both = mapped_cells(earlier_stores, grid) & mapped_cells(later_stores, grid)
        shares = [whole_cell_shares(world, grid, both, year, sample_m, crevassed_codes, truth)
                  for year in years]
        true_change = crevassed_area_km2(shares[1] - shares[0], both, float(cell_m))
        interval = estimate.get("interval_km2")
        rows.append({
            "cell_m": float(cell_m), **estimate,
            "truth_whole_cell_area_change_km2": true_change,
            "truth_in_interval": None if interval is None
            else bool(interval[0] <= true_change <= interval[1]),
            "shots_needed_factor": shots_needed_factor(estimate.get("sd_km2"), true_change,
                                                       bootstrap.level),
        })
    return rows
