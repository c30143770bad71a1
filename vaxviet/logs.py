"""Logging set-up for entry points: one line per event on stderr, no personal data.

Modules log through ``logging.getLogger(__name__)``; only entry points call `configure`.
"""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
