"""Small hand-made dose states for tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from warehouse.ledger import STATE_COLUMNS, normalise_states

BASE: dict[str, Any] = {
    "version": 1,
    "status": "valid",
    "citizen_key": "k-0001",
    "birth_year": 1980,
    "sex": "F",
    "province_code": "01",
    "site_id": "S01-001",
    "vaccine_code": "EU/1/21/1529",
    "lot_number": "LOT-A",
    "dose_number": 1,
    "administered_at": "2021-08-04 09:15:00",
    "recorded_at": "2021-08-04 09:16:00",
    "source": "test",
}


def dose(dose_id: str, **changes: Any) -> dict[str, Any]:
    return {"dose_id": dose_id, **BASE, **changes}


def states(*rows: dict[str, Any]) -> pd.DataFrame:
    return normalise_states(pd.DataFrame(list(rows), columns=STATE_COLUMNS))
