"""The dashboards' texts: every table column's heading is a text of dashboards/i18n.py in
both languages, and no column text is left unused."""

from __future__ import annotations

import re
from pathlib import Path

import dashboards
from dashboards.i18n import TEXTS
from dashboards.view import Column

SOURCES = sorted(Path(dashboards.__file__).resolve().parent.rglob("*.py"))
COLUMN = re.compile(r'Column\(\s*"(\w+)"(?:,\s*"\w+")?(?:,\s*label="(\w+)")?\s*\)')


def column_keys() -> set[str]:
    found = set()
    for path in SOURCES:
        for name, label in COLUMN.findall(path.read_text(encoding="utf-8")):
            found.add(f"col.{label or name}")
    return found


def test_every_column_heading_is_a_text_in_both_languages() -> None:
    keys = column_keys()
    assert len(keys) > 50  # the pattern finds the pages' columns
    for key in keys:
        vietnamese, english = TEXTS[key]
        assert vietnamese and english, key
    assert Column("site_id").heading("en") == TEXTS["col.site_id"][1]
    assert Column("name", label="site_name").heading("vi") == TEXTS["col.site_name"][0]


def test_no_column_text_is_unused() -> None:
    defined = {key for key in TEXTS if key.startswith("col.")}
    assert defined == column_keys()
