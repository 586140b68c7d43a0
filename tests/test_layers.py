"""The package's layers (pyproject.toml [tool.importlinter]) hold, checked by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint, "--config", str(REPO / "pyproject.toml")], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert f"{len(contracts['contracts'])} kept, 0 broken" in result.stdout


def test_every_stage_module_but_evaluate_is_kept_from_the_synthetic_world():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    forbidden = next(c for c in contracts["contracts"] if c["type"] == "forbidden"
                     and c["forbidden_modules"] == ["cryolearn.synth"])
    kept_from = tuple(forbidden["source_modules"])
    src = REPO / "src"
    for stage in ("crevasse", "bedtopo", "climate"):
        for path in (src / "cryolearn" / stage).rglob("*.py"):
            module = ".".join(path.relative_to(src).with_suffix("").parts)
            module = module.removesuffix(".__init__")
            if "evaluate" in module.split(".") or module == f"cryolearn.{stage}":
                continue
            assert any(module == k or module.startswith(k + ".") for k in kept_from), (
                f"{module} may import cryolearn.synth: add it to the contract in pyproject.toml")
