"""Superseded dose versions: what a dose said before a correction or a void replaced it.

The registry updates a dose in place (``version + 1``, a new ``recorded_at``), so the
version it replaces is otherwise lost. ``dose_versions`` keeps it: whenever an UPDATE of
``doses`` raises ``version``, a trigger inserts the OLD row's facts — the version, its
status, province, site, product, dose number, administered time and ``recorded_at`` (when
that version was recorded) — with ``superseded_at`` = the NEW row's ``recorded_at``, and a
``change_seq`` taken from the registry's change counter inside the writing transaction
(so the row streams like every other). No citizen_id: the figures "as published on" a day
need none, and personal data stays out. An UPDATE that keeps the version records nothing.

Append-only: triggers refuse any UPDATE or DELETE of ``dose_versions``, on PostgreSQL and
SQLite alike (as ``correction_audit``, migration 0004).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = "dose_versions is append-only"
#: the OLD row's columns copied, in the table's order (then superseded_at and change_seq)
COPIED = ("dose_id", "version", "status", "province_code", "site_id", "vaccine_code",
          "dose_number", "administered_at", "recorded_at")  # fmt: skip
COLUMNS = ", ".join((*COPIED, "superseded_at", "change_seq"))
OLD_VALUES = ", ".join(f"OLD.{column}" for column in COPIED)


def upgrade() -> None:
    op.create_table(
        "dose_versions",
        sa.Column("dose_id", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=5), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("vaccine_code", sa.String(length=32), nullable=False),
        sa.Column("dose_number", sa.SmallInteger(), nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dose_id", "version", name=op.f("pk_dose_versions")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_dose_versions_change_seq")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION dose_versions_record() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE seq bigint; BEGIN "
            "UPDATE change_counter SET value = value + 1 WHERE name = 'global' "
            "RETURNING value INTO seq; "
            f"INSERT INTO dose_versions ({COLUMNS}) "
            f"VALUES ({OLD_VALUES}, NEW.recorded_at, seq); "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER doses_keep_superseded AFTER UPDATE ON doses FOR EACH ROW "
            "WHEN (NEW.version > OLD.version) EXECUTE FUNCTION dose_versions_record()"
        )
        op.execute(
            "CREATE FUNCTION dose_versions_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER dose_versions_append_only BEFORE UPDATE OR DELETE "
            "ON dose_versions FOR EACH ROW EXECUTE FUNCTION dose_versions_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER doses_keep_superseded AFTER UPDATE ON doses FOR EACH ROW "
            "WHEN NEW.version > OLD.version BEGIN "
            "UPDATE change_counter SET value = value + 1 WHERE name = 'global'; "
            f"INSERT INTO dose_versions ({COLUMNS}) "
            f"SELECT {OLD_VALUES}, NEW.recorded_at, value "
            "FROM change_counter WHERE name = 'global'; END"
        )
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER dose_versions_no_{event.lower()} BEFORE {event} "
                f"ON dose_versions BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER doses_keep_superseded ON doses")
        op.execute("DROP FUNCTION dose_versions_record()")
        op.execute("DROP TRIGGER dose_versions_append_only ON dose_versions")
        op.execute("DROP FUNCTION dose_versions_append_only()")
    else:
        op.execute("DROP TRIGGER doses_keep_superseded")
    op.drop_table("dose_versions")
