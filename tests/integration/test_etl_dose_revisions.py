"""The doses' superseded versions streamed from the registry (``dose_versions``, SQLite and
PostgreSQL) into the warehouse's ``dose_revisions``: after a stream the warehouse holds
exactly the registry's rows; new versions stream in the next run; a replay after lost
checkpoints lands nothing twice."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import stream_once
from registry.db import allocate_changes
from registry.simulator import SeedOptions
from tests.integration.registry_helpers import frame, seeded_registry
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

KEY = bytes(range(32))
#: errors at 20 times the default rate: corrections, voids and the backlog's new versions
OPTIONS = SeedOptions(scale=0.0002, until=date(2021, 8, 31), seed=5, error_rate=0.1)
COLUMNS = ["dose_id", "version", "status", "province_code", "site_id", "vaccine_code",
           "dose_number", "administered_at", "recorded_at", "superseded_at", "change_seq"]  # fmt: skip
TIMES = ("administered_at", "recorded_at", "superseded_at")


def registry_rows(engine: Engine) -> pd.DataFrame:
    found = frame(engine, f"SELECT {', '.join(COLUMNS)} FROM dose_versions")
    for column in TIMES:
        found[column] = pd.to_datetime(found[column], utc=True, format="mixed")
    return found.sort_values(["dose_id", "version"]).reset_index(drop=True)


def warehouse_rows(warehouse: Warehouse, final: str = "FINAL") -> pd.DataFrame:
    rows = warehouse.rows(
        f"SELECT {', '.join(COLUMNS)} FROM {{db:Identifier}}.dose_revisions {final} "
        "ORDER BY dose_id, version"
    )
    found = pd.DataFrame(rows, columns=COLUMNS)
    for column in TIMES:
        found[column] = pd.to_datetime(found[column]).dt.tz_convert("UTC")
    for column in ("version", "dose_number", "change_seq"):
        found[column] = found[column].astype("int64")
    return found


def assert_same(engine: Engine, warehouse: Warehouse) -> pd.DataFrame:
    expected = registry_rows(engine)
    found = warehouse_rows(warehouse)
    for column in ("version", "dose_number", "change_seq"):
        expected[column] = expected[column].astype("int64")
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
    return expected


def void_some(engine: Engine, count: int) -> None:
    """Void the `count` first valid doses, as a site would."""
    with engine.begin() as connection:
        ids = connection.execute(
            text(f"SELECT dose_id FROM doses WHERE status = 'valid' ORDER BY dose_id LIMIT {count}")
        ).scalars()
        for dose_id in list(ids):
            connection.execute(
                text(
                    "UPDATE doses SET status = 'void', version = version + 1, "
                    "recorded_at = '2021-09-02 03:00:00', change_seq = :seq WHERE dose_id = :d"
                ),
                {"seq": allocate_changes(connection, 1), "d": dose_id},
            )


def test_superseded_versions_follow_the_registry(warehouse: Warehouse, registry_dsn: str) -> None:
    engine = seeded_registry(registry_dsn, OPTIONS)
    refresh_reference(warehouse, *reference_codes())
    first = stream_once(warehouse, engine, KEY, rows=500)
    rows = assert_same(engine, warehouse)
    assert first.operations["dose_revisions"] == len(rows) > 20
    described = warehouse.rows("DESCRIBE TABLE {db:Identifier}.dose_revisions")
    assert [row[0] for row in described] == COLUMNS  # no citizen

    # lost checkpoints: the replay of the unchanged range lands nothing twice, physically
    physical = warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_revisions")
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    stream_once(warehouse, engine, KEY, rows=500)
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_revisions") == physical
    pd.testing.assert_frame_equal(warehouse_rows(warehouse, ""), warehouse_rows(warehouse))

    # new versions stream in the next run, and only they
    void_some(engine, 5)
    second = stream_once(warehouse, engine, KEY, rows=500)
    assert second.operations["dose_revisions"] == 5
    assert len(assert_same(engine, warehouse)) == len(rows) + 5
    assert stream_once(warehouse, engine, KEY).operations["dose_revisions"] == 0

    # a replay over ranges the checkpoints no longer match may land rows again physically:
    # the table keeps one per version (FINAL), the registry's
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    stream_once(warehouse, engine, KEY, rows=500)
    assert_same(engine, warehouse)
