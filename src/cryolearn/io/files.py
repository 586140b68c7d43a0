"""Small file helpers shared by the evaluation steps."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``; a half-written file never has the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: str | Path, contents: Any) -> None:
    """Write ``contents`` as indented JSON; a half-written file never has the final name."""
    write_text_atomic(path, json.dumps(contents, indent=2) + "\n")


def write_netcdf_atomic(ds: Any, path: str | Path, encoding: dict | None = None) -> None:
    """Write an ``xarray.Dataset`` as NetCDF-4 (h5netcdf); a half-written file never has
    the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
