"""The schema's layout on a real engine (chDB): numbered files for tables, one repeatable
file per view, the generated current schema and the reference that documents it.

A database built by the schema files as they were before the views moved out (commit
a472052, kept in tests/data) migrates to the same objects and keeps its data; a repeatable file
whose text changed is applied again and its materialized view's table keeps its rows; the
committed docs/warehouse_schema.sql is what a new database holds; docs/warehouse.md has a
section for every object.
"""

from __future__ import annotations

import dataclasses
import re
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.doses import dose, states
from warehouse import ddl
from warehouse.client import Warehouse
from warehouse.current import CURRENT_SCHEMA, WRITE_COMMAND, dump_schema, objects
from warehouse.ledger import write_states
from warehouse.migrate import applied_repeatables, latest_version, migrate, schema_version

pytestmark = pytest.mark.integration

BEFORE = "a472052"  # the last commit with views in the numbered files
BEFORE_FILES = ROOT / "tests" / "data" / f"schema_{BEFORE}.tar.gz"
REFERENCE = ROOT / "docs" / "warehouse.md"


@pytest.fixture
def fresh(chdb_root: Warehouse) -> Iterator[Warehouse]:
    """A database of the session's chDB directory, migrated from nothing."""
    database = dataclasses.replace(chdb_root, database=f"t_{uuid.uuid4().hex[:12]}")
    migrate(database)
    yield database
    database.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


@pytest.fixture
def empty(chdb_root: Warehouse) -> Iterator[Warehouse]:
    """A database name of the session's chDB directory, not created yet."""
    database = dataclasses.replace(chdb_root, database=f"t_{uuid.uuid4().hex[:12]}")
    yield database
    database.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


def schema_files_before(directory: Path, up_to: int) -> Path:
    """The numbered schema files 1..`up_to` as commit BEFORE had them, written to `directory`.

    They are kept in tests/data/schema_a472052.tar.gz (databases built by them exist; the
    test must not depend on a clone holding that much history)."""
    with tarfile.open(BEFORE_FILES) as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if member.isfile() and name.endswith(".sql") and int(name[:4]) <= up_to:
                source = archive.extractfile(member)
                assert source is not None
                (directory / name).write_bytes(source.read())
    return directory


def migrate_before(warehouse: Warehouse, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Migrate as the code of commit BEFORE did: its numbered files, no repeatable ones."""
    with monkeypatch.context() as patch:
        patch.setattr("warehouse.migrate.load_migrations", lambda: ddl.load_migrations(directory))
        patch.setattr("warehouse.migrate.load_repeatables", lambda: [])
        migrate(warehouse)


STORED = ("dose_ledger", "citizen_doses", "coverage_daily", "site_hourly", "dose_visits",
          "site_doses", "dose_state_kv", "citizen_identity", "identity_kv")  # fmt: skip


def contents(warehouse: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    """Every stored table's rows (the ledger's without loaded_at, the time of the insert)."""
    return {
        table: warehouse.rows(
            f"SELECT * EXCEPT (loaded_at) FROM {{db:Identifier}}.{table} ORDER BY ALL"
            if table == "dose_ledger"
            else f"SELECT * FROM {{db:Identifier}}.{table} ORDER BY ALL"
        )
        for table in STORED
    }


def write_some(warehouse: Warehouse, tag: str) -> None:
    write_states(
        warehouse,
        states(
            dose(f"{tag}a", citizen_key="a1b2"),
            dose(f"{tag}b", citizen_key="c3d4", province_code="79", site_id="S79-001"),
            dose(f"{tag}c", status="void"),
        ),
        f"test:{tag}1",
    )
    write_states(
        warehouse,
        states(dose(f"{tag}a", version=2, citizen_key="a1b2", lot_number="L2")),
        f"test:{tag}2",
    )
    warehouse.command(
        "INSERT INTO {db:Identifier}.citizen_identity VALUES "
        "({k:String}, 'An', '1990-01-02', 'M', 'p', '2021-08-01 08:00:00')",
        {"k": f"{tag}key"},
    )


def test_a_database_of_the_earlier_layout_migrates_to_the_same_objects_and_keeps_its_data(
    fresh: Warehouse, empty: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate_before(empty, schema_files_before(tmp_path, 20), monkeypatch)
    write_some(empty, "x")
    before = contents(empty)

    report = migrate(empty)
    later = [m.path.name for m in ddl.load_migrations() if m.version > 20]
    assert report.applied == later and later[0] == "0021_schema_repeatables.sql"
    assert report.already == 20
    assert sorted(report.views) == sorted(r.name for r in ddl.load_repeatables())
    assert dump_schema(empty) == dump_schema(fresh)
    assert contents(empty) == before
    assert schema_version(empty) == latest_version()
    assert migrate(empty).views == []  # recorded: nothing to apply again

    write_some(empty, "y")  # the re-created views feed their tables as before
    write_some(fresh, "y")
    after = contents(empty)
    for table, rows in contents(fresh).items():
        assert set(rows) <= set(after[table]), table


def test_a_database_stopped_halfway_through_the_earlier_files_migrates_too(
    fresh: Warehouse, empty: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 0011 the earlier files had the by-citizen copy and MergeTree scratch tables."""
    migrate_before(empty, schema_files_before(tmp_path, 11), monkeypatch)
    assert "doses_by_citizen" in dict(objects(empty))
    migrate(empty)
    assert dump_schema(empty) == dump_schema(fresh)


def test_a_changed_repeatable_file_is_applied_again_and_its_table_keeps_its_rows(
    fresh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_some(fresh, "x")
    hours = fresh.rows("SELECT * FROM {db:Identifier}.site_hourly ORDER BY ALL")
    assert hours
    for repeatable in ddl.load_repeatables():
        text = repeatable.source
        if repeatable.name == "site_hourly_mv":
            text += "\n-- the same view, a changed text\n"
        (tmp_path / repeatable.path.name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(
        "warehouse.migrate.load_repeatables", lambda: ddl.load_repeatables(tmp_path)
    )
    before = applied_repeatables(fresh)
    assert migrate(fresh).views == ["site_hourly_mv"]
    recorded = applied_repeatables(fresh)
    assert recorded["site_hourly_mv"] != before["site_hourly_mv"]
    assert {k: v for k, v in recorded.items() if k != "site_hourly_mv"} == {
        k: v for k, v in before.items() if k != "site_hourly_mv"
    }
    assert fresh.rows("SELECT * FROM {db:Identifier}.site_hourly ORDER BY ALL") == hours
    assert migrate(fresh).views == []
    write_some(fresh, "y")
    assert int(fresh.scalar("SELECT sum(doses) FROM {db:Identifier}.site_hourly")) == int(
        fresh.scalar("SELECT count() FROM {db:Identifier}.doses_current")
    )


def test_the_committed_current_schema_is_what_a_new_database_holds(fresh: Warehouse) -> None:
    committed = CURRENT_SCHEMA.read_text(encoding="utf-8") if CURRENT_SCHEMA.exists() else ""
    assert dump_schema(fresh) == committed, (
        f"{CURRENT_SCHEMA.relative_to(ROOT)} is stale: run `{WRITE_COMMAND}` and commit it"
    )


def test_the_reference_has_a_section_for_every_object(fresh: Warehouse) -> None:
    """Each table and view has a heading naming it (`vax.name`); a materialized view is named
    in its table's section; no heading names an object the schema does not hold."""
    text = REFERENCE.read_text(encoding="utf-8")
    headings = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    named = set(re.findall(r"`vax\.(\w+)`", headings))
    held = dict(objects(fresh))
    missing = [
        name
        for name, engine in held.items()
        if (name not in named if engine != "MaterializedView" else f"`{name}`" not in text)
    ]
    assert missing == [], f"docs/warehouse.md has no section for {missing}"
    assert named - set(held) == set(), "docs/warehouse.md has a section for a dropped object"
