"""config/README.md documents every key of the config schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
README = (REPO / "config/README.md").read_text()


def schema_keys(node: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key of the schema, nested ones with their parents."""
    for key, value in node.get("properties", {}).items():
        yield (*path, key)
        if isinstance(value, dict):
            yield from schema_keys(value, (*path, key))


KEYS = sorted(set(schema_keys(SCHEMA)))


def test_the_schema_has_keys_to_check():
    assert len(KEYS) > 300 and ("glas", "paths") in KEYS and ("dem", "max_pixel_m") in KEYS


@pytest.mark.parametrize("key", KEYS, ids=[".".join(k) for k in KEYS])
def test_every_schema_key_is_documented(key):
    name = key[-1]
    assert re.search(rf"`[^`\n]*\b{re.escape(name)}\b[^`\n]*`", README), (
        f"config/README.md does not document {'.'.join(key)}")
