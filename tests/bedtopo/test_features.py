"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np

from cryolearn.bedtopo.data import (
    INPUT_FIELDS,
)
from cryolearn.bedtopo.features import build_features, feature_stack


def test_features_are_90_channels_of_fields_gradients_and_repeated_trends():
    rng = np.random.default_rng(0)
    fields = rng.normal(size=(5, 20, 24)) * np.arange(1, 6)[:, None, None] + 7
    stack, names = feature_stack(fields, "repeated")
    assert stack.shape == (90, 20, 24) and len(names) == 90
    assert names[:5] == list(INPUT_FIELDS)
    np.testing.assert_array_equal(stack[:5], fields)
    d_dy, d_dx = np.gradient(fields[2])
    np.testing.assert_allclose(stack[5 + 2 * 2], d_dy)
    np.testing.assert_allclose(stack[5 + 2 * 2 + 1], d_dx)
    assert names[9] == "delevation/dy" and names[10] == "delevation/dx"
    y, x = np.mgrid[0:20, 0:24].astype(float)
    for k, term in enumerate([x, y, x * x, x * y, y * y]):
        for copy in range(15):
            np.testing.assert_array_equal(stack[15 + 5 * copy + k], term)
    standardised, names, _ = build_features(fields, "repeated")
    np.testing.assert_allclose(standardised.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(standardised.std(axis=(1, 2)), 1, atol=1e-4)
    once, once_names, _ = build_features(fields, "once")
    assert once.shape[0] == 20 and once_names[15:] == [f"trend:{t}" for t in
                                                       ("x", "y", "x2", "xy", "y2")]
    np.testing.assert_array_equal(once[15:], standardised[15:20])
