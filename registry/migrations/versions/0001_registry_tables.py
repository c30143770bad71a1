"""Registry tables: reference data, citizens, sites, registrations, check-ins, doses, stock.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counter")),
    )
    op.execute("INSERT INTO change_counter (name, value) VALUES ('global', 0)")
    op.create_table(
        "provinces",
        sa.Column("gso_code", sa.String(length=2), nullable=False),
        sa.Column("name_vi", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("gso_code", name=op.f("pk_provinces")),
    )
    op.create_table(
        "vaccines",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("manufacturer", sa.String(length=32), nullable=False),
        sa.Column("primary_doses", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("primary_doses BETWEEN 1 AND 3", name=op.f("ck_vaccines_primary_doses")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_vaccines")),
    )
    op.create_table(
        "citizens",
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("full_name", sa.String(length=128), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("residence_province", sa.String(length=2), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("sex IN ('M', 'F', 'O')", name=op.f("ck_citizens_sex")),
        sa.CheckConstraint("length(citizen_id) = 12", name=op.f("ck_citizens_cccd_length")),
        sa.CheckConstraint("length(full_name) > 0", name=op.f("ck_citizens_full_name")),
        sa.ForeignKeyConstraint(
            ["residence_province"],
            ["provinces.gso_code"],
            name=op.f("fk_citizens_residence_province_provinces"),
        ),
        sa.PrimaryKeyConstraint("citizen_id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_citizens_change_seq")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("site_type", sa.String(length=8), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.Column("opens_minute", sa.SmallInteger(), nullable=False),
        sa.Column("closes_minute", sa.SmallInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("site_type IN ('fixed', 'mobile')", name=op.f("ck_sites_site_type")),
        sa.CheckConstraint("daily_capacity > 0", name=op.f("ck_sites_daily_capacity")),
        sa.CheckConstraint(
            "opens_minute >= 0 AND closes_minute <= 1440 AND opens_minute < closes_minute",
            name=op.f("ck_sites_opening_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.gso_code"], name=op.f("fk_sites_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_sites_change_seq")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index("ix_sites_province_code", ["province_code"], unique=False)

    op.create_table(
        "checkins",
        sa.Column(
            "checkin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.citizen_id"], name=op.f("fk_checkins_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_checkins_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("checkin_id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_checkins_change_seq")),
    )
    op.create_table(
        "doses",
        sa.Column("dose_id", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=5), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("vaccine_code", sa.String(length=32), nullable=False),
        sa.Column("lot_number", sa.String(length=32), nullable=False),
        sa.Column("dose_number", sa.SmallInteger(), nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('valid', 'void')", name=op.f("ck_doses_status")),
        sa.CheckConstraint("dose_number BETWEEN 1 AND 5", name=op.f("ck_doses_dose_number")),
        sa.CheckConstraint("length(province_code) = 2", name=op.f("ck_doses_province_code")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_doses_version")),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.citizen_id"], name=op.f("fk_doses_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_doses_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"], ["vaccines.code"], name=op.f("fk_doses_vaccine_code_vaccines")
        ),
        sa.PrimaryKeyConstraint("dose_id", name=op.f("pk_doses")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_doses_change_seq")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.create_index("ix_doses_citizen_id", ["citizen_id"], unique=False)

    op.create_table(
        "registrations",
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'attended', 'cancelled', 'no_show')",
            name=op.f("ck_registrations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.citizen_id"],
            name=op.f("fk_registrations_citizen_id_citizens"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_registrations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_registrations_change_seq")),
    )
    op.create_table(
        "stock_movements",
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("site_id", sa.String(length=16), nullable=True),
        sa.Column("vaccine_code", sa.String(length=32), nullable=False),
        sa.Column("lot_number", sa.String(length=32), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'received' AND quantity > 0) OR kind = 'transferred' OR (kind IN ('administered', 'wasted', 'expired') AND quantity < 0)",
            name=op.f("ck_stock_movements_quantity_sign"),
        ),
        sa.CheckConstraint(
            "(level = 'national' AND province_code IS NULL AND site_id IS NULL) OR (level = 'province' AND province_code IS NOT NULL AND site_id IS NULL) OR (level = 'site' AND province_code IS NOT NULL AND site_id IS NOT NULL)",
            name=op.f("ck_stock_movements_place"),
        ),
        sa.CheckConstraint(
            "kind <> 'transferred' OR transfer_id IS NOT NULL",
            name=op.f("ck_stock_movements_transfer_id"),
        ),
        sa.CheckConstraint(
            "kind IN ('received', 'transferred', 'administered', 'wasted', 'expired')",
            name=op.f("ck_stock_movements_kind"),
        ),
        sa.CheckConstraint(
            "level IN ('national', 'province', 'site')", name=op.f("ck_stock_movements_level")
        ),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_movements_quantity_nonzero")),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.gso_code"],
            name=op.f("fk_stock_movements_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_stock_movements_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"],
            ["vaccines.code"],
            name=op.f("fk_stock_movements_vaccine_code_vaccines"),
        ),
        sa.PrimaryKeyConstraint("movement_id", name=op.f("pk_stock_movements")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_stock_movements_change_seq")),
    )


def downgrade() -> None:
    op.drop_table("stock_movements")
    op.drop_table("registrations")
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.drop_index("ix_doses_citizen_id")

    op.drop_table("doses")
    op.drop_table("checkins")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_province_code")

    op.drop_table("sites")
    op.drop_table("citizens")
    op.drop_table("vaccines")
    op.drop_table("provinces")
    op.drop_table("change_counter")
