"""The local time zone and the campaign calendar have one home, ``geo.calendar``.

SQL files (and SQL held in Python strings) spell the zone literally, since ClickHouse needs it
in the statement text: every literal zone must be the one constant. Python code imports the
constants instead of redefining them.
"""

from __future__ import annotations

import ast
import re
import zoneinfo
from datetime import date
from pathlib import Path

from geo import calendar
from geo.calendar import CAMPAIGN_END, CAMPAIGN_START, LOCAL_ZONE, SNAPSHOT_DAY, TIME_ZONE
from geo.provinces import N_PROVINCES
from tests.conftest import ROOT

SKIPPED_DIRS = {".venv", "var", "node_modules", "__pycache__", ".git"}
#: Definitions still to be switched to ``geo.calendar`` (modules being restructured).
PENDING: set[str] = set()
#: A quoted name with a slash, like ``'Asia/Ho_Chi_Minh'``.
QUOTED_ZONE = re.compile(r"""["']([A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+)["']""")
DATES = {CAMPAIGN_START, CAMPAIGN_END, SNAPSHOT_DAY}


def sources(*suffixes: str) -> list[Path]:
    return sorted(
        path
        for suffix in suffixes
        for path in ROOT.rglob(f"*{suffix}")
        if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
    )


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_constants() -> None:
    assert TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert str(LOCAL_ZONE) == TIME_ZONE
    assert CAMPAIGN_START < SNAPSHOT_DAY < CAMPAIGN_END
    assert (CAMPAIGN_END - CAMPAIGN_START).days + 1 == 845
    assert N_PROVINCES == 63
    assert set(calendar.__all__) == {
        "CAMPAIGN_END",
        "CAMPAIGN_START",
        "LOCAL_ZONE",
        "SNAPSHOT_DAY",
        "TIME_ZONE",
    }


def test_every_literal_zone_is_the_local_zone() -> None:
    zones = zoneinfo.available_timezones()
    found: dict[str, set[str]] = {}
    for path in sources(".sql", ".py"):
        for name in QUOTED_ZONE.findall(path.read_text(encoding="utf-8")):
            if name in zones:
                found.setdefault(name, set()).add(relative(path))
    assert set(found) == {TIME_ZONE}, {zone: sorted(files) for zone, files in found.items()}
    assert any(file.endswith(".sql") for file in found[TIME_ZONE])


def _date_of(node: ast.expr) -> date | None:
    """The date of a ``date(y, m, d)`` call with constant arguments, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "date"
        and len(node.args) == 3
        and all(isinstance(arg, ast.Constant) and isinstance(arg.value, int) for arg in node.args)
    ):
        return date(*(arg.value for arg in node.args))  # type: ignore[attr-defined]
    return None


def redefinitions(source: str, label: str, *, dates: bool = True) -> list[str]:
    """Module-level constants that restate the zone, the province count or (with ``dates``)
    a campaign date."""
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [target.id for target in targets if isinstance(target, ast.Name)]
        zone = any(
            isinstance(inner, ast.Constant) and inner.value == TIME_ZONE
            for inner in ast.walk(node.value)
        )
        restated = dates and _date_of(node.value) in DATES
        if zone or restated or "N_PROVINCES" in names:
            found.append(f"{label}:{node.lineno} {', '.join(names)}")
    return found


def test_python_imports_the_calendar_instead_of_redefining_it() -> None:
    homes = {"geo/calendar.py", "geo/provinces.py"}
    found = [
        line
        for path in sources(".py")
        if relative(path) not in homes | PENDING
        for line in redefinitions(
            path.read_text(encoding="utf-8"),
            relative(path),
            # tests may pick one of the days as a day of their own
            dates=not relative(path).startswith("tests/"),
        )
    ]
    assert found == []


def test_the_check_sees_a_redefinition() -> None:
    source = (
        "from datetime import date\n"
        'TZ = "Asia/Ho_Chi_Minh"\n'
        "FIRST: date = date(2021, 3, 8)\n"
        "N_PROVINCES = 63\n"
        "OTHER = date(2021, 3, 9)\n"
        'ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")\n'
        "LAST = dt.date(2023, 6, 30)\n"
    )
    assert redefinitions(source, "m.py") == [
        "m.py:2 TZ",
        "m.py:3 FIRST",
        "m.py:4 N_PROVINCES",
        "m.py:6 ZONE",
        "m.py:7 LAST",
    ]
    assert redefinitions(source, "m.py", dates=False) == [
        "m.py:2 TZ",
        "m.py:4 N_PROVINCES",
        "m.py:6 ZONE",
    ]
