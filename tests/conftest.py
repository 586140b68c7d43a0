"""Shared fixtures; helpers.py holds the shared generators."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import small_region


@pytest.fixture(scope="session")
def region(tmp_path_factory):
    """A small synthetic bed-topography region written in the real formats."""
    from cryolearn.synth.bedtopo import write_region

    root = tmp_path_factory.mktemp("bedtopo")
    return write_region(small_region(), root / "out", root / "truth")


@pytest.fixture(scope="session")
def inputs(region):
    """The region's inputs on the BedMachine grid, as bedtopo_inputs prepares them."""
    from cryolearn.bedtopo.data import prepare_inputs

    fields = {name: {"path": str(region[name])} for name in ("smb", "dhdt", "vx", "vy")}
    return prepare_inputs(region["bedmachine"], fields, sorted(region["radar"].glob("*.csv")))
