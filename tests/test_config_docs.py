"""config/README.md documents every key of the config schema, with the schema's default.

The schema (``workflow/schemas/config.schema.yaml``) is the one source of types and
defaults; config/README.md is the user's page, written by hand, and these tests tie the
two together: every key is named, and every default the schema gives is the one in the
key's row (a row may add the demo's value as ``(demo: …)``).
"""

from __future__ import annotations

import math
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


def schema_defaults(node: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple, object]]:
    """(key, default) of every leaf key with a default in the schema."""
    for key, value in node.get("properties", {}).items():
        if not isinstance(value, dict):
            continue
        if "default" in value and "properties" not in value and value.get("type") != "object":
            yield (*path, key), value["default"]
        yield from schema_defaults(value, (*path, key))


def split_top_level(cell: str) -> list[str]:
    """Split a default cell on the commas that are not inside brackets."""
    parts, depth, current = [], 0, ""
    for char in cell:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def documented_defaults() -> dict[tuple, str | None]:
    """Key → the default written in its row, from every table of config/README.md."""
    prefix: tuple[str, ...] = ()
    rows: dict[tuple, str | None] = {}
    for line in README.splitlines():
        heading = re.match(r"^#{2,3} `([\w.]+)`", line)
        if heading:
            prefix = tuple(heading.group(1).split("."))
        if not line.startswith("| `"):
            continue
        key_cell, default_cell = (c.strip() for c in re.split(r"(?<!\\)\|", line)[1:3])
        default_cell = re.sub(r"\s*\(demo:.*?\)\s*$|\s*\(all \w+\)\s*$", "", default_cell)
        names = [n.replace("[]", "").removesuffix(".*")
                 for n in re.findall(r"`([\w.{},*\[\]]+)`", key_cell)]
        defaults = split_top_level(default_cell) if default_cell else []
        parent: tuple[str, ...] = ()
        for i, name in enumerate(names):
            parts = tuple(name.split("."))
            if len(parts) > 1:
                parent = parts[:-1]
            elif i > 0:
                parts = (*parent, *parts)
            rows[(*prefix, *parts)] = (defaults[i] if len(defaults) == len(names)
                                       else default_cell if len(names) == 1 else None)
    return rows


def parsed(text: str) -> object:
    text = text.strip().strip("`").replace("−", "-").replace("\\|", "|")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def same(documented: object, value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return documented == value
    if isinstance(value, int | float):
        try:
            return math.isclose(float(str(documented)), float(value), rel_tol=1e-9)
        except ValueError:
            return False
    if isinstance(value, list):
        return (isinstance(documented, list) and len(documented) == len(value)
                and all(same(parsed(str(d)), v) for d, v in zip(documented, value, strict=True)))
    if isinstance(value, dict):
        return (isinstance(documented, dict) and documented.keys() == value.keys()
                and all(same(parsed(str(documented[k])), v) for k, v in value.items()))
    return str(documented) == str(value)


DEFAULTS = sorted(schema_defaults(SCHEMA), key=lambda item: item[0])
DOCUMENTED = documented_defaults()


def test_the_schema_has_defaults_to_check():
    assert len(DEFAULTS) > 200


@pytest.mark.parametrize(("key", "default"), DEFAULTS, ids=[".".join(k) for k, _ in DEFAULTS])
def test_every_schema_default_is_the_documented_one(key, default):
    assert key in DOCUMENTED, f"config/README.md has no row for {'.'.join(key)}"
    documented = DOCUMENTED[key]
    assert documented is not None and same(parsed(documented), default), (
        f"config/README.md gives {'.'.join(key)} the default {documented!r}; "
        f"the schema's is {default!r}")


@pytest.mark.parametrize(("cell", "value", "agrees"), [
    ("`approximate`", "approximate", True), ("−0.25", -0.25, True), ("1e-4", 0.0001, True),
    ("[0.0075, 0.0113]", [0.0075, 0.0113], True), ("2048", 1024, False), ("", 0, False),
    ("`{a: 1, b: adam}`", {"a": 1, "b": "adam"}, True), ("null", None, True),
])
def test_the_default_comparison_by_hand(cell, value, agrees):
    assert same(parsed(cell), value) is agrees
