"""The warehouse schema on real engines: migrations, deduplication, corrections, time zones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.doses import dose, states
from warehouse import ddl
from warehouse.client import Warehouse, observe_statements
from warehouse.ledger import STATE_COLUMNS, plan_ledger_rows, write_states
from warehouse.migrate import applied_migrations, latest_version, migrate, schema_version

pytestmark = pytest.mark.integration

COVERAGE_FROM_CURRENT = """
SELECT toDate(administered_at) AS day, province_code, dose_number, vaccine_code, count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL
"""
COVERAGE_AGGREGATE = """
SELECT day, province_code, dose_number, vaccine_code, sum(doses) AS n
FROM {db:Identifier}.coverage_daily GROUP BY ALL HAVING n != 0 ORDER BY ALL
"""
SITES_FROM_CURRENT = """
SELECT toStartOfHour(administered_at) AS hour, province_code, site_id, count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL
"""
SITES_AGGREGATE = """
SELECT hour, province_code, site_id, sum(doses) AS n
FROM {db:Identifier}.site_hourly GROUP BY ALL HAVING n != 0 ORDER BY ALL
"""
VISITS_FROM_CURRENT = """
SELECT citizen_key, site_id, administered_at, count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL
"""
VISITS_AGGREGATE = """
SELECT citizen_key, site_id, administered_at, sum(doses) AS n
FROM {db:Identifier}.dose_visits GROUP BY ALL HAVING n != 0 ORDER BY ALL
"""
SITE_DOSES_FROM_CURRENT = """
SELECT province_code, site_id, count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL
"""
SITE_DOSES_AGGREGATE = """
SELECT province_code, site_id, sum(doses) AS n
FROM {db:Identifier}.site_doses GROUP BY ALL HAVING n != 0 ORDER BY ALL
"""
KNOWN_FROM_CURRENT = """
SELECT toDate(administered_at) AS day, toDate(recorded_at) AS known_day, province_code,
       dose_number, vaccine_code, count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL
"""
KNOWN_AGGREGATE = """
SELECT day, known_day, province_code, dose_number, vaccine_code, sum(doses) AS n
FROM {db:Identifier}.coverage_known GROUP BY ALL HAVING n != 0 ORDER BY ALL
"""
UNINDEXED = """
SELECT dose_id FROM {db:Identifier}.doses_current
WHERE (unhex(citizen_key), dose_id) NOT IN
    (SELECT citizen_key, dose_id FROM {db:Identifier}.citizen_doses)
"""

KV_LIVE = """
SELECT dose_id, version, citizen_key, province_code, lot_number, administered_at
FROM {db:Identifier}.dose_state_kv WHERE status = 'valid' ORDER BY dose_id
"""
CURRENT_STATES = """
SELECT dose_id, version, citizen_key, province_code, lot_number, administered_at
FROM {db:Identifier}.doses_current ORDER BY dose_id
"""


def current(warehouse: Warehouse) -> list[tuple[str, int, str]]:
    return warehouse.rows(
        "SELECT dose_id, version, province_code FROM {db:Identifier}.doses_current ORDER BY dose_id"
    )


def assert_aggregates_match_current(warehouse: Warehouse) -> None:
    assert warehouse.rows(COVERAGE_AGGREGATE) == warehouse.rows(COVERAGE_FROM_CURRENT)
    assert warehouse.rows(KNOWN_AGGREGATE) == warehouse.rows(KNOWN_FROM_CURRENT)
    assert warehouse.rows(SITES_AGGREGATE) == warehouse.rows(SITES_FROM_CURRENT)
    assert warehouse.rows(VISITS_AGGREGATE) == warehouse.rows(VISITS_FROM_CURRENT)
    assert warehouse.rows(SITE_DOSES_AGGREGATE) == warehouse.rows(SITE_DOSES_FROM_CURRENT)
    assert warehouse.rows(UNINDEXED) == []
    assert warehouse.rows(KV_LIVE) == warehouse.rows(CURRENT_STATES)


def optimize(warehouse: Warehouse) -> None:
    for table in (
        "dose_ledger",
        "citizen_doses",
        "coverage_daily",
        "coverage_known",
        "site_hourly",
    ):
        warehouse.command(f"OPTIMIZE TABLE {{db:Identifier}}.{table} FINAL")


# -- migrations ------------------------------------------------------------------------------


def test_migrate_is_idempotent(warehouse: Warehouse) -> None:
    before = applied_migrations(warehouse)
    report = migrate(warehouse)
    assert report.applied == [] and report.already == latest_version() and report.views == []
    assert applied_migrations(warehouse) == before
    assert schema_version(warehouse) == latest_version()
    tables = {
        name
        for (name,) in warehouse.rows("SELECT name FROM system.tables WHERE database = {db:String}")
    }
    assert {"dose_ledger", "citizen_doses", "doses_current", "etl_rejects", "etl_checkpoints",
            "coverage_daily", "site_hourly", "schema_migrations"} <= tables  # fmt: skip


def test_an_edited_applied_file_is_refused(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for migration in ddl.load_migrations():
        (tmp_path / migration.path.name).write_text(migration.source, encoding="utf-8")
    edited = tmp_path / "0005_etl_rejects.sql"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    monkeypatch.setattr(ddl, "SCHEMA_DIR", tmp_path)
    monkeypatch.setattr("warehouse.migrate.load_migrations", lambda: ddl.load_migrations(tmp_path))
    with pytest.raises(ddl.SchemaError, match="append-only"):
        migrate(warehouse)


def test_identities_stored_before_the_key_value_copy_are_copied_in(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse with identities, migrated to 0016: identity_kv holds the latest of each."""
    earlier = [m for m in ddl.load_migrations() if m.version < 16]
    for migration in earlier:
        (tmp_path / migration.path.name).write_text(migration.source, encoding="utf-8")
    monkeypatch.setattr("warehouse.migrate.load_migrations", lambda: ddl.load_migrations(tmp_path))
    monkeypatch.setattr("warehouse.migrate.load_repeatables", lambda: [])  # their tables: later
    warehouse.command("DROP DATABASE {db:Identifier} SYNC")
    migrate(warehouse)
    for name, at in [("An", "2021-08-01 08:00:00"), ("Ân", "2021-09-01 08:00:00")]:
        warehouse.command(
            "INSERT INTO {db:Identifier}.citizen_identity VALUES ('k1', {n:String}, "
            "'1990-01-02', 'M', 'p', {at:String})",
            {"n": name, "at": at},
        )
    monkeypatch.undo()
    migrate(warehouse)
    assert warehouse.rows("SELECT citizen_key, full_name FROM {db:Identifier}.identity_kv") == [
        ("k1", "Ân")
    ]


def test_a_new_database_migrates_from_nothing(warehouse: Warehouse) -> None:
    other = dataclasses.replace(warehouse, database=f"{warehouse.database}_b")
    try:
        assert schema_version(other) == 0
        assert len(migrate(other).applied) == latest_version()
    finally:
        other.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


# -- insert deduplication --------------------------------------------------------------------


def ledger_frame() -> pd.DataFrame:
    return states(dose("a"), dose("b"), dose("c", administered_at="2021-09-01 08:00:00")).assign(
        sign=1
    )


def ledger_count(warehouse: Warehouse) -> int:
    return int(warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger"))


def test_same_batch_with_same_token_lands_once(warehouse: Warehouse) -> None:
    columns = [*STATE_COLUMNS, "sign"]
    for _ in range(2):
        warehouse.insert_frame(
            "dose_ledger", ledger_frame(), dedup_token="t-1", column_names=columns
        )
    assert ledger_count(warehouse) == 3
    assert int(warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")) == 3
    # the control: another token is another insert, so the test above can fail
    warehouse.insert_frame("dose_ledger", ledger_frame(), dedup_token="t-2", column_names=columns)
    assert ledger_count(warehouse) == 6


def test_replaying_a_batch_of_states_changes_nothing(warehouse: Warehouse) -> None:
    batch = states(dose("a"), dose("b", version=2), dose("c", status="void"))
    first = write_states(warehouse, batch, "registry:1-3")
    replay = write_states(warehouse, batch, "registry:1-3")
    assert (first.new, first.written) == (3, 3)
    assert (replay.stale, replay.written) == (3, 0)
    assert ledger_count(warehouse) == 3
    assert [row[0] for row in current(warehouse)] == ["a", "b"]


# -- corrections and voids -------------------------------------------------------------------


def test_corrections_and_voids_net_out_everywhere(warehouse: Warehouse) -> None:
    write_states(
        warehouse,
        states(
            dose("a", province_code="01", site_id="S01-001"),
            dose("b", province_code="01", site_id="S01-001", citizen_key="k-0002"),
            dose("c", province_code="79", site_id="S79-001", citizen_key="k-0003"),
            dose(
                "d",
                province_code="79",
                site_id="S79-001",
                dose_number=2,
                administered_at="2021-08-05 10:30:00",
            ),
        ),
        "b1",
    )
    write_states(
        warehouse,
        states(
            # a: corrected twice in one batch -> moves province, site, day and vaccine
            dose("a", version=2, province_code="48"),
            dose(
                "a",
                version=3,
                province_code="79",
                site_id="S79-002",
                vaccine_code="EU/1/20/1528",
                administered_at="2021-08-06 07:00:00",
            ),
            dose("b", version=2, status="void", citizen_key="k-0002"),
            dose("c", citizen_key="k-0003", province_code="79", site_id="S79-001"),  # replay
        ),
        "b2",
    )
    # a late, older version of a and an un-void of b by a newer version
    write_states(warehouse, states(dose("a", version=2, province_code="48")), "b3")
    write_states(
        warehouse,
        states(dose("b", version=3, citizen_key="k-0002", province_code="92", site_id="S92-001")),
        "b4",
    )

    expected = [("a", 3, "79"), ("b", 3, "92"), ("c", 1, "79"), ("d", 1, "79")]
    assert current(warehouse) == expected
    assert int(warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")) == 4
    assert_aggregates_match_current(warehouse)
    optimize(warehouse)
    assert current(warehouse) == expected
    assert_aggregates_match_current(warehouse)
    # after merges, cancelled pairs are gone from the ledger
    assert warehouse.rows(
        "SELECT count(), sum(sign) FROM {db:Identifier}.dose_ledger WHERE status = 'valid'"
    ) == [(4, 4)]


def test_void_arriving_before_the_dose_keeps_it_out(warehouse: Warehouse) -> None:
    write_states(warehouse, states(dose("a", version=2, status="void")), "late-void")
    write_states(warehouse, states(dose("a")), "original")
    assert current(warehouse) == []
    assert warehouse.rows(COVERAGE_AGGREGATE) == []


# -- time zones ------------------------------------------------------------------------------


def test_local_day_boundaries(warehouse: Warehouse) -> None:
    write_states(
        warehouse,
        states(
            dose("before-midnight", administered_at="2021-08-04 23:59:59"),
            dose("utc-evening", administered_at=pd.Timestamp("2021-08-04T16:59:59Z")),
            dose("local-midnight", administered_at=pd.Timestamp("2021-08-04T17:00:00Z")),
        ),
        "tz",
    )
    days = warehouse.rows(
        "SELECT day, sum(doses) FROM {db:Identifier}.coverage_daily GROUP BY day ORDER BY day"
    )
    assert [(str(day), n) for day, n in days] == [("2021-08-04", 2), ("2021-08-05", 1)]
    hours = warehouse.rows(
        "SELECT toString(hour), sum(doses) FROM {db:Identifier}.site_hourly GROUP BY hour ORDER BY hour"
    )
    assert hours == [("2021-08-04 23:00:00", 2), ("2021-08-05 00:00:00", 1)]
    stored = warehouse.rows(
        "SELECT dose_id, toString(administered_at), toTimezone(administered_at, 'UTC') "
        "FROM {db:Identifier}.doses_current WHERE dose_id = 'before-midnight'"
    )
    assert stored[0][1] == "2021-08-04 23:59:59.000"
    assert str(stored[0][2]).startswith("2021-08-04 16:59:59")


def test_the_sql_writer_follows_the_reference_planner(warehouse: Warehouse) -> None:
    """Random batches with shuffled versions, voids, duplicates and conflicts: the in-ClickHouse
    writer and the pure planner (warehouse.ledger.plan_ledger_rows) agree on every count and
    on the final state."""
    rng = np.random.default_rng(5)
    store = states()
    for round_ in range(8):
        rows = [
            dose(
                f"d{int(rng.integers(0, 80)):03d}",
                version=int(rng.integers(1, 5)),
                status=str(rng.choice(["valid", "void"], p=[0.8, 0.2])),
                lot_number=f"L{int(rng.integers(0, 2))}",
                province_code=str(rng.choice(["01", "79", "92"])),
            )
            for _ in range(200)
        ]
        batch = states(*rows)
        reference = plan_ledger_rows(batch, store)
        report = write_states(warehouse, batch, f"round-{round_}")
        assert (report.new, report.changed, report.stale) == (
            reference.new,
            reference.changed,
            reference.stale,
        ), round_
        pairs = sorted(map(tuple, report.conflicts[["dose_id", "version"]].to_numpy().tolist()))
        assert pairs == sorted(map(tuple, reference.conflicts.to_numpy().tolist())), round_
        assert report.written == len(reference.rows)
        latest = reference.rows[reference.rows["sign"] == 1].drop(columns="sign")
        store = pd.concat([store[~store["dose_id"].isin(latest["dose_id"])], latest])
    expected = sorted(
        (row.dose_id, int(row.version), row.province_code)
        for row in store[store["status"] == "valid"].itertuples()
    )
    assert current(warehouse) == expected
    assert_aggregates_match_current(warehouse)


def test_a_batch_of_only_new_doses_skips_the_plan_and_writes_what_it_would(
    warehouse: Warehouse,
) -> None:
    """New doses, each staged once, are written as they are, without the plan
    (warehouse/sql/stage_all_new.sql): the same rows, counts and state as the reference
    planner gives; a batch with one stored dose, or one dose staged twice, is planned."""
    planned: list[str] = []

    def record(statement: str, seconds: float) -> None:
        if "ledger_stage_plan" in statement:
            planned.append(statement)

    first = states(
        dose("n1"), dose("n2", version=3), dose("n3", status="void"), dose("n4", dose_number=2)
    )
    reference = plan_ledger_rows(first, states())
    with observe_statements(record):
        report = write_states(warehouse, first, "new-only")
    assert not planned
    assert (report.new, report.changed, report.stale, report.written) == (4, 0, 0, 4)
    assert (reference.new, reference.changed, reference.stale, len(reference.rows)) == (4, 0, 0, 4)
    stored = warehouse.frame(
        "SELECT dose_id, version, sign, status, province_code, dose_number "
        "FROM {db:Identifier}.dose_ledger ORDER BY dose_id"
    )
    expected = reference.rows.sort_values("dose_id")[stored.columns]
    assert stored.astype(str).values.tolist() == expected.astype(str).values.tolist()
    assert current(warehouse) == [("n1", 1, "01"), ("n2", 3, "01"), ("n4", 1, "01")]
    assert_aggregates_match_current(warehouse)

    for name, batch in (
        ("one stored", states(dose("n1", version=2, province_code="92"), dose("n5"))),
        ("one twice", states(dose("n6"), dose("n6", version=2))),
    ):
        planned.clear()
        with observe_statements(record):
            write_states(warehouse, batch, name)
        assert planned, name
    assert current(warehouse) == [
        ("n1", 2, "92"), ("n2", 3, "01"), ("n4", 1, "01"), ("n5", 1, "01"), ("n6", 2, "01"),
    ]  # fmt: skip
    assert_aggregates_match_current(warehouse)


def test_one_citizens_doses_by_the_citizen_index(warehouse: Warehouse) -> None:
    """Reading one person's doses through citizen_doses (two primary-key reads) equals
    doses_current filtered by that key,
    also after a correction moves a dose to another person and after a void."""
    alice, bob = "0" * 31 + "a", "0" * 31 + "b"
    write_states(
        warehouse,
        states(
            dose("a1", citizen_key=alice),
            dose("a2", citizen_key=alice, dose_number=2),
            dose("b1", citizen_key=bob),
        ),
        "first",
    )
    # a2 was Bob's dose, recorded under Alice; b1 is voided
    write_states(
        warehouse,
        states(
            dose("a2", version=2, citizen_key=bob, dose_number=2),
            dose("b1", version=2, citizen_key=bob, status="void"),
        ),
        "corrections",
    )

    def by_index(key: str) -> list[tuple[str, int]]:
        from warehouse.citizens import citizen_doses

        frame = citizen_doses(warehouse, key).sort_values("dose_id")
        return [(str(d), int(v)) for d, v in frame[["dose_id", "version"]].to_numpy()]

    def by_scan(key: str) -> list[tuple[str, int]]:
        return warehouse.rows(
            "SELECT dose_id, version FROM {db:Identifier}.doses_current "
            "WHERE citizen_key = {k:String} ORDER BY dose_id",
            {"k": key},
        )

    assert by_index(alice) == by_scan(alice) == [("a1", 1)]
    assert by_index(bob) == by_scan(bob) == [("a2", 2)]
    write_states(warehouse, states(dose("b1", version=3, citizen_key=bob)), "un-void")
    assert by_index(bob) == by_scan(bob) == [("a2", 2), ("b1", 3)]
    optimize(warehouse)
    assert by_index(alice) == [("a1", 1)] and by_index(bob) == [("a2", 2), ("b1", 3)]


def test_several_peoples_doses_in_one_statement(warehouse: Warehouse) -> None:
    """The batched read finds every person, also keys whose raw bytes end in zero bytes
    (a String set against the FixedString index dropped them until cast to FixedString)."""
    from warehouse.citizens import citizens_dose_rows

    people = ["ab" * 15 + "00", "cd" * 14 + "0000", "00" * 15 + "01", "ef" * 16]
    write_states(
        warehouse,
        states(*(dose(f"d{n}", citizen_key=key) for n, key in enumerate(people[:3]))),
        "people",
    )
    found = citizens_dose_rows(warehouse, people)
    assert {key: [d["dose_id"] for d in doses] for key, doses in found.items()} == {
        people[0]: ["d0"],
        people[1]: ["d1"],
        people[2]: ["d2"],
        people[3]: [],
    }


class SimulatedKillError(Exception):
    """Stands for the process dying at the point a test chooses."""


def test_an_insert_cut_off_between_ledger_and_views_heals_on_the_next_write(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state a kill -9 can leave in the middle of the signed insert: the ledger's part
    committed, the views' parts not (views detached while it runs), the pending rows not yet
    cleared. The next write completes the views from ledger_pending; nothing doubles."""
    from warehouse import ledger

    write_states(warehouse, states(dose("a"), dose("b", province_code="79")), "first")
    batch = states(
        dose("a", version=2, province_code="92", site_id="S92-001"),  # a correction
        dose("b", version=2, status="void"),
        dose("c", province_code="01", dose_number=2),
    )
    views = [
        name
        for (name,) in warehouse.rows(
            "SELECT name FROM system.tables WHERE database = {db:String} "
            "AND engine = 'MaterializedView'"
        )
    ]

    def killed_after_the_insert(target: Warehouse) -> int:
        if ledger.insert_pending(target):
            raise SimulatedKillError
        return 0

    monkeypatch.setattr(ledger, "flush_pending", killed_after_the_insert)
    for view in views:
        warehouse.command("DETACH TABLE {db:Identifier}.{v:Identifier}", {"v": view})
    with pytest.raises(SimulatedKillError):
        write_states(warehouse, batch, "second")
    for view in views:
        warehouse.command("ATTACH TABLE {db:Identifier}.{v:Identifier}", {"v": view})
    monkeypatch.undo()
    ledger_rows = warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger")
    assert warehouse.rows(COVERAGE_AGGREGATE) != warehouse.rows(COVERAGE_FROM_CURRENT)

    write_states(warehouse, batch, "second")  # the restart replays the batch
    assert current(warehouse) == [("a", 2, "92"), ("c", 1, "01")]
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger") == ledger_rows
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.ledger_pending") == 0
    assert_aggregates_match_current(warehouse)
    optimize(warehouse)
    assert_aggregates_match_current(warehouse)


def test_every_view_on_the_ledger_is_healed_after_an_unclean_stop(warehouse: Warehouse) -> None:
    import re

    from warehouse.ledger import HEALED

    targets = set()
    for (query,) in warehouse.rows(
        "SELECT create_table_query FROM system.tables "
        "WHERE database = {db:String} AND engine = 'MaterializedView'"
    ):
        if re.search(rf"FROM `?{warehouse.database}`?\.`?dose_ledger\b", query):
            found = re.search(r"\bTO `?\w+`?\.`?(\w+)", query)
            assert found, query
            targets.add(found[1])
    assert targets and targets == set(HEALED) - {"dose_ledger"}


#: What the test below deletes to stand for the parts a kill lost: the batch's rows in the
#: ledger, and in each view the cells the batch touches (with whatever else they held).
LOST_PARTS = {
    "dose_ledger": "(dose_id, version, sign) IN (SELECT dose_id, version, sign FROM pending)",
    "citizen_doses": "dose_id IN (SELECT dose_id FROM pending)",
    "coverage_daily": "(day, province_code) IN "
    "(SELECT toDate(administered_at), province_code FROM pending)",
    "coverage_known": "(day, known_day, province_code) IN "
    "(SELECT toDate(administered_at), toDate(recorded_at), province_code FROM pending)",
    "site_hourly": "(hour, site_id) IN (SELECT toStartOfHour(administered_at), site_id FROM pending)",
    "dose_visits": "citizen_key IN (SELECT citizen_key FROM pending)",
    "site_doses": "site_id IN (SELECT site_id FROM pending)",
    "dose_state_kv": "dose_id IN (SELECT dose_id FROM pending)",
}


@pytest.mark.parametrize("lost", ["ledger and views", "views", "cancel rows"])
def test_a_replay_the_engine_drops_as_written_is_healed_from_the_ledger(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, lost: str
) -> None:
    """What a kill -9 while the engine commits a part can leave: the block noted as written
    (a replay with the same token is dropped) and its rows gone. Here the batch lands
    everywhere, its rows stay pending (the kill came before they were cleared), and then its
    rows are deleted from the ledger (or not) and its cells from every view. The next write
    recomputes all of them from the ledger; the same-token replay alone leaves them lost."""
    from warehouse import ledger

    assert set(LOST_PARTS) == set(ledger.HEALED)
    write_states(warehouse, states(dose("a"), dose("b", province_code="79")), "first")
    batch = states(
        # a correction recorded two days later: its cells are another known_day's
        dose(
            "a", version=2, province_code="92", site_id="S92-001", recorded_at="2021-08-06 10:00:00"
        ),
        dose("b", version=2, status="void"),
        dose("c", province_code="01", dose_number=2),
        dose("d", citizen_key="e" * 32, site_id="S01-002", province_code="01"),
    )
    expected = [("a", 2, "92"), ("c", 1, "01"), ("d", 1, "01")]

    def killed_before_clearing(target: Warehouse) -> int:
        if ledger.insert_pending(target):
            raise SimulatedKillError
        return 0

    monkeypatch.setattr(ledger, "flush_pending", killed_before_clearing)
    with pytest.raises(SimulatedKillError):
        write_states(warehouse, batch, "second")
    monkeypatch.undo()
    assert current(warehouse) == expected
    for table, deleted in LOST_PARTS.items():
        if lost == "views" and table == "dose_ledger":
            continue  # the ledger kept everything
        if lost == "cancel rows":
            # A correction into another year puts its cancel row in another partition, so
            # another part: the one a kill may lose. Healing the ledger then adds only that
            # row, which dose_state_kv's view stores as a void over the new state.
            if table != "dose_ledger":
                continue
            deleted += " AND sign = -1"
        where = deleted.replace("pending", warehouse.database + ".ledger_pending")
        warehouse.command(
            f"ALTER TABLE {{db:Identifier}}.{table} DELETE WHERE {where} "
            "SETTINGS mutations_sync = 2"
        )
    assert (current(warehouse) == expected) == (lost == "views")

    write_states(warehouse, batch, "second")  # the restart replays the batch
    assert current(warehouse) == expected
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.ledger_pending") == 0
    assert_aggregates_match_current(warehouse)
    write_states(warehouse, batch, "second")  # and a further replay adds nothing
    assert_aggregates_match_current(warehouse)
    optimize(warehouse)
    assert current(warehouse) == expected
    assert_aggregates_match_current(warehouse)


# -- concurrency ------------------------------------------------------------------------------


def test_statements_from_threads_overlap(warehouse: Warehouse) -> None:
    """Two threads' statements run at the same time (the pool's clients), not one after the
    other: while one thread's long statement runs, a statement from another thread sees it in
    system.processes, then ends it (one at a time, the second would wait for the first)."""
    import threading
    import time
    import uuid

    marker = f"overlap-{uuid.uuid4().hex}"
    ended: list[BaseException | None] = []

    def hold() -> None:  # about 20 s unless ended
        try:
            warehouse.rows(
                f"SELECT sleepEachRow(0.5), '{marker}' FROM numbers(40) SETTINGS max_block_size = 1"
            )
            ended.append(None)
        except Exception as error:  # the KILL below
            ended.append(error)

    def running() -> int:
        return int(
            warehouse.scalar(
                "SELECT count() FROM system.processes "
                "WHERE position(query, {m:String}) > 0 AND position(query, 'processes') = 0",
                {"m": marker},
            )
        )

    thread = threading.Thread(target=hold)
    thread.start()
    deadline = time.monotonic() + 15
    seen = running()
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = running()
    warehouse.command(
        "KILL QUERY WHERE position(query, {m:String}) > 0 AND position(query, 'KILL') = 0 SYNC",
        {"m": marker},
    )
    thread.join(timeout=30)
    assert seen == 1, "the other thread's statement was not running alongside this one"
    assert not thread.is_alive() and len(ended) == 1
    assert ended[0] is not None, "ended by KILL QUERY, not run to its end"


def test_reads_stay_right_while_another_thread_writes(warehouse: Warehouse) -> None:
    """Batches written from one thread while others read the aggregates and single people:
    every read sees whole batches, and the end state is exact."""
    import threading

    batches = 12
    failures: list[str] = []
    done = threading.Event()

    def write() -> None:
        try:
            for number in range(batches):
                people = [
                    dose(f"c{number}-{i}", citizen_key=f"{number:016x}{i:016x}") for i in range(50)
                ]
                write_states(warehouse, states(*people), f"batch-{number}")
        finally:
            done.set()

    def read() -> None:
        while not done.is_set():
            total = int(
                warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily") or 0
            )
            if total % 50:
                failures.append(f"a partial batch in coverage_daily: {total}")
            from warehouse.citizens import citizen_dose_rows

            found = citizen_dose_rows(warehouse, f"{0:016x}{7:016x}")
            if len(found) > 1:
                failures.append(f"one person, {len(found)} doses")

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    assert (
        int(warehouse.scalar("SELECT count() FROM {db:Identifier}.doses_current")) == batches * 50
    )
    assert_aggregates_match_current(warehouse)


def test_statements_are_observed_only_within_the_block(warehouse: Warehouse) -> None:
    """Each statement in the block is reported once with the time it took: no more than the
    caller waited for it, and all of the engine's work (a 0.3-s sleep takes 0.3 s or more)."""
    import time
    from collections.abc import Callable

    from warehouse.client import observe_statements

    seen: list[tuple[str, float]] = []
    waited: list[float] = []

    def timed(call: Callable[[], object]) -> object:
        began = time.perf_counter()
        try:
            return call()
        finally:
            waited.append(time.perf_counter() - began)

    warehouse.rows("SELECT 1")
    with observe_statements(lambda statement, seconds: seen.append((statement, seconds))):
        timed(lambda: warehouse.rows("SELECT 2"))
        assert timed(lambda: warehouse.scalar("SELECT 3")) == 3  # one statement, not two
        timed(lambda: warehouse.command("SELECT sleep(0.3)"))
        timed(lambda: warehouse.frame("SELECT 5 AS five"))
        with pytest.raises(Exception, match=r"UNKNOWN_IDENTIFIER|Unknown expression"):
            timed(lambda: warehouse.rows("SELECT no_such_column"))
    warehouse.rows("SELECT 6")
    assert [statement for statement, _ in seen] == [
        "SELECT 2", "SELECT 3", "SELECT sleep(0.3)", "SELECT 5 AS five", "SELECT no_such_column",
    ]  # fmt: skip
    for (statement, seconds), wall in zip(seen, waited, strict=True):
        assert 0 < seconds <= wall, (statement, seconds, wall)
    assert seen[2][1] >= 0.3, seen[2]


def test_compaction_merges_the_citizen_index_and_changes_no_answer(warehouse: Warehouse) -> None:
    from warehouse.citizens import citizens_dose_rows
    from warehouse.compaction import Compactor, compact

    people = [f"{n:032x}" for n in range(1, 7)]
    # three inserts, three parts of the citizen index (no background merge meanwhile)
    warehouse.command("SYSTEM STOP MERGES {db:Identifier}.citizen_doses")
    for batch in range(3):
        write_states(
            warehouse,
            states(*(dose(f"b{batch}-{n}", citizen_key=key) for n, key in enumerate(people))),
            f"batch-{batch}",
        )

    def parts() -> int:
        return int(
            warehouse.scalar(
                "SELECT count() FROM system.parts WHERE database = {db:String} "
                "AND table = 'citizen_doses' AND active",
                {"db": warehouse.database},
            )
        )

    before = citizens_dose_rows(warehouse, people)
    assert parts() == 3
    warehouse.command("SYSTEM START MERGES {db:Identifier}.citizen_doses")
    seconds = compact(warehouse)
    assert set(seconds) == {"citizen_doses", "identity_kv", "dose_state_kv"}
    assert parts() == 1
    assert citizens_dose_rows(warehouse, people) == before
    assert all(len(doses) == 3 for doses in before.values())

    compactor = Compactor(dataclasses.replace(warehouse, database="no_such_db"), 2)
    compactor.run_once()  # a failure is kept and logged, not raised
    assert compactor.runs == 1 and "no_such_db" in compactor.last_error


def test_the_per_dose_tables_merge_in_wider_steps(warehouse: Warehouse) -> None:
    """Schema 0019: eight equal parts of the ledger and of dose_visits stay eight parts (they
    wait for about 20), while citizen_doses, at ClickHouse's default, merges its eight."""
    import time

    people = [f"{n:032x}" for n in range(1, 4)]
    for batch in range(8):
        write_states(
            warehouse,
            states(*(dose(f"w{batch}-{n}", citizen_key=key) for n, key in enumerate(people))),
            f"batch-{batch}",
        )

    def parts() -> dict[str, int]:
        return dict(
            warehouse.rows(
                "SELECT table, count() FROM system.parts WHERE database = {db:String} "
                "AND table IN ('dose_ledger', 'dose_visits', 'citizen_doses') AND active "
                "GROUP BY table",
                {"db": warehouse.database},
            )
        )

    deadline = time.monotonic() + 60
    while parts()["citizen_doses"] == 8 and time.monotonic() < deadline:
        time.sleep(0.2)  # merges run in the background
    assert parts()["citizen_doses"] < 8  # the default merged meanwhile
    assert parts()["dose_ledger"] == parts()["dose_visits"] == 8
    assert len(current(warehouse)) == 24
