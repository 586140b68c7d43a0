"""Figures of the crevasse maps: the hillshade backdrop and the reliability curve."""

import matplotlib.pyplot as plt
import numpy as np
from helpers import write_geotiff
from rasterio.transform import Affine

from cryolearn.crevasse.figures.maps import _curve, plot_reliability, read_backdrop


def test_backdrop_covers_the_dem_in_km(tmp_path):
    dem = tmp_path / "dem.tif"
    z = np.add.outer(np.arange(40.0), np.arange(60.0)).astype(np.float32)
    write_geotiff(dem, z, Affine(100.0, 0, -200000.0, 0, -100.0, -2100000.0))
    backdrop = read_backdrop(dem)
    assert backdrop.shade.shape == (40, 60)
    assert backdrop.extent == (-200.0, -194.0, -2104.0, -2100.0)
    assert read_backdrop(None) is None


def test_the_reliability_curve_leaves_out_empty_bins():
    table = [{"n": 5, "mean_probability": 0.05, "observed_frequency": 0.2},
             {"n": 0, "mean_probability": None, "observed_frequency": None},
             {"n": 3, "mean_probability": 0.9, "observed_frequency": 2 / 3}]
    p, observed, n = _curve(table)
    np.testing.assert_allclose(p, [0.05, 0.9])
    np.testing.assert_allclose(observed, [0.2, 2 / 3])
    assert n.tolist() == [5, 3]


def test_the_reliability_figure_states_the_scores(tmp_path, monkeypatch):
    rows = [{"bin_low": 0.0, "n": 4, "mean_probability": 0.1, "observed_frequency": 0.25},
            {"bin_low": 0.5, "n": 2, "mean_probability": 0.8, "observed_frequency": 1.0}]
    evaluation = {"campaigns": {"L2A": {"reliability": rows}},
                  "overall": {"reliability": rows, "roc_auc": 0.8125, "brier": 0.1234,
                              "n_scored": 6}}
    titles = []
    monkeypatch.setattr(plt.Axes, "set_title",
                        lambda self, text, **kw: titles.append(text), raising=True)
    plot_reliability(evaluation, tmp_path / "reliability.png")
    assert titles == ["ROC AUC 0.812, Brier 0.123 over 6 shots"]
    assert (tmp_path / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
