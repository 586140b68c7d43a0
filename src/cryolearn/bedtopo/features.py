"""DeepTopoNet's input features: 5 surface fields, their gradients and trend surfaces.

Following the original code, each of the 5 fields (:data:`INPUT_FIELDS`) gives
two gradient channels (d/dy then d/dx, in pixels, central differences); a
degree-2 trend surface of the pixel coordinates (x, y, x², xy, y²) is added
once per field and gradient channel, 15 × 5 = 75 channels, though the 15
copies are identical: 90 channels in all (``trend: repeated``). With
``trend: once`` the five trend channels appear once (20 channels). Every channel
is standardised to zero mean and unit variance over the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryolearn.bedtopo.data import INPUT_FIELDS

TREND_TERMS = ("x", "y", "x2", "xy", "y2")
TREND_MODES = ("repeated", "once")


def gradient_channels(fields: np.ndarray, names: tuple[str, ...] = INPUT_FIELDS
                      ) -> tuple[np.ndarray, list[str]]:
    """d/dy and d/dx of each field (pixel units), field by field: (2 n, ny, nx)."""
    out, labels = [], []
    for values, name in zip(fields, names, strict=True):
        d_dy, d_dx = np.gradient(values.astype(np.float64))
        out += [d_dy, d_dx]
        labels += [f"d{name}/dy", f"d{name}/dx"]
    return np.stack(out), labels


def trend_channels(shape: tuple[int, int]) -> np.ndarray:
    """x, y, x², xy, y² of pixel coordinates (column, row): (5, ny, nx)."""
    y, x = np.meshgrid(np.arange(shape[0], dtype=np.float64),
                       np.arange(shape[1], dtype=np.float64), indexing="ij")
    return np.stack([x, y, x * x, x * y, y * y])


@dataclass(frozen=True)
class Standardisation:
    """Per-channel mean and standard deviation used to standardise the features."""

    mean: np.ndarray
    std: np.ndarray

    def apply(self, stack: np.ndarray) -> np.ndarray:
        return ((stack - self.mean[:, None, None]) / self.std[:, None, None]).astype(np.float32)


def standardisation_of(stack: np.ndarray) -> Standardisation:
    """Channel means and standard deviations (1 where a channel is constant)."""
    mean = stack.mean(axis=(1, 2))
    std = stack.std(axis=(1, 2))
    return Standardisation(mean, np.where(std > 0, std, 1.0))


def feature_stack(fields: np.ndarray, trend: str = "repeated") -> tuple[np.ndarray, list[str]]:
    """Unstandardised feature channels and their names.

    Parameters
    ----------
    fields : (5, ny, nx) surface fields in :data:`INPUT_FIELDS` order
    trend : ``repeated`` (the original's 90 channels) or ``once`` (20 channels)
    """
    if trend not in TREND_MODES:
        raise ValueError(f"trend must be one of {TREND_MODES}, not {trend!r}")
    gradients, gradient_names = gradient_channels(fields)
    base = np.concatenate([fields.astype(np.float64), gradients])
    base_names = list(INPUT_FIELDS) + gradient_names
    trends = trend_channels(fields.shape[1:])
    if trend == "once":
        return np.concatenate([base, trends]), base_names + [f"trend:{t}" for t in TREND_TERMS]
    repeated = np.concatenate([trends] * len(base_names))
    names = [f"trend[{b}]:{t}" for b in base_names for t in TREND_TERMS]
    return np.concatenate([base, repeated]), base_names + names


def build_features(fields: np.ndarray, trend: str = "repeated"
                   ) -> tuple[np.ndarray, list[str], Standardisation]:
    """Standardised feature channels (float32), their names and the standardisation."""
    stack, names = feature_stack(fields, trend)
    scaling = standardisation_of(stack)
    return scaling.apply(stack), names, scaling
