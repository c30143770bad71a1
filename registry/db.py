"""Connecting to the registry database, migrating it, and handing out change sequences.

`VAX_SOURCE_DSN` is a SQLAlchemy URL: a SQLite file by default, PostgreSQL in production
(``postgresql+psycopg://…``). SQLite connections enforce foreign keys and use WAL, so the
ETL can read while a writer records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
COUNTER = "global"


class RegistryError(Exception):
    """The registry database cannot be used as asked; the message says why."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def make_engine(dsn: str) -> Engine:
    """An engine for `dsn`; creates the SQLite file's directory when needed."""
    url = make_url(dsn)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise RegistryError(
        f"unsupported registry database {url.get_backend_name()!r}: use sqlite:///file or "
        "postgresql+psycopg://…"
    )


def migrate(engine: Engine) -> str:
    """Apply the Alembic migrations up to head; returns the head revision."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per revision is noise
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    return str(revision)


def allocate_changes(connection: Connection, count: int) -> int:
    """Reserve `count` change sequence numbers; returns the first. Call inside the writing
    transaction: the counter row stays locked until commit, so sequence order is commit order.
    """
    if count <= 0:
        raise ValueError("allocate at least one change sequence number")
    last = connection.execute(
        text("UPDATE change_counter SET value = value + :n WHERE name = :name RETURNING value"),
        {"n": count, "name": COUNTER},
    ).scalar_one()
    return int(last) - count + 1


def last_change(connection: Connection) -> int:
    """The highest change sequence number handed out so far."""
    return int(
        connection.execute(
            text("SELECT value FROM change_counter WHERE name = :name"), {"name": COUNTER}
        ).scalar_one()
    )
