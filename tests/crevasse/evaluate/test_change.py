"""Change detectability: the maps' interval beside a world whose change is known."""

from __future__ import annotations

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.change import change_detectability, shots_needed_factor
from cryolearn.crevasse.maps.rasters import ChangeBootstrap
from cryolearn.io.zarrstore import create_group, write_array
from cryolearn.synth.truth import OPEN_CREVASSE_DEPTH_M


class StripeWorld:
    """Open crevasses over the western ``share(year)`` of every 1 km of easting."""

    @staticmethod
    def share(year: float) -> float:
        return 0.2 + 0.05 * (year - 2003.0)

    def evaluate(self, x, y, year, crevasse_depth=False):
        depth = np.where((np.asarray(x) % 1000.0) < 1000.0 * self.share(year),
                         2 * OPEN_CREVASSE_DEPTH_M, 0.0)
        return np.zeros_like(depth), np.zeros(depth.shape, int), depth


def store(path, x, p):
    group = create_group(path, {"campaign": path.stem})
    y = np.linspace(100.0, 900.0, len(x))
    for name, values in (("x", x), ("y", y), ("probability", p)):
        write_array(group, name, np.asarray(values, np.float64), ("shot",))
    return path


def test_the_interval_at_each_cell_size_beside_the_worlds_own_change(tmp_path):
    # shots over 4 km of easting in one row of 1 km cells; every shot's probability is
    # its 0/1 truth
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 4000.0, 2000)
    world = StripeWorld()
    stores = [store(tmp_path / f"{c}.zarr", x, ((x % 1000) < 1000 * world.share(year)) * 1.0)
              for c, year in (("L2A", 2003.0), ("L3I", 2009.0))]
    rows = change_detectability(stores[:1], stores[1:], (2003.0, 2009.0), [1000.0, 2000.0],
                                ChangeBootstrap(draws=500, seed=1), world, [],
                                "open_crevasses", sample_m=10.0)
    assert [r["cell_m"] for r in rows] == [1000.0, 2000.0]
    assert rows[0]["cells_in_both"] == 4 and rows[1]["cells_in_both"] == 2
    for row, area_km2 in zip(rows, (4.0, 8.0), strict=True):
        # the world's share grows 0.2 -> 0.5 in every whole cell: 1 km cells cover 4 km²,
        # the two 2 km cells 8 km²
        change = 0.3 * area_km2
        assert row["truth_whole_cell_area_change_km2"] == pytest.approx(change, abs=1e-9)
        assert row["area_change_km2"] == pytest.approx(change, rel=0.1)
        assert row["truth_in_interval"] is True and row["excludes_zero"] is True
        expected = (1.6449 * row["sd_km2"] / change) ** 2
        assert row["shots_needed_factor"] == pytest.approx(expected, rel=1e-3)


def test_shots_needed_factor_by_hand():
    # at 90 %, a change 1.645 sd from zero needs today's shots exactly
    assert shots_needed_factor(1.0, 1.6449, 0.9) == pytest.approx(1.0, rel=1e-3)
    # half the change needs four times the shots
    assert shots_needed_factor(1.0, 0.8224, 0.9) == pytest.approx(4.0, rel=1e-3)
    assert shots_needed_factor(None, 1.0, 0.9) is None
    assert shots_needed_factor(1.0, 0.0, 0.9) is None


@pytest.mark.parametrize("config", ["config.yaml", "skill.yaml", "test.yaml"])
def test_every_configs_crevasse_evaluation_section_makes_its_settings(config):
    from pathlib import Path

    import yaml

    from cryolearn.crevasse.evaluate.crevasse import CrevasseEvaluation
    from cryolearn.settings import settings_from

    repo = Path(__file__).resolve().parents[3]
    section = yaml.safe_load((repo / "config" / config).read_text())["crevasse_evaluation"]
    settings = settings_from(CrevasseEvaluation, section, "crevasse_evaluation")
    assert settings.ablation is (config != "config.yaml")
    assert isinstance(settings.change_cells_m, tuple)
