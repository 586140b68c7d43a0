"""Figures of the pipeline: lining a shot up with its cleaned waveform."""

from helpers import bumps

from cryolearn.crevasse.figures.pipeline import best_lag
from cryolearn.crevasse.matching.match import shift_bins


def test_best_lag_lines_a_shot_up_with_its_cleaned_waveform():
    reference = bumps(1, seed=12)[0]
    assert best_lag(shift_bins(reference[None], -9)[0], reference) == 9
