"""Helpers for the Dash layouts of both apps."""

from __future__ import annotations

from typing import Any


def attrs(**values: object) -> dict[str, Any]:
    """HTML attributes Dash takes only as keywords with dashes: ``attrs(aria_label="…")``
    gives ``{"aria-label": "…"}``, for ``html.X(..., **attrs(...))``."""
    return {name.replace("_", "-"): value for name, value in values.items()}
