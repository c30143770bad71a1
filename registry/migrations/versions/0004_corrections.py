"""Citizens' correction requests and their audit trail.

``correction_requests``: one row per request a citizen files about their record (a missing
dose, a dose that is not theirs, a wrong name, date of birth or sex), with the province
whose officials handle it, the claimed change, its state and who resolved it. Its rows
carry ``change_seq`` like every registry row, so the warehouse streams the public backlog.

``correction_audit``: every action on a request (filed, approved, rejected) with its actor
and the record before and after. Append-only: triggers refuse any UPDATE or DELETE, on
PostgreSQL and SQLite alike.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = "correction_audit is append-only"


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "correction_requests",
        sa.Column("request_id", big_id, nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("dose_id", sa.String(length=24), nullable=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('missing_dose', 'not_mine', 'identity')",
            name=op.f("ck_correction_requests_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'approved', 'rejected')",
            name=op.f("ck_correction_requests_status"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (resolved_at IS NULL)",
            name=op.f("ck_correction_requests_resolved"),
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR length(reason) > 0",
            name=op.f("ck_correction_requests_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.citizen_id"],
            name=op.f("fk_correction_requests_citizen_id_citizens"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_correction_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_correction_requests_reference")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_correction_requests_change_seq")),
    )
    op.create_index(
        "ix_correction_requests_queue",
        "correction_requests",
        ["province_code", "status", "filed_at"],
    )
    op.create_index("ix_correction_requests_citizen_id", "correction_requests", ["citizen_id"])
    op.create_table(
        "correction_audit",
        sa.Column("audit_id", big_id, nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('filed', 'approved', 'rejected')",
            name=op.f("ck_correction_audit_action"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["correction_requests.request_id"],
            name=op.f("fk_correction_audit_request_id_correction_requests"),
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_correction_audit")),
    )
    op.create_index("ix_correction_audit_request_id", "correction_audit", ["request_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION correction_audit_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER correction_audit_append_only BEFORE UPDATE OR DELETE "
            "ON correction_audit FOR EACH ROW EXECUTE FUNCTION correction_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER correction_audit_no_{event.lower()} BEFORE {event} "
                f"ON correction_audit BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER correction_audit_append_only ON correction_audit")
        op.execute("DROP FUNCTION correction_audit_append_only()")
    op.drop_table("correction_audit")
    op.drop_table("correction_requests")
