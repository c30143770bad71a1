"""Schema files: numbering, notes, and the single-node and cluster renderings."""

from __future__ import annotations

import re

import pytest

from warehouse.ddl import Renderer, SchemaError, load_migrations, render_schema

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
}


def test_files_are_numbered_without_gaps_and_open_with_a_note() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    for migration in migrations:
        first = migration.source.lstrip().splitlines()[0]
        assert first.startswith("-- "), f"{migration.path.name} must open with a note"


def test_every_stored_table_says_how_it_is_queried() -> None:
    for migration in load_migrations():
        if "engine(" in migration.source:
            note = migration.source.split("CREATE")[0].lower()
            assert "quer" in note and "order by" in note, migration.path.name


def test_single_node_rendering_has_no_cluster_parts() -> None:
    text = render_schema("vax")
    assert "ON CLUSTER" not in text and "Replicated" not in text and "Distributed" not in text
    assert "_local" not in text
    assert "ENGINE = VersionedCollapsingMergeTree(sign, version)" in text
    assert text.count("non_replicated_deduplication_window") >= 6


def test_cluster_rendering_shape() -> None:
    renderer = Renderer("vax", "national")
    statements = [s for m in load_migrations() for s in renderer.statements(m.source)]
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
    # doses_by_citizen_mv (0003, dropped by 0012), three live ones, the dashboards' two (0015)
    # and the lookup's key-value copies (0016, 0017)
    assert len(views) == 8
    for view in views:  # materialized views read and write the shard's own tables
        assert re.search(r"TO vax\.\w+_local", view)
        assert re.search(r"FROM vax\.(dose_ledger|citizen_identity)_local", view)
    current = [s for s in creates if "VIEW vax.doses_current" in s][-1]  # latest definition
    assert "FROM vax.dose_ledger FINAL" in current  # the Distributed table: across shards


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
