"""Every crevasse config section is built through settings.settings_from: a typo fails by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cryolearn.crevasse.evaluate.som import som_evaluation_settings
from cryolearn.crevasse.maps.probability import probability_settings
from cryolearn.crevasse.matching.match import matching_settings
from cryolearn.crevasse.surfaces.clusters import cluster_settings
from cryolearn.crevasse.surfaces.som import som_settings
from cryolearn.settings import settings_from


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((Path(__file__).parents[1] / "config/config.yaml").read_text())


def clusters_and_evaluation(section: dict) -> tuple:
    """The clusters section's two settings: OPTICS and its evaluation against truth."""
    return cluster_settings(section), som_evaluation_settings(section.get("evaluation"))


BUILDERS = {"som": som_settings, "clusters": clusters_and_evaluation,
            "probability": probability_settings, "matching": matching_settings}


@pytest.mark.parametrize("section", sorted(BUILDERS))
def test_the_demo_sections_build_with_the_configs_values(config, section):
    built = BUILDERS[section](config[section])
    settings = built if isinstance(built, tuple) else (built,)
    for key, value in config[section].items():
        if isinstance(value, dict):
            continue
        owner = next((s for s in settings if hasattr(s, key)), None)
        if owner is not None:
            got = getattr(owner, key)
            assert (list(got) if isinstance(got, tuple) else got) == value, key


@pytest.mark.parametrize(("section", "nested", "where"), [
    ("som", None, "som"), ("som", "features", "som.features"),
    ("clusters", None, "clusters"), ("clusters", "evaluation", "clusters.evaluation"),
    ("probability", None, "probability"),
    ("matching", None, "matching"), ("matching", "exact", "matching.exact"),
    ("matching", "approximate", "matching.approximate"),
])
def test_an_unknown_key_is_refused_naming_section_and_key(config, section, nested, where):
    values = dict(config[section])
    if nested is None:
        values["min_knwon"] = 3
    else:
        values[nested] = {**(values.get(nested) or {}), "min_knwon": 3}
    with pytest.raises(ValueError, match=rf"^{where}: unknown key\(s\) \['min_knwon'\]"):
        BUILDERS[section](values)


def test_matching_settings_keep_their_values(config):
    settings = matching_settings(config["matching"])
    assert (settings.k, settings.draws, settings.offsets) == (30, 2, [0, -1, 1])
    assert settings.approximate.factory == "PCA32,HNSW32"
    assert settings.exact.block_rows == 32768 and settings.seed == 20040214


def test_lists_become_tuples_only_where_the_default_is_a_tuple():
    from dataclasses import dataclass

    @dataclass
    class Example:
        pair: tuple[int, int] = (1, 2)
        values: list | None = None

    built = settings_from(Example, {"pair": [3, 4], "values": [5]}, "example")
    assert built.pair == (3, 4) and built.values == [5]
