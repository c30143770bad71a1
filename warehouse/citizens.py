"""One person's doses, read through the citizen index (``citizen_doses``, schema 0012).

The signed ledger rows of the person's dose_ids are read by primary key and collapsed here,
in Python, by the rules of ``vax.doses_current`` (ledger FINAL, live and valid rows): per
full state the signs are summed and a state is live above zero; the highest live version of
each dose is its current state; it counts when that state is valid and still this person's
(a correction can move a dose to someone else, leaving the old index pair behind). A person
has a handful of rows, so this is cheaper than collapsing in SQL. Tests compare the result
with ``doses_current`` after corrections, voids and moves.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

#: The columns of each dose, as in vax.doses_current.
COLUMNS = (
    "dose_id", "version", "citizen_key", "birth_year", "sex", "province_code", "site_id",
    "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at", "source",
)  # fmt: skip
_STATE = ("dose_id", "version", "status", *COLUMNS[2:])


def collapse(signed: list[tuple[Any, ...]], citizen_key: str) -> list[dict[str, Any]]:
    """Live, valid doses of `citizen_key` from signed ledger rows (state columns + sign)."""
    signs: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for row_with_sign in signed:
        signs[tuple(row_with_sign[:-1])] += int(row_with_sign[-1])
    current: dict[str, dict[str, Any]] = {}
    for live_state, total in signs.items():
        if total <= 0:
            continue
        row = dict(zip(_STATE, live_state, strict=True))
        held = current.get(row["dose_id"])
        if held is None or row["version"] > held["version"]:
            current[row["dose_id"]] = row
    live = [
        {column: row[column] for column in COLUMNS}
        for row in current.values()
        if row["status"] == "valid" and row["citizen_key"] == citizen_key
    ]
    return sorted(live, key=lambda d: (d["administered_at"], d["dose_number"], d["dose_id"]))


def citizen_dose_rows(warehouse: Warehouse, citizen_key: str) -> list[dict[str, Any]]:
    """The live doses of the person with `citizen_key`, oldest first, as dicts of
    `COLUMNS`; two primary-key reads however large the ledger."""
    signed = warehouse.rows(
        sql_beside(__file__, "citizen_dose_states.sql"), {"citizen_key": citizen_key}
    )
    return collapse(signed, citizen_key)


def citizen_doses(warehouse: Warehouse, citizen_key: str) -> pd.DataFrame:
    """`citizen_dose_rows` as a DataFrame."""
    return pd.DataFrame(citizen_dose_rows(warehouse, citizen_key), columns=list(COLUMNS))
