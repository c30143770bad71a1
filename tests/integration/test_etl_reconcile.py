"""Reconciliation of the registry and the warehouse (SQLite and PostgreSQL registries, chDB).

A seeded registry is streamed; the comparison finds nothing. Then the warehouse is damaged
directly — a lost dose (a -1 row cancelling its state), a phantom dose from the registry
source, a dose moved to a wrong vaccine at the same version — and the comparison finds
exactly the cells those touch; the repair leaves both sides equal and the aggregates equal
to counts taken from the registry itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from etl.__main__ import reference_codes
from etl.reconcile import compare, plan_repair, run
from etl.reference import refresh_reference
from etl.stream import stream_once
from geo.calendar import TIME_ZONE
from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed
from tests.conftest import ROOT
from tests.integration.registry_helpers import SeedTemplates
from warehouse.client import Warehouse
from warehouse.ledger import STATE_COLUMNS, write_states

pytestmark = pytest.mark.integration

KEY = bytes(range(32))
LIVE = "dose_ledger FINAL WHERE sign = 1 AND status = 'valid'"  # live states, all columns
STATE_SQL = ", ".join(
    f"toString({c})" if c in ("status", "sex") else c for c in STATE_COLUMNS
)  # fmt: skip


@pytest.fixture
def streamed(
    warehouse: Warehouse, registry_dsn: str, seed_templates: SeedTemplates
) -> tuple[Warehouse, Engine]:
    """A seeded registry of the test's own (a copy of the session's seed on its engine),
    streamed."""
    options = SeedOptions(scale=0.0005, until=date(2021, 6, 30), seed=7, error_rate=0.05)
    engine = seed_templates.copy(registry_dsn, options)
    refresh_reference(warehouse, *reference_codes())
    stream_once(warehouse, engine, KEY, rows=1000)
    return warehouse, engine


def registry_cells(warehouse: Warehouse, engine: Engine) -> dict[tuple[str, str, str], int]:
    """Valid registry doses per province × local day × vaccine, the rows the ETL refused
    left out: counted here with pandas, independently of etl.reconcile."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT change_seq, status, province_code, administered_at, vaccine_code "
                 "FROM doses")
        ).fetchall()  # fmt: skip
    doses = pd.DataFrame(rows, columns=["seq", "status", "province", "at", "vaccine"])
    refused = {
        int(p)
        for (p,) in warehouse.rows(
            "SELECT position FROM {db:Identifier}.etl_rejects WHERE reason != 'conflicting_version'"
        )
    }
    doses = doses.loc[(doses["status"] == "valid") & ~doses["seq"].isin(refused)]
    at = pd.to_datetime(doses["at"].astype(str), utc=True, format="mixed")
    days = at.dt.tz_convert(TIME_ZONE).dt.strftime("%Y-%m-%d")
    counts = doses.assign(day=days).groupby(["province", "day", "vaccine"]).size()
    return {key: int(n) for key, n in counts.items()}


def coverage_cells(warehouse: Warehouse) -> dict[tuple[str, str, str], int]:
    rows = warehouse.rows(
        "SELECT province_code, toString(day), vaccine_code, sum(doses) AS n "
        "FROM {db:Identifier}.coverage_daily GROUP BY ALL HAVING n != 0"
    )
    return {(p, d, v): int(n) for p, d, v, n in rows}


def states_of(warehouse: Warehouse, *dose_ids: str) -> pd.DataFrame:
    return warehouse.frame(
        f"SELECT {STATE_SQL} FROM {{db:Identifier}}.{LIVE} "
        "AND dose_id IN {ids:Array(String)} ORDER BY dose_id",
        {"ids": list(dose_ids)},
    ).set_axis(STATE_COLUMNS, axis=1)


def signed_insert(warehouse: Warehouse, frame: pd.DataFrame, sign: int, token: str) -> None:
    """Raw signed rows into the ledger, as a faulty loader would write them."""
    warehouse.insert_frame(
        "dose_ledger", frame.assign(sign=sign), dedup_token=token,
        column_names=[*STATE_COLUMNS, "sign"],
    )  # fmt: skip


def cell_of(state: pd.Series) -> tuple[str, str, str]:
    return (
        str(state["province_code"]),
        pd.Timestamp(state["administered_at"]).strftime("%Y-%m-%d"),
        str(state["vaccine_code"]),
    )


def test_reconcile_finds_and_repairs_injected_differences(
    streamed: tuple[Warehouse, Engine],
) -> None:
    warehouse, engine = streamed
    clean = compare(warehouse, engine)
    assert clean.equal and clean.cells > 50
    assert clean.rejected, "the seed's refused rows are left out, not reported"
    assert coverage_cells(warehouse) == registry_cells(warehouse, engine)

    # three doses of the registry stream, in three different cells
    live = warehouse.frame(
        "SELECT dose_id, province_code, toString(toDate(administered_at)) AS day, vaccine_code "
        "FROM {db:Identifier}.doses_current ORDER BY dose_id"
    )
    picked = live.drop_duplicates(["province_code", "day", "vaccine_code"]).iloc[[3, 10, 20]]
    lost_id, wrong_id, spare_id = picked["dose_id"]
    lost, wrong, spare = (states_of(warehouse, d) for d in (lost_id, wrong_id, spare_id))

    signed_insert(warehouse, lost, -1, "test:lost")  # the dose vanishes
    other = next(v for v in reference_codes()[1] if v != wrong["vaccine_code"].iloc[0])
    signed_insert(warehouse, wrong, -1, "test:wrong-out")  # same version, other vaccine
    signed_insert(warehouse, wrong.assign(vaccine_code=other), 1, "test:wrong-in")
    phantom = spare.assign(dose_id="PHANTOM-1", version=1)  # unknown to the registry
    write_states(warehouse, phantom, batch="test:phantom")

    found = compare(warehouse, engine)
    cells = {
        (d["province_code"], d["day"], d["vaccine_code"]): d for d in found.summary()["differences"]
    }
    expected = {
        cell_of(lost.iloc[0]),
        cell_of(wrong.iloc[0]),
        cell_of(wrong.assign(vaccine_code=other).iloc[0]),
        cell_of(phantom.iloc[0]),
    }
    assert set(cells) == expected
    assert cells[cell_of(lost.iloc[0])]["only_in_registry"] == [lost_id]
    assert cells[cell_of(wrong.iloc[0])]["only_in_registry"] == [wrong_id]
    assert wrong_id in cells[cell_of(wrong.assign(vaccine_code=other).iloc[0])]["only_in_warehouse"]
    assert "PHANTOM-1" in cells[cell_of(phantom.iloc[0])]["only_in_warehouse"]
    assert coverage_cells(warehouse) != registry_cells(warehouse, engine)

    document, equal = run(warehouse, engine, KEY, fix=True)
    assert equal and document["after_repair"]["cells_differing"] == 0, document
    assert document["repair"]["voided"] == 1 and document["repair"]["loaded"] >= 2
    assert compare(warehouse, engine).equal
    assert coverage_cells(warehouse) == registry_cells(warehouse, engine)
    restored = states_of(warehouse, lost_id, wrong_id)
    assert (
        list(restored["vaccine_code"])
        == [
            lost["vaccine_code"].iloc[0],
            wrong["vaccine_code"].iloc[0],
        ][:: 1 if lost_id < wrong_id else -1]
    )
    assert (
        warehouse.scalar(
            "SELECT count() FROM {db:Identifier}.doses_current WHERE dose_id = 'PHANTOM-1'"
        )
        == 0
    )
    # a repair is a committed batch: the data version moves on
    assert (
        warehouse.scalar(
            "SELECT count() FROM {db:Identifier}.etl_checkpoints WHERE startsWith(source, 'repair:')"
        )
        == 1
    )


def test_days_outside_the_range_are_not_compared(streamed: tuple[Warehouse, Engine]) -> None:
    warehouse, engine = streamed
    lost = warehouse.frame(
        f"SELECT {STATE_SQL} FROM {{db:Identifier}}.{LIVE} ORDER BY dose_id LIMIT 1"
    ).set_axis(STATE_COLUMNS, axis=1)
    signed_insert(warehouse, lost, -1, "test:lost-one")
    day = date.fromisoformat(cell_of(lost.iloc[0])[1])
    assert not compare(warehouse, engine, day, day).equal
    before = compare(warehouse, engine, date(2020, 1, 1), date.fromordinal(day.toordinal() - 1))
    after = compare(warehouse, engine, date.fromordinal(day.toordinal() + 1), date(2030, 1, 1))
    assert before.equal and after.equal
    assert (
        before.cells + after.cells + compare(warehouse, engine, day, day).cells
        == compare(warehouse, engine).cells
    )


def test_repair_rules() -> None:
    at = pd.Timestamp("2021-08-04 08:00", tz="UTC")
    fields = {"status": "valid", "province_code": "79", "site_id": "s", "vaccine_code": "V",
              "lot_number": "L", "dose_number": 1, "administered_at": at}  # fmt: skip
    registry = pd.DataFrame(
        [
            {"dose_id": "same", "version": 1, **fields},
            {"dose_id": "newer", "version": 2, **fields},
            {"dose_id": "other", "version": 1, **fields},
            {"dose_id": "absent", "version": 1, **fields},
            {"dose_id": "twice", "version": 1, **fields},
        ]
    )
    stored = pd.DataFrame(
        [
            {"dose_id": "same", "version": 1, **fields, "net": 1},
            {"dose_id": "newer", "version": 1, **fields, "net": 1},
            {"dose_id": "other", "version": 1, **fields, "vaccine_code": "W", "net": 1},
            {"dose_id": "twice", "version": 1, **fields, "net": 2},
            {"dose_id": "phantom", "version": 3, **fields, "net": 1},
        ]
    )
    plan = plan_repair(registry, stored)
    assert plan == {
        "cancel": {"other", "twice"},
        "void": {"phantom"},
        "resend": {"newer", "other", "twice", "absent"},
    }


def chdb_script(dsn: str, code: str) -> Any:
    """Run `code` (with `w`, the warehouse at `dsn`) in a child process; its JSON output."""
    prelude = f"import json; from warehouse.client import connect; w = connect({dsn!r}, 'vax')\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reconcile_command(tmp_path: Path) -> None:
    registry = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    engine = make_engine(registry)
    migrate(engine)
    seed(engine, SeedOptions(scale=0.0003, until=date(2021, 6, 30), seed=4, error_rate=0.02))
    engine.dispose()
    dsn = f"chdb://{tmp_path / 'warehouse'}"
    env = {**os.environ, "VAX_VAR_DIR": str(tmp_path / "var"), "VAX_SOURCE_DSN": registry,
           "VAX_WAREHOUSE_DSN": dsn}  # fmt: skip

    def etl(*args: str) -> tuple[int, dict[str, Any]]:
        result = subprocess.run(
            [sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert result.stdout, result.stderr[-2000:]
        return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])

    assert etl("stream", "--once")[0] == 0
    code, summary = etl("reconcile")
    assert code == 0 and summary["cells_differing"] == 0 and summary["cells_compared"] > 10
    lost = chdb_script(
        dsn,
        f'rows = w.frame("SELECT {STATE_SQL} FROM {{db:Identifier}}.{LIVE} '
        'ORDER BY dose_id LIMIT 1")\n'
        f"rows.columns = {STATE_COLUMNS!r}\n"
        "w.insert_frame('dose_ledger', rows.assign(sign=-1), dedup_token='test:lost', "
        f"column_names={[*STATE_COLUMNS, 'sign']!r})\n"
        "print(json.dumps(str(rows['dose_id'][0])))",
    )
    code, summary = etl("reconcile")
    assert code == 1 and summary["cells_differing"] == 1
    assert summary["differences"][0]["only_in_registry"] == [lost]
    code, summary = etl("reconcile", "--repair")
    assert code == 0 and summary["repair"]["loaded"] == 1
    assert summary["after_repair"]["cells_differing"] == 0
    assert etl("reconcile", "--from", "2021-01-01", "--to", "2021-12-31")[0] == 0
