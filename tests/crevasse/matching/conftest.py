"""Fixtures of the matching tests: a small library and its index."""

import pytest
from helpers import bumps, write_waveform_library

from cryolearn.crevasse.matching.match import build_index
from cryolearn.crevasse.matching.search import ApproximateParams


@pytest.fixture()
def small_index(tmp_path):
    waveforms = bumps(250, seed=11) / 10  # any scale: the index works at unit peak
    write_waveform_library(tmp_path / "library.zarr", waveforms)
    build_index(tmp_path / "library.zarr", tmp_path / "index", sigma_bins=0.0,
                approximate=ApproximateParams(factory="HNSW16", refine_factor=1))
    return tmp_path, waveforms
