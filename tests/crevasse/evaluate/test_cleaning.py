"""Scores of the cleaners: known answers of the RMSE and leading-edge error."""

from helpers import plane_tiles

from cryolearn.crevasse.evaluate.cleaning import score
from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.shots.augment import clean_targets


def test_score_of_a_perfect_cleaner_is_zero():
    t = clean_targets(simulate_waveforms(plane_tiles(4, 0.1)))
    s = score(t, t)
    assert s["rmse"] == 0.0 and s["shift_error_ns"] == 0.0
