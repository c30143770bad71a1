"""Apply the schema files, idempotently, and record what was applied.

Invariants:

* numbered files are append-only: an applied file whose text changed is an error (add a new
  file); the one exception is `RESTRUCTURED`, the earlier text of the files whose views moved
  to repeatable files;
* every statement is idempotent (``IF NOT EXISTS``, ``DROP … IF EXISTS`` before a
  ``CREATE``), so a run interrupted between a statement and its record resumes cleanly;
* 0001 (database and bookkeeping table) is run on every migrate, before reading the record;
* the repeatable files (``views/``) apply after every numbered file, in dependency order,
  each when its text differs from the one recorded in ``schema_repeatables``;
* the schema version is the highest numbered file applied: repeatable files do not change it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from warehouse.client import Warehouse
from warehouse.ddl import (
    Migration,
    Renderer,
    SchemaError,
    SchemaFile,
    load_migrations,
    load_repeatables,
)
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)


#: The text of numbered files as it was before their views and materialized views moved to
#: repeatable files (views/) and each table's first definition became its current one (commit
#: a472052), by version: its sha256. A database that applied that text holds the same tables,
#: and the repeatable files bring its views to the same definitions, so it is accepted
#: (tests/integration/test_migrate_layout.py migrates such a database). Never add to it.
RESTRUCTURED: dict[int, str] = {
    3: "18563b75b629c0b93dbc4fd3b9a0fb55a7687618b7a60ae2015e50bc01d7a4bc",
    4: "4bcfe33fe9c0568e798cee9b7827d8771bfb256ac367500063a8ae116114acea",
    7: "991093fb0e5d8e382bfe714f45661648dcd37e15bc216613adf0daef7a33b81c",
    8: "9a0a5f34a52092d6223300f36e5614d46401c11fd15e662c17553fa4f0215572",
    9: "53337df3f034b1504a2ef420539025516e3bad77f9fc10d0f4ea2cb33fb3f3f6",
    10: "a39553a3c49f2dc283d3b25d49e9c4b52f9517e6b91e968699c385448be8b338",
    11: "4bdb63862f2a9800d3848a02c4a6a2526ac0b8bce0ef634f80d2d5237cc97da5",
    12: "12feec60fb53574ae28d1ae9161862026b85fde3a0cf474fdb09a7df35504aca",
    13: "c23eba1d189b434fc05447e44068c3451bb3a3d9379098a8694081da7c250fdf",
    15: "d376eecb24fdc1773c4bbbe61b5581ca514d136a7e1ed60d26c024b6315f1c0b",
    16: "14ef177a57b5db5ad3fcbea22940ecf2315912ce4313b6f458b2295a2c4c19ab",
    17: "fd9a132b4d924d704f6a66b129271b417fb468f71f6cdcbacb8165d9be0c4cfb",
    18: "d4869da927e9c39b8530c781f0217f40af55a1765b5244fe9590e27f3b57ec8a",
}


@dataclass
class MigrationReport:
    schema_version: int
    applied: list[str] = field(default_factory=list)
    already: int = 0
    views: list[str] = field(default_factory=list)


def _has_table(warehouse: Warehouse, name: str) -> bool:
    return bool(
        warehouse.scalar(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            {"t": name},
        )
    )


def applied_migrations(warehouse: Warehouse) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of the applied files; empty when the schema is absent."""
    if not _has_table(warehouse, "schema_migrations"):
        return {}
    rows = warehouse.rows(sql_beside(__file__, "applied_migrations.sql"))
    return {int(version): (name, checksum) for version, name, checksum in rows}


def applied_repeatables(warehouse: Warehouse) -> dict[str, str]:
    """name -> checksum of the repeatable files applied; empty before the record exists."""
    if not _has_table(warehouse, "schema_repeatables"):
        return {}
    rows = warehouse.rows(sql_beside(__file__, "applied_repeatables.sql"))
    return {name: checksum for name, checksum in rows}


def schema_version(warehouse: Warehouse) -> int:
    """The highest applied schema file (0 when none)."""
    return max(applied_migrations(warehouse), default=0)


def latest_version() -> int:
    """The highest schema file shipped with this code."""
    return max((m.version for m in load_migrations()), default=0)


def _apply(warehouse: Warehouse, renderer: Renderer, file: SchemaFile) -> None:
    for statement in renderer.statements(file.source):
        warehouse.command(statement)


def _record(warehouse: Warehouse, file: SchemaFile) -> None:
    """Note an applied file in schema_migrations (numbered) or schema_repeatables (views/)."""
    now = pd.Timestamp(datetime.now(UTC))
    if isinstance(file, Migration):
        table, token = "schema_migrations", f"migration-{file.version}-{file.checksum}"
        row = {"version": [file.version], "name": [file.name]}
    else:  # applied again after each change of text, so its own token each time
        table, token = "schema_repeatables", f"repeatable-{file.name}-{uuid.uuid4().hex}"
        row = {"name": [file.name]}
    row.update(checksum=[file.checksum], applied_at=[now])
    warehouse.insert_frame(table, pd.DataFrame(row), dedup_token=token)


def _check_unchanged(migration: Migration, checksum: str) -> None:
    """Refuse an applied file whose recorded checksum is neither its text's nor, for a file in
    `RESTRUCTURED`, its earlier text's."""
    if checksum in (migration.checksum, RESTRUCTURED.get(migration.version)):
        return
    raise SchemaError(
        f"{migration.path.name} changed after it was applied; schema files are "
        "append-only: restore it and put the change in a new file"
    )


def migrate(warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> MigrationReport:
    """Bring the warehouse schema up to the latest files: the numbered files not applied yet,
    then each repeatable file whose text is not the one last applied. Safe to run any number
    of times."""
    migrations = load_migrations()
    renderer = Renderer(warehouse.database, warehouse.cluster)
    _apply(warehouse, renderer, migrations[0])  # database + bookkeeping, idempotent

    applied = applied_migrations(warehouse)
    unknown = sorted(set(applied) - {m.version for m in migrations})
    if unknown:
        raise SchemaError(
            f"the warehouse has schema versions {unknown} that this code does not know: "
            "it was migrated by newer code; upgrade this code instead"
        )
    report = MigrationReport(schema_version=0)
    for migration in migrations:
        if migration.version in applied:
            _check_unchanged(migration, applied[migration.version][1])
            report.already += 1
            continue
        if progress:
            progress(f"applying {migration.path.name}")
        _apply(warehouse, renderer, migration)
        _record(warehouse, migration)
        report.applied.append(migration.path.name)
        log.info("applied schema file %s", migration.path.name)
    report.schema_version = migrations[-1].version

    recorded = applied_repeatables(warehouse)
    for repeatable in load_repeatables():
        if recorded.get(repeatable.name) == repeatable.checksum:
            continue
        if progress:
            progress(f"applying views/{repeatable.path.name}")
        _apply(warehouse, renderer, repeatable)
        _record(warehouse, repeatable)
        report.views.append(repeatable.name)
        log.info("applied repeatable schema file views/%s", repeatable.path.name)
    return report
