"""Choosing one person's live doses among current dose states (warehouse.citizens). The
integration tests compare the whole read with doses_current on real chDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

from warehouse.citizens import live_doses

KEY = "a" * 32
OTHER = "b" * 32


def state(dose_id: str, version: int, **changes: Any) -> tuple[Any, ...]:
    values = {
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
    return tuple(values.values())


def ids(states: list[tuple[Any, ...]], key: str = KEY) -> list[tuple[str, int]]:
    return [(d["dose_id"], d["version"]) for d in live_doses(states, key)]


def test_void_and_moved_doses_drop_out() -> None:
    states = [
        state("d1", 2, status="void"),
        state("d2", 2, citizen_key=OTHER, dose_number=2),
        state("d3", 1),
    ]
    assert ids(states) == [("d3", 1)]
    assert ids(states, OTHER) == [("d2", 2)]


def test_order_of_administration_then_dose_number() -> None:
    states = [
        state("d3", 1, administered_at=dt.datetime(2021, 9, 1, 8), dose_number=2),
        state("d2", 1, administered_at=dt.datetime(2021, 7, 1, 8), dose_number=2),
        state("d1", 1, administered_at=dt.datetime(2021, 7, 1, 8), dose_number=1),
    ]
    assert ids(states) == [("d1", 1), ("d2", 1), ("d3", 1)]
    assert set(live_doses(states, KEY)[0]) == {
        "dose_id", "version", "citizen_key", "birth_year", "sex", "province_code", "site_id",
        "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at", "source",
    }  # fmt: skip
