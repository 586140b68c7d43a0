"""Scores of a bed against a reference: DeepTopoNet's six metrics, on grids and along lines.

MAE, RMSE, bias and R² (1 − SSE/SST about the reference mean) are pointwise.
SSIM (Wang et al. 2004, scikit-image, 7-cell window) and PSNR (peak: the
reference's range over the scored cells) are image metrics; on a region of a
grid, SSIM is the mean of the SSIM map over the region's cells. Ruggedness is
the terrain ruggedness index (Riley et al. 1999): the root of the summed squared
differences between a cell and its 8 neighbours, averaged over the region, of
the bed and of the reference. Along radar lines, SSIM uses the same window on
each line's profile and ruggedness the mean absolute step between successive
cells.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

SSIM_WINDOW = 7


def point_metrics(estimate: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, bias (estimate − reference), R² and the count, over finite pairs."""
    ok = np.isfinite(estimate) & np.isfinite(reference)
    e, r = estimate[ok].astype(np.float64), reference[ok].astype(np.float64)
    if len(e) == 0:
        return {"n": 0, "mae_m": None, "rmse_m": None, "bias_m": None, "r2": None}
    error = e - r
    sst = float(np.sum((r - r.mean()) ** 2))
    return {"n": len(e), "mae_m": float(np.abs(error).mean()),
            "rmse_m": float(np.sqrt(np.mean(error**2))), "bias_m": float(error.mean()),
            "r2": float(1 - np.sum(error**2) / sst) if sst > 0 else None}


def psnr(estimate: np.ndarray, reference: np.ndarray) -> float | None:
    """Peak signal-to-noise ratio (dB) with the reference's range as the peak."""
    ok = np.isfinite(estimate) & np.isfinite(reference)
    if ok.sum() < 2:
        return None
    mse = float(np.mean((estimate[ok].astype(np.float64) - reference[ok]) ** 2))
    peak = float(np.ptp(reference[ok]))
    if mse == 0 or peak == 0:
        return None
    return float(10 * np.log10(peak**2 / mse))


def ruggedness_map(bed: np.ndarray) -> np.ndarray:
    """Terrain ruggedness index of every cell (edge cells use their existing neighbours)."""
    padded = np.pad(bed.astype(np.float64), 1, mode="edge")
    total = np.zeros(bed.shape)
    ny, nx = bed.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                neighbour = padded[1 + dr:1 + dr + ny, 1 + dc:1 + dc + nx]
                total += (neighbour - bed) ** 2
    return np.sqrt(total)


def grid_metrics(estimate: np.ndarray, reference: np.ndarray, region: np.ndarray
                 ) -> dict[str, float | None]:
    """All six metrics of a gridded estimate against a gridded reference over ``region``."""
    out = point_metrics(estimate[region], reference[region])
    if out["n"] == 0:
        return {**out, "ssim": None, "psnr_db": None, "ruggedness_m": None,
                "ruggedness_reference_m": None}
    peak = float(np.ptp(reference[region]))
    ssim_map = structural_similarity(reference.astype(np.float64), estimate.astype(np.float64),
                                     data_range=peak, win_size=SSIM_WINDOW, full=True)[1]
    out["ssim"] = float(ssim_map[region].mean())
    out["psnr_db"] = psnr(estimate[region], reference[region])
    out["ruggedness_m"] = float(ruggedness_map(estimate)[region].mean())
    out["ruggedness_reference_m"] = float(ruggedness_map(reference)[region].mean())
    return out


def profile_metrics(profiles: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float | None]:
    """The six metrics along lines: ``(estimate, reference)`` profiles in along-track order."""
    estimate = np.concatenate([e for e, _ in profiles]) if profiles else np.empty(0)
    reference = np.concatenate([r for _, r in profiles]) if profiles else np.empty(0)
    out = point_metrics(estimate, reference)
    out["psnr_db"] = psnr(estimate, reference)
    weights, ssims, steps, steps_reference = [], [], [], []
    for e, r in profiles:
        ok = np.isfinite(e) & np.isfinite(r)
        e, r = e[ok].astype(np.float64), r[ok].astype(np.float64)
        if len(e) >= SSIM_WINDOW and np.ptp(r) > 0:
            ssims.append(structural_similarity(r, e, data_range=float(np.ptp(r)),
                                               win_size=SSIM_WINDOW))
            weights.append(len(e))
        if len(e) >= 2:
            steps.append(np.abs(np.diff(e)))
            steps_reference.append(np.abs(np.diff(r)))
    out["ssim"] = float(np.average(ssims, weights=weights)) if ssims else None
    out["ruggedness_m"] = float(np.concatenate(steps).mean()) if steps else None
    out["ruggedness_reference_m"] = (float(np.concatenate(steps_reference).mean())
                                     if steps_reference else None)
    return out
