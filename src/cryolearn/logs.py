"""Logging for workflow scripts: everything to the rule's log file, errors too."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def logged(path: str) -> Iterator[logging.Logger]:
    """Send log records and warnings to ``path``; log an exception before re-raising it."""
    logging.basicConfig(
        filename=path, level=logging.INFO, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    logger = logging.getLogger("cryolearn.workflow")
    try:
        yield logger
    except Exception:
        logger.exception("step failed")
        raise
