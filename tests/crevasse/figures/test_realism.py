"""The realism figure: cumulative distributions and the report's numbers in the titles."""

import matplotlib.image
import numpy as np

from cryolearn.crevasse.evaluate.realism import STATISTICS
from cryolearn.crevasse.figures.realism import ecdf, panel_title, plot_realism


def test_ecdf_by_hand():
    x, share = ecdf(np.array([3.0, np.nan, 1.0, 2.0, 2.0]))
    assert x.tolist() == [1.0, 2.0, 2.0, 3.0] and share.tolist() == [0.25, 0.5, 0.75, 1.0]


def test_titles_carry_both_medians_and_ks():
    values = {"real_median": 33.89, "synthetic_median": 3.2011, "ks": 0.8102}
    assert panel_title("rms_width_ns", values) == "medians 33.9 real, 3.2 synthetic; KS 0.81"
    assert panel_title("snr", {"ks": None}) == "SNR"


def test_the_figure_is_drawn_with_and_without_a_comparison(tmp_path):
    rng = np.random.default_rng(0)
    real = {name: rng.normal(10, 2, 100) for name in STATISTICS}
    synthetic = {name: rng.normal(12, 2, 300) for name in STATISTICS}
    report = {"elevation_band_m": [20, 760], "band_matched": True, "statistics": {}}
    plot_realism(report, real, synthetic, tmp_path / "realism.png")
    empty = {name: np.zeros(0) for name in STATISTICS}
    plot_realism({"skipped": "no real GLAS shots at x"}, empty, empty, tmp_path / "none.png")
    for name in ("realism.png", "none.png"):
        assert matplotlib.image.imread(tmp_path / name).shape[:2] == (650, 1200)
