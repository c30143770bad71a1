"""Collapsing one person's signed ledger rows by doses_current's rules (warehouse.citizens).
The integration tests compare the same function with doses_current on real chDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

from warehouse.citizens import collapse

KEY = "a" * 32
OTHER = "b" * 32


def row(dose_id: str, version: int, sign: int, **changes: Any) -> tuple[Any, ...]:
    state = {
        "dose_id": dose_id,
        "version": version,
        "status": "valid",
        "citizen_key": KEY,
        "birth_year": 1980,
        "sex": "F",
        "province_code": "79",
        "site_id": "79-0001",
        "vaccine_code": "EU/1/20/1528",
        "lot_number": "L1",
        "dose_number": 1,
        "administered_at": dt.datetime(2021, 7, 1, 8),
        "recorded_at": dt.datetime(2021, 7, 1, 8),
        "source": "test",
    } | changes
    return (*state.values(), sign)


def ids(signed: list[tuple[Any, ...]], key: str = KEY) -> list[tuple[str, int]]:
    return [(d["dose_id"], d["version"]) for d in collapse(signed, key)]


def test_highest_live_version_wins_whatever_the_row_order() -> None:
    rows = [row("d1", 2, 1, lot_number="L2"), row("d1", 1, 1), row("d1", 1, -1)]
    assert ids(rows) == [("d1", 2)]
    assert ids(list(reversed(rows))) == [("d1", 2)]
    assert collapse(rows, KEY)[0]["lot_number"] == "L2"


def test_cancelled_state_falls_back_to_the_live_one() -> None:
    # version 2 written then cancelled (the writer's own retraction): version 1 stands
    rows = [row("d1", 1, 1), row("d1", 2, 1, lot_number="X"), row("d1", 2, -1, lot_number="X")]
    assert ids(rows) == [("d1", 1)]


def test_void_and_moved_doses_drop_out() -> None:
    rows = [
        row("d1", 1, 1),
        row("d1", 2, 1, status="void"),
        row("d2", 1, 1, dose_number=2),
        row("d2", 2, 1, citizen_key=OTHER, dose_number=2),
    ]
    assert ids(rows) == []
    assert ids(rows, OTHER) == [("d2", 2)]


def test_order_of_administration_then_dose_number() -> None:
    later = dt.datetime(2021, 9, 1, 8)
    rows = [
        row("d9", 1, 1, administered_at=later, dose_number=2),
        row("d5", 1, 1),
        row("d3", 1, 1, administered_at=later, dose_number=3),
    ]
    assert ids(rows) == [("d5", 1), ("d9", 1), ("d3", 1)]
    assert set(collapse(rows, KEY)[0]) == {
        "dose_id", "version", "citizen_key", "birth_year", "sex", "province_code", "site_id",
        "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at", "source",
    }  # fmt: skip
