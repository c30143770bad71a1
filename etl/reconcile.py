"""Reconciliation: the registry and the warehouse compared per province × local day × vaccine.

Both sides are aggregated in SQL, per cell (province_code, local day in Asia/Ho_Chi_Minh,
vaccine_code): live doses, the sum of their versions and the sum of their dose numbers, so a
lost, duplicated or phantom dose, a dose in the wrong cell and a lost correction all show.

* the registry side: valid doses with ``change_seq`` up to the stream's checkpoint (source
  ``registry:doses``), i.e. what the warehouse should hold now;
* the warehouse side: live doses whose latest state came from the registry stream or from a
  repair (``source`` = ``registry:doses`` or ``repair:registry:…``), summed over the signed
  ledger rows (exact without FINAL).

Left out of both sides: doses whose current registry state the ETL refused (a reject at
that change_seq, other than ``conflicting_version``: those are in ``etl_rejects`` and the
data-quality views), and doses changed after the checkpoint (in flight). Dose-level detail is
fetched only for the cells that differ.

`repair` re-sends the registry's current state of the doses of the differing cells through
the ETL path (`etl.batch.load_batch`, source ``repair:registry:<time>``), after cancelling
warehouse states that the ETL's version rule cannot replace (same or higher version, other
content, or more than one live state: signed rows that net them to zero), and voids the
warehouse doses the registry does not have (`warehouse.ledger.write_states`, a ``void`` at
a higher version). One writer at a time: do not run a repair while the stream runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Date, Engine, bindparam, text

from etl.batch import FILE_COLUMNS, load_batch
from etl.checkpoints import commit_checkpoint, last_position
from etl.stream import SOURCE
from geo.calendar import TIME_ZONE
from registry.models import UtcDateTime
from warehouse.client import Warehouse
from warehouse.ledger import STATE_COLUMNS, write_states
from warehouse.pseudonyms import pseudonym_parts
from warehouse.sqlfiles import sql_beside

REPAIRS = "repair:registry"
CELL = ["province_code", "day", "vaccine_code"]
METRICS = ["doses", "versions", "dose_numbers"]
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2299, 12, 31)
CHUNK = 5_000  # values per IN list sent to the registry
LISTED = 20  # dose ids listed per cell and side in the summary
#: What must agree between a registry state and the warehouse state of the same version.
COMPARED = ["status", "province_code", "site_id", "vaccine_code", "lot_number", "dose_number"]


@dataclass
class Reconciliation:
    """One comparison: the cells, the differing ones with their doses, what was left out."""

    checkpoint: int
    day_from: date
    day_to: date
    cells: int = 0
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    registry_doses: pd.DataFrame = field(default_factory=pd.DataFrame)
    warehouse_doses: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.differences.empty

    def summary(self) -> dict[str, Any]:
        listed = []
        for cell in self.differences.to_dict("records"):
            key = (cell["province_code"], cell["day"], cell["vaccine_code"])
            registry = _in_cell(self.registry_doses, key)
            stored = _in_cell(self.warehouse_doses, key)
            registry_ids = set(registry["dose_id"])
            stored_ids = set(stored["dose_id"])
            versions = dict(zip(stored["dose_id"], stored["version"], strict=True))
            listed.append(
                {
                    "province_code": key[0],
                    "day": key[1],
                    "vaccine_code": key[2],
                    "registry": {m: int(cell[f"{m}_registry"]) for m in METRICS},
                    "warehouse": {m: int(cell[f"{m}_warehouse"]) for m in METRICS},
                    "only_in_registry": sorted(registry_ids - stored_ids)[:LISTED],
                    "only_in_warehouse": sorted(stored_ids - registry_ids)[:LISTED],
                    "other_version": sorted(
                        d
                        for d, v in zip(registry["dose_id"], registry["version"], strict=True)
                        if d in versions and int(versions[d]) != int(v)
                    )[:LISTED],
                }
            )
        return {
            "checkpoint": self.checkpoint,
            "from": self.day_from.isoformat(),
            "to": self.day_to.isoformat(),
            "cells_compared": self.cells,
            "cells_differing": len(self.differences),
            "left_out": {"rejected": len(self.rejected), "in_flight": len(self.in_flight)},
            "differences": listed,
        }


def _in_cell(doses: pd.DataFrame, key: tuple[str, str, str]) -> pd.DataFrame:
    if doses.empty:
        return pd.DataFrame(columns=["dose_id", "version"])
    mask = (
        (doses["province_code"] == key[0])
        & (doses["day"] == key[1])
        & (doses["vaccine_code"] == key[2])
    )
    return doses.loc[mask]


def _registry_sql(engine: Engine, name: str) -> str:
    return sql_beside(__file__, f"{name}.{engine.dialect.name}.sql")


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _local_day(values: pd.Series) -> pd.Series:
    """UTC instants (aware datetimes) as local days, YYYY-MM-DD."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(TIME_ZONE).dt.strftime("%Y-%m-%d")


def compare(
    warehouse: Warehouse,
    engine: Engine,
    day_from: date | None = None,
    day_to: date | None = None,
) -> Reconciliation:
    """Compare the registry with the warehouse, as of the stream's checkpoint."""
    upto = last_position(warehouse, SOURCE)
    result = Reconciliation(upto, day_from or FIRST_DAY, day_to or LAST_DAY)
    days = {"day_from": result.day_from.isoformat(), "day_to": result.day_to.isoformat()}
    names = {"source": SOURCE, "repairs": REPAIRS}

    # refused current states and doses in flight: out of both sides
    seqs = [
        int(s)
        for (s,) in warehouse.rows(sql_beside(__file__, "reconcile_rejects.sql"), {**names, "upto": upto})
    ]  # fmt: skip
    refused = _registry_by_seq(engine, seqs)
    result.rejected = sorted(refused["dose_id"])
    with engine.connect() as connection:
        result.in_flight = [
            str(d)
            for (d,) in connection.execute(
                text(sql_beside(__file__, "reconcile_in_flight.sql")), {"upto": upto}
            )
        ]
        registry = pd.DataFrame(
            connection.execute(
                text(_registry_sql(engine, "reconcile_registry_cells")), {"upto": upto, **days}
            ).fetchall(),
            columns=[*CELL, *METRICS],
        )
    valid_refused = refused.loc[refused["status"] == "valid"].assign(
        day=lambda f: _local_day(f["administered_at"]), doses=1,
        versions=lambda f: f["version"], dose_numbers=lambda f: f["dose_number"],
    )  # fmt: skip
    valid_refused = valid_refused.loc[
        valid_refused["day"].between(days["day_from"], days["day_to"])
    ]
    registry = _subtract(registry, valid_refused[[*CELL, *METRICS]])
    excluded = sorted(set(result.rejected) | set(result.in_flight))
    stored = warehouse.frame(
        sql_beside(__file__, "reconcile_warehouse_cells.sql"),
        {**names, "day_from": result.day_from, "day_to": result.day_to, "excluded": excluded},
    )
    if stored.empty:
        stored = pd.DataFrame(columns=[*CELL, *METRICS])

    cells = registry.merge(stored, on=CELL, how="outer", suffixes=("_registry", "_warehouse"))
    for metric in METRICS:
        for side in ("registry", "warehouse"):
            cells[f"{metric}_{side}"] = cells[f"{metric}_{side}"].fillna(0).astype("int64")
    differs = pd.Series(False, index=cells.index)
    for metric in METRICS:
        differs |= cells[f"{metric}_registry"] != cells[f"{metric}_warehouse"]
    result.cells = len(cells)
    result.differences = cells.loc[differs].sort_values(CELL).reset_index(drop=True)
    if not result.equal:
        result.registry_doses, result.warehouse_doses = _cell_doses(
            warehouse, engine, result.differences[CELL], upto, excluded
        )
    return result


def _subtract(cells: pd.DataFrame, doses: pd.DataFrame) -> pd.DataFrame:
    """Per-cell metrics minus those of some doses; cells that reach zero are dropped."""
    cells = cells.astype({m: "int64" for m in METRICS})
    if doses.empty:
        return cells
    less = doses.groupby(CELL, as_index=False)[METRICS].sum()
    merged = cells.merge(less, on=CELL, how="left", suffixes=("", "_less")).fillna(0)
    for metric in METRICS:
        merged[metric] = merged[metric].astype("int64") - merged[f"{metric}_less"].astype("int64")
    merged = merged[[*CELL, *METRICS]]
    return merged.loc[(merged[METRICS] != 0).any(axis=1)].reset_index(drop=True)


def _registry_by_seq(engine: Engine, seqs: list[int]) -> pd.DataFrame:
    """The registry rows whose current change_seq is one of `seqs`."""
    columns = ["dose_id", "status", "province_code", "vaccine_code", "version", "dose_number",
               "administered_at"]  # fmt: skip
    query = (
        text(sql_beside(__file__, "reconcile_registry_by_seq.sql"))
        .bindparams(bindparam("seqs", expanding=True))
        .columns(administered_at=UtcDateTime())
    )
    rows: list[Any] = []
    with engine.connect() as connection:
        for chunk in _chunks(seqs):
            rows.extend(connection.execute(query, {"seqs": chunk}).fetchall())
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"dose_id": str, "version": "int64", "dose_number": "int64"})


def _cell_doses(
    warehouse: Warehouse, engine: Engine, cells: pd.DataFrame, upto: int, excluded: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The doses of the differing cells on each side (dose_id, version and the cell)."""
    query = text(_registry_sql(engine, "reconcile_registry_doses")).bindparams(
        bindparam("days", expanding=True), bindparam("provinces", expanding=True)
    )
    with engine.connect() as connection:
        registry = pd.DataFrame(
            connection.execute(
                query,
                {"upto": upto, "days": sorted(set(cells["day"])),
                 "provinces": sorted(set(cells["province_code"]))},
            ).fetchall(),
            columns=["dose_id", "version", "province_code", "day", "vaccine_code"],
        )  # fmt: skip
    registry = registry.merge(cells, on=CELL)
    registry = registry.loc[~registry["dose_id"].isin(excluded)].reset_index(drop=True)
    stored = warehouse.frame(
        sql_beside(__file__, "reconcile_warehouse_doses.sql"),
        {
            "source": SOURCE,
            "repairs": REPAIRS,
            "cells": [
                (p, date.fromisoformat(d), v)
                for p, d, v in cells[CELL].itertuples(index=False, name=None)
            ],
            "excluded": excluded,
        },
    )
    if stored.empty:
        stored = pd.DataFrame(columns=["dose_id", "version", *CELL, "net"])
    return registry, stored


# -- repair ------------------------------------------------------------------------------------


@dataclass
class RepairReport:
    source: str
    resent: int = 0
    loaded: int = 0
    rejected: int = 0
    cancelled_rows: int = 0
    voided: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "resent": self.resent,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "cancel_rows": self.cancelled_rows,
            "voided": self.voided,
        }


def repair(warehouse: Warehouse, engine: Engine, key: bytes, found: Reconciliation) -> RepairReport:
    """Bring the doses of the differing cells to the registry's current state."""
    started = time.monotonic()
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    report = RepairReport(source=f"{REPAIRS}:{run}")
    ids = sorted(
        (set(found.registry_doses["dose_id"]) | set(found.warehouse_doses["dose_id"]))
        - set(found.rejected)
        - set(found.in_flight)
    )
    if not ids:
        return report
    registry = _registry_states(engine, ids)
    registry = registry.loc[registry["change_seq"] <= found.checkpoint]
    registry = registry.loc[~registry["dose_id"].isin(found.rejected)]
    stored = warehouse.frame(sql_beside(__file__, "reconcile_warehouse_states.sql"), {"ids": ids})
    if stored.empty:  # an empty result comes back without columns
        stored = pd.DataFrame(columns=[*STATE_COLUMNS, "net"])
    plan = plan_repair(registry, stored)

    cancels = stored.loc[stored["dose_id"].isin(plan["cancel"])]
    if len(cancels):
        rows = cancels.loc[cancels.index.repeat(cancels["net"].abs())].copy()
        rows["sign"] = -rows["net"].clip(-1, 1)
        warehouse.insert_frame(
            "dose_ledger", rows[[*STATE_COLUMNS, "sign"]].reset_index(drop=True),
            dedup_token=f"{report.source}:cancel", column_names=[*STATE_COLUMNS, "sign"],
        )  # fmt: skip
        report.cancelled_rows = len(rows)

    voids = stored.loc[stored["dose_id"].isin(plan["void"])].copy()
    if len(voids):
        voids["version"] = voids["version"].astype("int64") + 1
        voids["status"] = "void"
        voids["source"] = report.source
        voids["recorded_at"] = pd.Timestamp.now(tz=TIME_ZONE)
        write_states(warehouse, voids[STATE_COLUMNS], batch=f"{report.source}:void")
        report.voided = len(voids)

    resend = registry.loc[registry["dose_id"].isin(plan["resend"])].sort_values("change_seq")
    if len(resend):
        table = _as_file_drop(resend)
        seqs = [int(s) for s in resend["change_seq"]]
        loaded, rejected, _ = load_batch(
            warehouse, table, report.source, 0, pseudonym_parts(key), seqs
        )
        report.resent, report.loaded, report.rejected = len(resend), loaded, rejected
    commit_checkpoint(
        warehouse, report.source, 0, report.resent,
        (report.resent, report.loaded, report.rejected), time.monotonic() - started,
    )  # fmt: skip
    return report


def plan_repair(registry: pd.DataFrame, stored: pd.DataFrame) -> dict[str, set[str]]:
    """Which doses to cancel (net their stored states to zero), void, and re-send.

    `registry`: the registry's current states (dose_id, version, COMPARED columns,
    administered_at); `stored`: the warehouse's net states (one row per state with its net
    sign sum). Pure: the tests state the rules on small frames.
    """
    plan: dict[str, set[str]] = {"cancel": set(), "void": set(), "resend": set()}
    known = registry.set_index("dose_id")
    for dose_id, states in stored.groupby("dose_id"):
        single = len(states) == 1 and int(states["net"].iloc[0]) == 1
        if dose_id not in known.index:
            if single and states["status"].iloc[0] == "valid":
                plan["void"].add(str(dose_id))
            elif not single:
                plan["cancel"].add(str(dose_id))
            continue
        wanted = known.loc[dose_id]
        state = states.iloc[0]
        if single and int(state["version"]) < int(wanted["version"]):
            plan["resend"].add(str(dose_id))
        elif not (
            single and int(state["version"]) == int(wanted["version"]) and _same(state, wanted)
        ):
            plan["cancel"].add(str(dose_id))
            plan["resend"].add(str(dose_id))
    plan["resend"] |= set(known.index.astype(str)) - set(stored["dose_id"].astype(str))
    return plan


def _same(state: pd.Series, wanted: pd.Series) -> bool:
    if any(str(state[c]) != str(wanted[c]) for c in COMPARED):
        return False
    stored_at = pd.Timestamp(state["administered_at"])
    wanted_at = pd.Timestamp(wanted["administered_at"])
    return bool(stored_at.tz_convert(UTC) == wanted_at.tz_convert(UTC))


def _registry_states(engine: Engine, ids: list[str]) -> pd.DataFrame:
    query = (
        text(sql_beside(__file__, "reconcile_registry_states.sql"))
        .bindparams(bindparam("ids", expanding=True))
        .columns(administered_at=UtcDateTime(), date_of_birth=Date())
    )
    rows: list[Any] = []
    with engine.connect() as connection:
        for chunk in _chunks(ids):
            rows.extend(connection.execute(query, {"ids": chunk}).fetchall())
    frame = pd.DataFrame(rows, columns=[*FILE_COLUMNS, "change_seq"])
    return frame.astype({"dose_id": str, "version": "int64", "dose_number": "int64",
                         "change_seq": "int64"})  # fmt: skip


def _as_file_drop(states: pd.DataFrame) -> pa.Table:
    """Registry states as file-drop text columns (instants in UTC, with their offset)."""
    text_columns = {
        "administered_at": pd.to_datetime(states["administered_at"], utc=True).map(
            lambda t: t.isoformat()
        ),
        "date_of_birth": states["date_of_birth"].map(lambda d: d.isoformat()),
        "phone": states["phone"].fillna(""),  # no phone is an empty field
    }
    return pa.table(
        {
            name: pa.array(
                [None if v is None else str(v) for v in text_columns.get(name, states[name])],
                pa.string(),
            )
            for name in FILE_COLUMNS
        }
    )


# -- the command ---------------------------------------------------------------------------


def run(
    warehouse: Warehouse,
    engine: Engine,
    key: bytes,
    *,
    fix: bool = False,
    day_from: date | None = None,
    day_to: date | None = None,
) -> tuple[dict[str, Any], bool]:
    """Compare (and with `fix`, repair and compare again); the JSON summary and whether the
    two sides are equal at the end."""
    started = time.monotonic()
    found = compare(warehouse, engine, day_from, day_to)
    document: dict[str, Any] = {"command": "reconcile", **found.summary()}
    equal = found.equal
    if fix and not found.equal:
        document["repair"] = repair(warehouse, engine, key, found).summary()
        again = compare(warehouse, engine, day_from, day_to)
        document["after_repair"] = again.summary()
        equal = again.equal
    document["equal"] = equal
    document["seconds"] = round(time.monotonic() - started, 3)
    return document, equal
