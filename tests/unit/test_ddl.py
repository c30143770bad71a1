"""Schema files: numbering, notes, repeatable views, and the single-node and cluster
renderings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warehouse.ddl import (
    Renderer,
    SchemaError,
    load_migrations,
    load_repeatables,
    render_schema,
)
from warehouse.migrate import RESTRUCTURED, _check_unchanged

STORED_TABLES = {
    "schema_migrations",
    "dose_ledger",
    "citizen_doses",
    "etl_rejects",
    "etl_checkpoints",
    "coverage_daily",
    "site_hourly",
    "citizen_identity",
    "dose_visits",
    "site_doses",
    "registry_sample",
    "schema_repeatables",
    "correction_requests",
    "coverage_known",
    "dose_revisions",
}


def test_files_are_numbered_without_gaps_and_open_with_a_note() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    for migration in migrations:
        first = migration.source.lstrip().splitlines()[0]
        assert first.startswith("-- "), f"{migration.path.name} must open with a note"


_CREATE_TABLE = re.compile(
    r"CREATE TABLE (?:IF NOT EXISTS )?(?:\{\{ local\('(\w+)'\) \}\}|\{\{ db \}\}\.(\w+))"
)
#: statements that define an object with a note of its own; a note before anything else (a
#: CREATE DATABASE, a DROP) still belongs to the next table
_OBJECT = re.compile(r"CREATE (?:OR REPLACE )?(?:TABLE|VIEW|MATERIALIZED VIEW|DICTIONARY)\b")


def table_notes(source: str) -> list[tuple[str, str, str]]:
    """(table, its note, its statement) for each CREATE TABLE of a schema file: the note is the
    comment written after the previous table or view and before this one."""
    found: list[tuple[str, str, str]] = []
    note: list[str] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if line.startswith("--"):
            note.append(line[2:].strip())
            continue
        if not line:
            continue
        statement = [line]
        while not statement[-1].split("--")[0].rstrip().endswith(";") and index < len(lines):
            if statement[-1].startswith("{{") and statement[-1].endswith("}}"):
                break  # a macro line, such as {{ distributed(...) }}
            statement.append(lines[index].strip())
            index += 1
        text = "\n".join(statement)
        table = _CREATE_TABLE.match(text)
        if table:
            found.append((table.group(1) or table.group(2), " ".join(note), text))
        if _OBJECT.match(text):
            note = []
    return found


def undocumented(name: str, source: str) -> list[str]:
    """What is missing from the notes of a schema file's tables: each sorted table's note says
    how it is queried and names its ORDER BY (or PRIMARY KEY: the words or the key), and
    PARTITION BY if it is partitioned; an unsorted table (Memory, a copy of one) says it is memory or scratch."""
    problems: list[str] = []
    for table, note, statement in table_notes(source):
        lower = note.lower()
        order = re.search(r"^(ORDER BY|PRIMARY KEY) (.+?);?$", statement, re.M)
        if order is None:
            if not any(word in lower for word in ("memory", "scratch")):
                problems.append(f"{name}: {table} has no note saying what it holds (scratch?)")
            continue
        if "quer" not in lower:
            problems.append(f"{name}: {table}'s note does not say how it is queried")
        clause, key = order.groups()
        if clause.lower() not in lower and key.lower() not in lower:
            problems.append(f"{name}: {table}'s note does not explain {clause} {key}")
        if "PARTITION BY" in statement and "partition" not in lower:
            problems.append(f"{name}: {table}'s note does not explain its partitioning")
    return problems


def test_every_stored_table_says_how_it_is_queried() -> None:
    files = [*load_migrations(), *load_repeatables()]
    assert [p for f in files for p in undocumented(f.path.name, f.source)] == []


def test_each_of_0014s_tables_needs_its_own_note() -> None:
    """0014 holds five tables under one opening note: without the four notes that follow it,
    the opening note alone does not pass."""
    source = next(m.source for m in load_migrations() if m.version == 14)
    tables = [t for t, _, _ in table_notes(source)]
    assert tables == ["sites", "stock_movements", "registrations", "checkins", "etl_ops_raw"]
    opening, rest = source.split("\n\n", 1)
    stripped = opening + "\n\n" + re.sub(r"^--.*\n", "", rest, flags=re.M)
    refused = {p.split(": ")[1].split("'")[0].split(" ")[0] for p in undocumented("0014", stripped)}
    assert refused == set(tables) - {"sites"}  # the opening note is sites' own


def test_a_table_without_its_own_note_is_refused() -> None:
    """One note for two tables is not enough: the second table needs its own."""
    source = (
        "-- How they are queried: by site; ORDER BY site_id for that.\n\n"
        "CREATE TABLE IF NOT EXISTS {{ local('a') }} {{ on_cluster }}\n(\n    site_id String\n)\n"
        "ENGINE = {{ engine('MergeTree') }}\nORDER BY site_id;\n\n"
        "{{ distributed('a', 'cityHash64(site_id)') }}\n\n"
        "CREATE TABLE IF NOT EXISTS {{ local('b') }} {{ on_cluster }}\n(\n    day Date\n)\n"
        "ENGINE = {{ engine('MergeTree') }}\nPARTITION BY toYYYYMM(day)\nORDER BY day;\n\n"
        "CREATE TABLE IF NOT EXISTS {{ db }}.c {{ on_cluster }}\n(\n    x UInt8\n)\n"
        "ENGINE = Memory;\n"
    )
    assert [t for t, _, _ in table_notes(source)] == ["a", "b", "c"]
    assert undocumented("0099_new.sql", source) == [
        "0099_new.sql: b's note does not say how it is queried",
        "0099_new.sql: b's note does not explain ORDER BY day",
        "0099_new.sql: b's note does not explain its partitioning",
        "0099_new.sql: c has no note saying what it holds (scratch?)",
    ]


def test_single_node_rendering_has_no_cluster_parts() -> None:
    text = render_schema("vax")
    assert "ON CLUSTER" not in text and "Replicated" not in text and "Distributed" not in text
    assert "_local" not in text
    assert "ENGINE = VersionedCollapsingMergeTree(sign, version)" in text
    assert text.count("non_replicated_deduplication_window") >= 6


def test_cluster_rendering_shape() -> None:
    renderer = Renderer("vax", "national")
    files = [*load_migrations(), *load_repeatables()]
    statements = [s for f in files for s in renderer.statements(f.source)]
    creates = [s for s in statements if s.startswith("CREATE")]
    assert all("ON CLUSTER 'national'" in s for s in creates)

    for table in STORED_TABLES:
        local = [
            s for s in creates if re.match(rf"CREATE TABLE IF NOT EXISTS vax\.{table}_local\b", s)
        ]
        assert len(local) == 1, table
        assert "ENGINE = Replicated" in local[0]
        assert "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'" in local[0]
        dist = [s for s in creates if re.match(rf"CREATE TABLE IF NOT EXISTS vax\.{table} ON", s)]
        assert len(dist) == 1, table
        assert f"ENGINE = Distributed('national', 'vax', '{table}_local'" in dist[0]

    ledger = next(s for s in creates if "vax.dose_ledger_local" in s.split("\n")[0])
    assert "ReplicatedVersionedCollapsingMergeTree(" in ledger and ledger.endswith(
        "SETTINGS non_replicated_deduplication_window = 10000"
    )
    dist_ledger = next(
        s for s in creates if s.startswith("CREATE TABLE IF NOT EXISTS vax.dose_ledger ON")
    )
    assert dist_ledger.rstrip().endswith("cityHash64(citizen_key))"), "sharded by citizen key"

    views = [s for s in creates if "MATERIALIZED VIEW" in s]
    # the ledger's six (citizen index, coverage, coverage by known day, site hours, the
    # dashboards' two) and the lookup's key-value copies
    assert len(views) == 8
    for view in views:  # materialized views read and write the shard's own tables
        assert re.search(r"TO vax\.\w+_local", view)
        assert re.search(r"FROM vax\.(dose_ledger|citizen_identity)_local", view)
    (current,) = [s for s in creates if "VIEW vax.doses_current" in s]
    assert "FROM vax.dose_ledger FINAL" in current  # the Distributed table: across shards


def test_numbered_files_define_no_view() -> None:
    """Views and materialized views have one current file each (views/), never a numbered one."""
    renderer = Renderer("vax")
    for migration in load_migrations():
        for statement in renderer.statements(migration.source):
            assert not re.match(r"CREATE (OR REPLACE )?(MATERIALIZED )?VIEW", statement), (
                migration.path.name
            )


def rerun_problems(name: str, statements: list[str]) -> list[str]:
    """What keeps a repeatable file's statements from running again: a view is created with
    OR REPLACE or after a DROP of its name, a table (Memory scratch only) after a DROP."""
    problems: list[str] = []
    dropped: set[str] = set()
    created: set[str] = set()
    for statement in statements:
        drop = re.match(r"DROP (?:VIEW|TABLE) IF EXISTS (\S+)", statement)
        if drop:
            dropped.add(drop[1])
            continue
        create = re.match(r"CREATE (OR REPLACE )?(MATERIALIZED VIEW|VIEW|TABLE) (\S+)", statement)
        if create is None:
            problems.append(f"{name}: not a CREATE or DROP: {statement.splitlines()[0]}")
            continue
        replace, kind, target = create.groups()
        created.add(target)
        if not replace and target not in dropped:
            problems.append(f"{name}: {target} is created without a DROP before it")
        if kind == "TABLE" and not re.search(r"ENGINE = Memory|\bAS vax\.\w+$", statement):
            problems.append(f"{name}: {target} is a stored table (numbered files create those)")
    if name.removesuffix(".sql") not in {t.removeprefix("vax.") for t in created}:
        problems.append(f"{name}: does not create the object it is named after")
    return problems


def test_repeatable_files_can_run_again() -> None:
    renderer = Renderer("vax")
    repeatables = load_repeatables()
    assert repeatables, "views/ holds the views"
    for repeatable in repeatables:
        statements = renderer.statements(repeatable.source)
        assert rerun_problems(repeatable.path.name, statements) == []
    assert rerun_problems("t.sql", ["CREATE MATERIALIZED VIEW vax.t TO vax.x AS SELECT 1"]) == [
        "t.sql: vax.t is created without a DROP before it"
    ]
    assert rerun_problems(
        "t.sql", ["DROP TABLE IF EXISTS vax.t", "CREATE TABLE vax.t (a UInt8) ENGINE = MergeTree"]
    ) == ["t.sql: vax.t is a stored table (numbered files create those)"]


def test_repeatable_files_come_after_the_views_they_name(tmp_path: Path) -> None:
    (tmp_path / "a_first.sql").write_text(
        "-- reads b_view\nCREATE OR REPLACE VIEW {{ db }}.a_first AS SELECT * FROM {{ db }}.b_view;\n"
    )
    (tmp_path / "b_view.sql").write_text("CREATE OR REPLACE VIEW {{ db }}.b_view AS SELECT 1;\n")
    (tmp_path / "c_other.sql").write_text("CREATE OR REPLACE VIEW {{ db }}.c_other AS SELECT 2;\n")
    assert [r.name for r in load_repeatables(tmp_path)] == ["b_view", "c_other", "a_first"]
    (tmp_path / "b_view.sql").write_text(
        "CREATE OR REPLACE VIEW {{ db }}.b_view AS SELECT * FROM {{ db }}.a_first;\n"
    )
    with pytest.raises(SchemaError, match="cycle"):
        load_repeatables(tmp_path)


def test_restructured_files_are_numbered_files_whose_text_changed() -> None:
    by_version = {m.version: m for m in load_migrations()}
    for version, checksum in RESTRUCTURED.items():
        assert version in by_version and by_version[version].checksum != checksum, version


def test_an_applied_file_is_its_text_or_its_text_before_the_restructuring() -> None:
    by_version = {m.version: m for m in load_migrations()}
    _check_unchanged(by_version[7], by_version[7].checksum)
    _check_unchanged(by_version[7], RESTRUCTURED[7])
    for version, checksum in [(7, RESTRUCTURED[8]), (5, RESTRUCTURED[7]), (5, "0" * 64)]:
        with pytest.raises(SchemaError, match="append-only"):
            _check_unchanged(by_version[version], checksum)


@pytest.mark.parametrize("bad", ["vax;drop", "1vax", "va x", ""])
def test_identifiers_are_checked(bad: str) -> None:
    with pytest.raises(SchemaError):
        Renderer(bad)


def test_statements_drop_comments_and_split() -> None:
    source = "-- note; with a semicolon\nCREATE TABLE {{ local('t') }} (a UInt8) ENGINE = {{ engine('MergeTree') }} ORDER BY a;\n\n{{ distributed('t', 'a') }}"
    assert Renderer("d").statements(source) == [
        "CREATE TABLE d.t (a UInt8) ENGINE = MergeTree() ORDER BY a"
    ]
    assert len(Renderer("d", "c").statements(source)) == 2
