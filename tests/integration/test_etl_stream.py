"""The registry stream (SQLite and PostgreSQL registries, chDB warehouse)."""

from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from etl import stream
from etl.__main__ import reference_codes
from etl.batch import FILE_COLUMNS
from etl.reference import refresh_reference
from etl.stream import stream_once
from registry.live import run_live
from registry.simulator import SeedOptions
from tests.integration.registry_helpers import seeded_registry
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

pytestmark = pytest.mark.integration

KEY = bytes(range(32))


def registry_valid_doses(engine: object) -> set[tuple[str, int]]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            text("SELECT dose_id, version FROM doses WHERE status = 'valid'")
        ).fetchall()
    return {(str(dose_id), int(version)) for dose_id, version in rows}


def warehouse_doses(warehouse: Warehouse) -> set[tuple[str, int]]:
    return {
        (dose_id, int(version))
        for dose_id, version in warehouse.rows(
            "SELECT dose_id, version FROM {db:Identifier}.doses_current"
        )
    }


def test_stream_follows_the_registry(warehouse: Warehouse, registry_dsn: str) -> None:
    options = SeedOptions(scale=0.0005, until=date(2021, 6, 30), seed=3, error_rate=0.05)
    engine = seeded_registry(registry_dsn, options)
    refresh_reference(warehouse, *reference_codes())

    first = stream_once(warehouse, engine, KEY, rows=500)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM doses")).scalar_one()
    assert first.read == total and first.read == first.loaded + first.rejected
    assert first.batches > 1 and first.rejected > 0
    rejected = {
        dose_id for (dose_id,) in warehouse.rows("SELECT dose_id FROM {db:Identifier}.etl_rejects")
    }
    expected = {pair for pair in registry_valid_doses(engine) if pair[0] not in rejected}
    assert warehouse_doses(warehouse) == expected

    # times: the registry's UTC instants arrive as the same instants
    with engine.connect() as connection:
        sample = connection.execute(
            text("SELECT dose_id, administered_at FROM doses WHERE status = 'valid' "
                 "ORDER BY change_seq LIMIT 1")
        ).one()  # fmt: skip
    stored = warehouse.scalar(
        "SELECT toUnixTimestamp(administered_at) FROM {db:Identifier}.doses_current "
        "WHERE dose_id = {id:String}",
        {"id": sample[0]},
    )
    registry_time = pd.Timestamp(sample[1])
    registry_time = registry_time if registry_time.tzinfo else registry_time.tz_localize("UTC")
    assert stored == int(registry_time.timestamp())

    # caught up: nothing more; then live recording (with corrections) streams in
    assert stream_once(warehouse, engine, KEY).read == 0
    run_live(engine, rate=30, stop=threading.Event(), duration=2, seed=5, error_rate=0.2)
    second = stream_once(warehouse, engine, KEY)
    assert second.read > 0
    rejected = {
        dose_id for (dose_id,) in warehouse.rows("SELECT dose_id FROM {db:Identifier}.etl_rejects")
    }
    expected = {pair for pair in registry_valid_doses(engine) if pair[0] not in rejected}
    assert warehouse_doses(warehouse) == expected

    # a lost checkpoint (crash before it was written): the replay changes nothing
    counts = warehouse.rows(
        "SELECT (SELECT count() FROM {db:Identifier}.doses_current), "
        "(SELECT sum(doses) FROM {db:Identifier}.coverage_daily), "
        "(SELECT count() FROM {db:Identifier}.etl_rejects FINAL)"
    )
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_checkpoints")
    replay = stream_once(warehouse, engine, KEY, rows=700)
    # every dose once, at its latest version (the live feed's approved correction requests
    # change doses the first pass read: the two passes read those twice)
    with engine.connect() as connection:
        on_record = connection.execute(text("SELECT count(*) FROM doses")).scalar_one()
    assert replay.read == on_record <= first.read + second.read
    assert (
        warehouse.rows(
            "SELECT (SELECT count() FROM {db:Identifier}.doses_current), "
            "(SELECT sum(doses) FROM {db:Identifier}.coverage_daily), "
            "(SELECT count() FROM {db:Identifier}.etl_rejects FINAL)"
        )
        == counts
    )


def test_registry_batches_hold_every_changed_row_as_file_drop_text(registry_dsn: str) -> None:
    """The Python read of the registry (SQLite always; PostgreSQL when the warehouse cannot
    pull it): every dose changed after the checkpoint, in change order, in batches of the
    asked size, each field the statement's value as text, times as UTC instants."""
    options = SeedOptions(scale=0.0003, until=date(2021, 5, 31), seed=4, error_rate=0.05)
    engine = seeded_registry(registry_dsn, options)
    with engine.connect() as connection:
        rows = connection.execute(
            text(sql_beside(stream.__file__, "registry_doses.sql")), {"after": 0}
        ).fetchall()
    after = int(rows[len(rows) // 3][-1])
    expected = [row for row in rows if int(row[-1]) > after]
    batches = list(stream.registry_batches(engine, after, 97))
    assert [len(seqs) for seqs, _ in batches[:-1]] == [97] * (len(batches) - 1)
    sequences = [seq for seqs, _ in batches for seq in seqs]
    assert sequences == [int(row[-1]) for row in expected]
    table = pd.concat([batch.to_pandas() for _, batch in batches], ignore_index=True)
    assert list(table.columns) == list(FILE_COLUMNS)
    for n, name in enumerate(FILE_COLUMNS):
        column = table[name].tolist()
        wanted = [row[n] for row in expected]
        if name == "administered_at":  # an instant: compare as one
            assert pd.to_datetime(column, utc=True).equals(pd.to_datetime(wanted, utc=True))
        else:
            assert column == [None if v is None else str(v) for v in wanted], name
