"""The dose feed: doses with their citizens' identity fields, for the warehouse to pull.

A view, so the warehouse can read increments straight from the registry database with its
own table functions (``sqlite(…)`` / ``postgresql(…)``) — the registry does the join by
primary key and the filter on ``change_seq`` by its unique index; no rows pass through
Python (etl/stream.py).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE VIEW dose_feed AS "
        "SELECT d.change_seq, d.dose_id, d.version, d.status, d.citizen_id, c.full_name, "
        "c.date_of_birth, c.sex, c.phone, d.province_code, d.site_id, d.vaccine_code, "
        "d.lot_number, d.dose_number, d.administered_at "
        "FROM doses AS d JOIN citizens AS c ON c.citizen_id = d.citizen_id"
    )


def downgrade() -> None:
    op.execute("DROP VIEW dose_feed")
