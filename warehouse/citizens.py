"""One person's doses, for the certificate lookup: the citizen index (``citizen_doses``,
schema 0012) gives the person's dose_ids, ``dose_state_kv`` (schema 0017) their current
states by point gets.

``dose_state_kv`` holds each dose's last written state (a cancel with nothing newer leaves
it void), which is ``doses_current``'s live state as long as every cancel row cancels the
dose's current state — as the ledger writer and the reconciliation repair write them. A
dose counts when its state is valid and still this person's (a correction can move a dose
to someone else, leaving the old index pair behind). Tests compare the result with
``doses_current`` after corrections, voids, moves and un-voids.
"""

from __future__ import annotations

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


def live_doses(states: list[tuple[Any, ...]], citizen_key: str) -> list[dict[str, Any]]:
    """The valid doses of `citizen_key` among current dose states (``_STATE`` columns),
    oldest first."""
    return live_doses_of(states, [citizen_key])[citizen_key]


def live_doses_of(
    states: list[tuple[Any, ...]], citizen_keys: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """For each of `citizen_keys`, its valid doses among current dose states (``_STATE``
    columns), oldest first. A state counts for the person it names now, whichever index
    entry led to it."""
    live: dict[str, list[dict[str, Any]]] = {key: [] for key in citizen_keys}
    for state in states:
        row = dict(zip(_STATE, state, strict=True))
        if row["status"] == "valid" and row["citizen_key"] in live:
            live[row["citizen_key"]].append({column: row[column] for column in COLUMNS})
    for doses in live.values():
        doses.sort(key=lambda d: (d["administered_at"], d["dose_number"], d["dose_id"]))
    return live


def citizens_dose_rows(
    warehouse: Warehouse, citizen_keys: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The live doses of each person in `citizen_keys`, oldest first, as dicts of
    `COLUMNS`; one statement for all of them: an index read and point gets, however large
    the ledger."""
    parameters: dict[str, Any]
    if len(citizen_keys) == 1:
        sql, parameters = "citizen_dose_states.sql", {"citizen_key": citizen_keys[0]}
    else:
        sql, parameters = "citizens_dose_states.sql", {"citizen_keys": citizen_keys}
    return live_doses_of(warehouse.rows(sql_beside(__file__, sql), parameters), citizen_keys)


def citizen_dose_rows(warehouse: Warehouse, citizen_key: str) -> list[dict[str, Any]]:
    """`citizens_dose_rows` for one person."""
    return citizens_dose_rows(warehouse, [citizen_key])[citizen_key]


def citizen_doses(warehouse: Warehouse, citizen_key: str) -> pd.DataFrame:
    """`citizen_dose_rows` as a DataFrame."""
    return pd.DataFrame(citizen_dose_rows(warehouse, citizen_key), columns=list(COLUMNS))
