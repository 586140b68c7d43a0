"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryolearn.climate.features import (
    ClimateFeatures,
    fill_missing,
    min_max_columns,
    pad_frames,
)


def test_missing_values_take_column_or_variable_means_and_columns_scale_to_unit():
    fields = np.arange(2 * 2 * 2 * 2, dtype=np.float32).reshape(2, 2, 2, 2)
    fields[0, 0, 0, 0] = np.nan  # one day missing: the column's mean of the other day
    fields[:, 1, 1, 1] = np.nan  # land in every day: the variable's mean
    filled = fill_missing(fields)
    assert filled[0, 0, 0, 0] == fields[1, 0, 0, 0]
    assert filled[0, 1, 1, 1] == pytest.approx(np.nanmean(fields[:, 1]))
    scaled = min_max_columns(filled.reshape(2, -1))
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert (scaled[:, 7] == 0).all() and (scaled[:, 0] == 0).all()  # constant columns


def test_frames_are_padded_evenly_to_multiples_of_16():
    padded = pad_frames(np.ones((2, 7, 41, 41), np.float32))
    assert padded.shape == (2, 7, 48, 48)
    assert padded[0, 0, 3:44, 3:44].all() and padded[0, 0, :3].sum() == 0
    assert padded[0, 0, 44:].sum() == 0


def test_anomalies_remove_the_seasonal_cycle():
    dates = pd.date_range("2021-01-01", periods=365).to_numpy()
    day = np.arange(365)
    cycle = 290 + 4 * np.cos(2 * np.pi * (day - 200) / 365.25)
    fields = np.broadcast_to(cycle[:, None, None, None], (365, 1, 2, 2)).astype(np.float32)
    features = ClimateFeatures(fields, fields, dates, ["t2m"], np.arange(2.0), np.arange(2.0))
    assert np.abs(features.anomalies()).max() < 0.05
