"""The manifest of real files the tests read: hashes, and every reader listed."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml
from helpers import shared_data_dir

TESTS = Path(__file__).parent
MANIFEST = yaml.safe_load((TESTS / "data_manifest.yaml").read_text())
FOLDERS = {entry["name"].split("/")[0] for entry in MANIFEST}


@pytest.mark.realdata
@pytest.mark.parametrize("entry", MANIFEST, ids=[e["name"] for e in MANIFEST])
def test_real_files_are_the_ones_the_tests_were_written_against(entry):
    path = shared_data_dir() / entry["name"]
    if not path.exists():
        pytest.skip(f"{path} absent (set CRYOLEARN_SHARED_DATA)")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


def test_every_test_reading_real_data_is_listed():
    listed = {(entry["name"].split("/")[0], user) for entry in MANIFEST
              for user in entry["used_by"]}
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text()
        name = path.relative_to(TESTS.parent).as_posix()
        for folder in FOLDERS:
            if re.search(rf"[\"']{re.escape(folder)}[\"'/]", text):
                assert (folder, name) in listed, (
                    f"{name} reads {folder}: list it in tests/data_manifest.yaml")
    for _, user in listed:
        assert (TESTS.parent / user).exists(), f"data_manifest.yaml lists a missing test {user}"
