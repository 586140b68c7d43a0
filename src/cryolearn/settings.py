"""Settings dataclasses built from config sections, with unknown keys refused by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def settings_from(cls: type[T], values: Mapping[str, Any], section: str) -> T:
    """``cls(**values)``, refusing keys ``cls`` lacks and turning lists into tuples
    where the field's default is a tuple (YAML has no tuples)."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{section}: unknown key(s) {unknown}")
    converted = {}
    for name, value in values.items():
        default = known[name].default
        if isinstance(value, list) and default is not MISSING and isinstance(default, tuple):
            value = tuple(value)
        converted[name] = value
    return cls(**converted)
