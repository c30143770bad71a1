"""Sites, stock movements, registrations, check-ins and correction requests streamed from the
registry (SQLite and PostgreSQL) into the warehouse: the same facts, citizens only as keys (and
requests without anything personal), replays land once."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import stream_once
from registry.live import run_live
from registry.simulator import SeedOptions
from tests.integration.correction_helpers import at, file_some
from tests.integration.registry_helpers import seeded_registry
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

KEY = bytes(range(32))

# (registry query, warehouse query) pairs that must agree, as sorted rows
SAME = {
    "sites": (
        "SELECT site_id, province_code, site_type, daily_capacity, opens_minute, closes_minute "
        "FROM sites",
        "SELECT site_id, province_code, site_type, daily_capacity, opens_minute, closes_minute "
        "FROM {db:Identifier}.sites FINAL",
    ),
    "stock on hand": (
        "SELECT level, coalesce(province_code, ''), coalesce(site_id, ''), vaccine_code, "
        "lot_number, sum(quantity) FROM stock_movements GROUP BY 1, 2, 3, 4, 5",
        "SELECT level, province_code, site_id, vaccine_code, lot_number, sum(quantity) "
        "FROM {db:Identifier}.stock_movements FINAL GROUP BY ALL",
    ),
    "movements per kind": (
        "SELECT kind, count(*), sum(quantity) FROM stock_movements GROUP BY kind",
        "SELECT kind, count(), sum(quantity) FROM {db:Identifier}.stock_movements FINAL "
        "GROUP BY kind",
    ),
    "registrations": (
        "SELECT site_id, status, count(*) FROM registrations GROUP BY 1, 2",
        "SELECT site_id, status, count() FROM {db:Identifier}.registrations FINAL GROUP BY ALL",
    ),
    "check-ins": (
        "SELECT site_id, count(*) FROM checkins GROUP BY 1",
        "SELECT site_id, count() FROM {db:Identifier}.checkins FINAL GROUP BY ALL",
    ),
    "correction requests": (
        "SELECT request_id, kind, province_code, status, resolved_at IS NULL "
        "FROM correction_requests",
        "SELECT request_id, kind, province_code, status, resolved_at IS NULL "
        "FROM {db:Identifier}.correction_requests FINAL",
    ),
}


def normalise(rows: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(tuple(int(v) if isinstance(v, int) else str(v) for v in row) for row in rows)


def assert_same(engine: Any, warehouse: Warehouse) -> None:
    with engine.connect() as connection:
        for name, (registry_sql, warehouse_sql) in SAME.items():
            expected = normalise(connection.execute(text(registry_sql)).fetchall())
            assert expected, name
            assert normalise(warehouse.rows(warehouse_sql)) == expected, name


def test_operational_tables_follow_the_registry(warehouse: Warehouse, registry_dsn: str) -> None:
    options = SeedOptions(scale=0.0003, until=date(2021, 6, 30), seed=4, error_rate=0.0)
    engine = seeded_registry(registry_dsn, options)
    file_some(engine, 12, at("2021-06-30"))
    refresh_reference(warehouse, *reference_codes())

    first = stream_once(warehouse, engine, KEY, rows=3000)
    assert set(first.operations) == {
        "sites", "stock_movements", "registrations", "checkins", "registry_sample",
        "correction_requests", "dose_revisions",
    }  # fmt: skip
    assert all(first.operations.values()), first.operations
    assert_same(engine, warehouse)

    # citizens only as keys: no CCCD of the registry in the operational tables
    with engine.connect() as connection:
        cccds = [
            row[0] for row in connection.execute(text("SELECT citizen_id FROM citizens LIMIT 50"))
        ]
    for table in ("registrations", "checkins"):
        hits = warehouse.scalar(
            f"SELECT count() FROM {{db:Identifier}}.{table} WHERE citizen_key IN {{ids:Array(String)}}",
            {"ids": cccds},
        )
        assert hits == 0
        assert (
            warehouse.scalar(f"SELECT min(length(citizen_key)) FROM {{db:Identifier}}.{table}")
            == 32
        )
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.etl_ops_raw") == 0

    # lost checkpoints: the replay of unchanged ranges lands nothing twice, physically
    def counts(final: str = "") -> dict[str, int]:
        return {
            t: warehouse.scalar(f"SELECT count() FROM {{db:Identifier}}.{t} {final}")
            for t in first.operations
        }

    before = counts()
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    stream_once(warehouse, engine, KEY, rows=3000)
    assert counts() == before

    # live recording changes registrations in place and adds movements: still the same
    run_live(engine, rate=30, stop=threading.Event(), duration=2, seed=6, error_rate=0.0)
    second = stream_once(warehouse, engine, KEY)
    assert second.operations["checkins"] > 0
    assert_same(engine, warehouse)

    # a replay after the registry changed rows in place (new change_seq): ranges differ, so
    # rows may land again physically; each table keeps one row per id (FINAL), all the same
    latest = counts("FINAL")
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    stream_once(warehouse, engine, KEY, rows=3000)
    assert counts("FINAL") == latest
    assert_same(engine, warehouse)


def test_rows_a_dropped_replay_would_lose_are_inserted_again(
    warehouse: Warehouse, registry_dsn: str
) -> None:
    """A kill while the engine commits a part can leave the block noted as written and the
    part gone; the replay under the same token is then dropped. Here every operational
    row is deleted after its batch landed and the checkpoints are lost: the replay finds
    its change sequence numbers missing and inserts the rows again."""
    options = SeedOptions(scale=0.0002, until=date(2021, 6, 20), seed=5, error_rate=0.0)
    engine = seeded_registry(registry_dsn, options)
    file_some(engine, 6, at("2021-06-20"))
    refresh_reference(warehouse, *reference_codes())
    stream_once(warehouse, engine, KEY, rows=3000)
    assert_same(engine, warehouse)
    for table in ("sites", "stock_movements", "registrations", "checkins", "correction_requests"):
        warehouse.command(
            f"ALTER TABLE {{db:Identifier}}.{table} DELETE WHERE 1 SETTINGS mutations_sync = 2"
        )
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    stream_once(warehouse, engine, KEY, rows=3000)
    assert_same(engine, warehouse)
