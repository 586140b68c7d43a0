"""From a rule to its script, its science and its test, one hop each.

Every rule of the crevasse pipeline lives in the rule file of its stage
(``workflow/rules/<stage>.smk``), runs ``workflow/scripts/<rule>.py``, whose
science is in ``cryolearn.crevasse.<stage>.<module>``, tested in
``tests/crevasse/<stage>/test_<module>.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("library", "shots", "matching", "surfaces", "maps", "evaluate", "figures")
ALL_RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))


def rules_of(path: Path) -> list[tuple[str, str | None]]:
    """(rule, script file name) of every rule in a rule file."""
    text = path.read_text()
    found = []
    for match in re.finditer(r"^rule (\w+):\n((?:    .*\n|\n)*)", text, re.M):
        script = re.search(r'script:\s*\n\s*"\.\./scripts/([\w.]+)"', match.group(2))
        found.append((match.group(1), script.group(1) if script else None))
    return found


# target rules (``figures``) run no script: they only gather outputs
CREVASSE_RULES = [(stage, rule, script) for stage in STAGES
                  for rule, script in rules_of(REPO / "workflow" / "rules" / f"{stage}.smk")
                  if script is not None]


def test_every_stage_has_its_rule_file_package_and_tests():
    for stage in STAGES:
        assert (REPO / "workflow" / "rules" / f"{stage}.smk").exists()
        assert (REPO / "src" / "cryolearn" / "crevasse" / stage / "__init__.py").exists()
        assert (REPO / "tests" / "crevasse" / stage).is_dir()
    assert len(CREVASSE_RULES) >= 28


@pytest.mark.parametrize("rule_file", ALL_RULE_FILES, ids=lambda p: p.name)
def test_each_script_is_named_after_its_rule(rule_file):
    shared = {"train_climate_clustering": "cluster_climate.py"}  # one script, two methods
    for rule, script in rules_of(rule_file):
        if script is not None:
            assert script == shared.get(rule, f"{rule}.py"), f"{rule_file.name}: {rule}"


@pytest.mark.parametrize(("stage", "rule", "script"), CREVASSE_RULES,
                         ids=[rule for _, rule, _ in CREVASSE_RULES])
def test_a_rules_science_sits_in_its_stage_and_has_its_own_test(stage, rule, script):
    text = (REPO / "workflow" / "scripts" / script).read_text()
    modules = re.findall(r"^from cryolearn\.crevasse\.(\w+)\.(\w+) import", text, re.M)
    own = [module for package, module in modules if package == stage]
    assert own, f"{script} imports nothing from cryolearn.crevasse.{stage}"
    for package, module in modules:
        test = REPO / "tests" / "crevasse" / package / f"test_{module}.py"
        assert test.exists(), f"{rule}: no {test.relative_to(REPO)}"
