"""Helpers shared by the command-line entry points (``python -m <package> …``)."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from vaxviet.settings import Settings, SettingsError


def summary(document: dict[str, Any]) -> None:
    """Print the one-line JSON summary every command ends with, on stdout."""
    print(json.dumps(document, ensure_ascii=False, default=str, separators=(",", ":")))


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop with a clear message on stderr (exit 1: the work failed; 2: usage)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        fail(str(error), 2)
