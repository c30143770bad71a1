"""The registry's sample fraction: the share of the country a simulated registry stands for.

One row at most (``id = 1``): the seed records its scale there; a real registry has no row,
which means the whole country (1.0).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_sample",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("fraction", sa.Double(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_registry_sample_one_row")),
        sa.CheckConstraint(
            "fraction > 0 AND fraction <= 1", name=op.f("ck_registry_sample_fraction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_sample")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_registry_sample_change_seq")),
    )


def downgrade() -> None:
    op.drop_table("registry_sample")
