"""Classical baselines of bed mapping from radar: linear interpolation and ordinary kriging.

Both interpolate the radar bed (surface minus radar thickness) of the
training lines, averaged per grid cell. ``linear`` is Delaunay-linear
interpolation (scipy), nearest-neighbour outside the convex hull of the data.
``kriging`` is ordinary kriging (gstools, Müller et al. 2022) with a variogram
model fitted to the empirical variogram of the same data; its ``exact`` option
makes the estimate pass through the data instead of treating the fitted
nugget as measurement error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gstools as gs
import numpy as np
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from cryolearn.io.grids import GridSpec

log = logging.getLogger(__name__)

VARIOGRAM_MODELS = {"exponential": gs.Exponential, "spherical": gs.Spherical,
                    "gaussian": gs.Gaussian, "stable": gs.Stable}


def linear_bed(x: np.ndarray, y: np.ndarray, values: np.ndarray, grid: GridSpec) -> np.ndarray:
    """Linear interpolation of point values onto the grid (nearest outside the hull)."""
    points = np.column_stack([x, y])
    gx, gy = np.meshgrid(grid.x, grid.y)
    out = LinearNDInterpolator(points, values)(gx, gy)
    outside = np.isnan(out)
    if outside.any():
        out[outside] = NearestNDInterpolator(points, values)(gx[outside], gy[outside])
    return out.astype(np.float32)


@dataclass(frozen=True)
class KrigingSettings:
    """Config ``bedtopo.baselines.kriging``."""

    models: tuple[str, ...] = ("exponential", "spherical", "gaussian")
    max_points: int = 4000
    bins: int = 30
    max_lag_m: float = 30_000.0
    exact: bool = False
    seed: int = 0


@dataclass(frozen=True)
class Variogram:
    """The fitted variogram model and how well it fits the empirical one."""

    model: gs.CovModel
    name: str
    r2: float

    def summary(self) -> dict:
        return {"model": self.name, "variance_m2": float(self.model.var),
                "len_scale_m": float(self.model.len_scale),
                "nugget_m2": float(self.model.nugget), "r2": float(self.r2)}


def fit_variogram(x: np.ndarray, y: np.ndarray, values: np.ndarray,
                  settings: KrigingSettings) -> Variogram:
    """The best-fitting (largest r²) of the candidate models, with a nugget."""
    edges = np.linspace(0.0, settings.max_lag_m, settings.bins + 1)
    sample = min(len(values), 20_000)
    centres, gamma = gs.vario_estimate((x, y), values, edges, sampling_size=sample,
                                       sampling_seed=settings.seed)
    best = None
    for name in settings.models:
        if name not in VARIOGRAM_MODELS:
            raise ValueError(f"bedtopo.baselines.kriging.models: unknown model {name!r} "
                             f"(known: {sorted(VARIOGRAM_MODELS)})")
        model = VARIOGRAM_MODELS[name](dim=2)
        try:
            _, _, r2 = model.fit_variogram(centres, gamma, nugget=True, return_r2=True,
                                           max_eval=20_000)
        except RuntimeError as exc:
            log.warning("variogram model %s did not fit (%s); skipped", name, exc)
            continue
        if best is None or r2 > best.r2:
            best = Variogram(model, name, float(r2))
    if best is None:
        raise ValueError(f"no variogram model of {list(settings.models)} fits the "
                         f"empirical variogram of {len(values)} radar cells")
    log.info("variogram: %s", best.summary())
    return best


def thin_points(n: int, max_points: int, seed: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` points (a seeded random subset)."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


def kriging_bed(x: np.ndarray, y: np.ndarray, values: np.ndarray, grid: GridSpec,
                settings: KrigingSettings) -> tuple[np.ndarray, np.ndarray, Variogram]:
    """Ordinary kriging of point values onto the grid.

    Returns
    -------
    the estimate, the kriging standard deviation (m) and the fitted variogram
    """
    variogram = fit_variogram(x, y, values, settings)
    keep = thin_points(len(values), settings.max_points, settings.seed)
    krige = gs.krige.Ordinary(variogram.model, cond_pos=(x[keep], y[keep]),
                              cond_val=values[keep], exact=settings.exact)
    field, variance = krige.structured((grid.x, grid.y), return_var=True)
    # gstools orders structured output (x, y); our grids are (y, x)
    return (field.T.astype(np.float32), np.sqrt(np.maximum(variance.T, 0)).astype(np.float32),
            variogram)
