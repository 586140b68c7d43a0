"""Small file helpers shared by the evaluation steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json_atomic(path: str | Path, contents: Any) -> None:
    """Write ``contents`` as indented JSON; a half-written file never has the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(json.dumps(contents, indent=2) + "\n")
    tmp.replace(path)
