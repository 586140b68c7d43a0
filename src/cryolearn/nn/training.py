"""Training plumbing shared by the networks of cryolearn: devices, seeds, atomic checkpoints."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)


def pick_device(preference: str = "auto") -> torch.device:
    """``cuda`` when available (or asked for), else ``cpu``."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA) and ask for deterministic kernels."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def data_digest(*arrays: np.ndarray) -> str:
    """A short hash of array contents (to tell whether a checkpoint fits the data)."""
    digest = hashlib.sha256()
    for values in arrays:
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:16]


def atomic_torch_save(contents: dict, path: str | Path) -> None:
    """``torch.save`` to a temporary name, then rename: a kill never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(contents, tmp)
    os.replace(tmp, path)


def matching_checkpoint(path: str | Path | None, fingerprint: str) -> dict | None:
    """A checkpoint's contents when it exists and was written for ``fingerprint``, else None."""
    if path is None or not Path(path).exists():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if saved.get("fingerprint") != fingerprint:
        log.warning("%s belongs to another configuration or data; starting afresh", path)
        return None
    return saved
