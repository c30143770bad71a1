"""Apply the numbered schema files, idempotently, and record the schema version.

Invariants:

* files are append-only: an applied file whose text changed is an error (add a new file);
* every statement is idempotent (``IF NOT EXISTS``), so a run interrupted between a
  statement and its record resumes cleanly;
* 0001 (database and bookkeeping table) is run on every migrate, before reading the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from warehouse.client import Warehouse
from warehouse.ddl import Migration, Renderer, SchemaError, load_migrations
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    schema_version: int
    applied: list[str] = field(default_factory=list)
    already: int = 0


def applied_migrations(warehouse: Warehouse) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of the applied files; empty when the schema is absent."""
    exists = warehouse.scalar(
        "SELECT count() FROM system.tables WHERE database = {db:String} "
        "AND name = 'schema_migrations'"
    )
    if not exists:
        return {}
    rows = warehouse.rows(sql_beside(__file__, "applied_migrations.sql"))
    return {int(version): (name, checksum) for version, name, checksum in rows}


def schema_version(warehouse: Warehouse) -> int:
    """The highest applied schema file (0 when none)."""
    return max(applied_migrations(warehouse), default=0)


def latest_version() -> int:
    """The highest schema file shipped with this code."""
    return max((m.version for m in load_migrations()), default=0)


def _apply(warehouse: Warehouse, renderer: Renderer, migration: Migration) -> None:
    for statement in renderer.statements(migration.source):
        warehouse.command(statement)


def _record(warehouse: Warehouse, migration: Migration) -> None:
    row = pd.DataFrame(
        {
            "version": [migration.version],
            "name": [migration.name],
            "checksum": [migration.checksum],
            "applied_at": [pd.Timestamp(datetime.now(UTC))],
        }
    )
    warehouse.insert_frame(
        "schema_migrations",
        row,
        dedup_token=f"migration-{migration.version}-{migration.checksum}",
    )


def migrate(warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> MigrationReport:
    """Bring the warehouse schema up to the latest file. Safe to run any number of times."""
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
            if applied[migration.version][1] != migration.checksum:
                raise SchemaError(
                    f"{migration.path.name} changed after it was applied; schema files are "
                    "append-only: restore it and put the change in a new file"
                )
            report.already += 1
            continue
        if progress:
            progress(f"applying {migration.path.name}")
        _apply(warehouse, renderer, migration)
        _record(warehouse, migration)
        report.applied.append(migration.path.name)
        log.info("applied schema file %s", migration.path.name)
    report.schema_version = migrations[-1].version
    return report
