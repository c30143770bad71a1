"""The operational registry's tables (SQLAlchemy 2.x): what vaccination sites record.

Every table carries ``change_seq``: a number from one registry-wide, strictly increasing
counter (`ChangeCounter`), set whenever a row is inserted or changed. The ETL pulls
increments exactly with ``WHERE change_seq > :checkpoint ORDER BY change_seq``. The counter
row is updated inside the writing transaction, so writers serialise on it and sequence
order is commit order: a reader never sees seq N+1 before seq N is visible.

Times are instants stored in UTC (`UtcDateTime`: ``timestamptz`` on PostgreSQL, UTC text on
SQLite); Vietnam local time is a presentation concern. Constraints refuse bad writes (an
unknown site, a dose number outside 1–5, a malformed CCCD) rather than storing them.
The province a dose reports is kept as reported (checked only for shape): wrong codes are
real-world input that the ETL, not the registry, must catch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STOCK_KINDS = ("received", "transferred", "administered", "wasted", "expired")
STOCK_LEVELS = ("national", "province", "site")
CORRECTION_KINDS = ("missing_dose", "not_mine", "identity")
CORRECTION_STATES = ("open", "approved", "rejected")


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC, returned timezone-aware in UTC; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("registry times must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


#: A 64-bit integer key; on SQLite exactly "INTEGER PRIMARY KEY" (the rowid, no extra index).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def change_seq_column() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, unique=True)


class ChangeCounter(Base):
    """The registry-wide change sequence: one row, `value` = the last number handed out."""

    __tablename__ = "change_counter"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Province(Base):
    """The 63 provinces (reference data, GSO codes)."""

    __tablename__ = "provinces"

    gso_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(64), nullable=False)


class Vaccine(Base):
    """Vaccine products, keyed by their EU DCC value-set code (reference data)."""

    __tablename__ = "vaccines"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    manufacturer: Mapped[str] = mapped_column(String(32), nullable=False)
    primary_doses: Mapped[int] = mapped_column(SmallInteger, nullable=False)

    __table_args__ = (CheckConstraint("primary_doses BETWEEN 1 AND 3", name="primary_doses"),)


class Citizen(Base):
    __tablename__ = "citizens"

    citizen_id: Mapped[str] = mapped_column(String(12), primary_key=True)  # CCCD
    full_name: Mapped[str] = mapped_column(String(128), nullable=False)
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(16))
    residence_province: Mapped[str] = mapped_column(
        ForeignKey("provinces.gso_code"), nullable=False
    )
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint("length(citizen_id) = 12", name="cccd_length"),
        CheckConstraint("sex IN ('M', 'F', 'O')", name="sex"),
        CheckConstraint("length(full_name) > 0", name="full_name"),
        # SQLite: one B-tree keyed by the ID instead of a rowid table plus a key index
        {"sqlite_with_rowid": False},
    )


class Site(Base):
    """A vaccination site: fixed (health station, hospital) or mobile team."""

    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.gso_code"), nullable=False)
    site_type: Mapped[str] = mapped_column(String(8), nullable=False)
    daily_capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    opens_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # local, 0-1439
    closes_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint("site_type IN ('fixed', 'mobile')", name="site_type"),
        CheckConstraint("daily_capacity > 0", name="daily_capacity"),
        CheckConstraint(
            "opens_minute >= 0 AND closes_minute <= 1440 AND opens_minute < closes_minute",
            name="opening_hours",
        ),
        Index("ix_sites_province_code", "province_code"),
    )


class Registration(Base):
    """A pre-registration from the phone app: a citizen books a slot at a site."""

    __tablename__ = "registrations"

    registration_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("citizens.citizen_id"), nullable=False)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), nullable=False)
    slot_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint("status IN ('booked', 'attended', 'cancelled', 'no_show')", name="status"),
    )


class CheckIn(Base):
    """A QR scan at the site's desk, minutes before the dose."""

    __tablename__ = "checkins"

    checkin_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), nullable=False)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("citizens.citizen_id"), nullable=False)
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    change_seq: Mapped[int] = change_seq_column()


class Dose(Base):
    """A dose event. Corrections raise `version`; a void sets `status` = 'void'."""

    __tablename__ = "doses"

    dose_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(5), nullable=False, default="valid")
    citizen_id: Mapped[str] = mapped_column(ForeignKey("citizens.citizen_id"), nullable=False)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), nullable=False)
    province_code: Mapped[str] = mapped_column(String(2), nullable=False)  # as reported
    vaccine_code: Mapped[str] = mapped_column(ForeignKey("vaccines.code"), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(32), nullable=False)
    dose_number: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    administered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("status IN ('valid', 'void')", name="status"),
        CheckConstraint("dose_number BETWEEN 1 AND 5", name="dose_number"),
        CheckConstraint("length(province_code) = 2", name="province_code"),
        Index("ix_doses_citizen_id", "citizen_id"),
        # SQLite: rows clustered by dose_id (issued in time order): appends, and ordered scans
        # read the rows themselves
        {"sqlite_with_rowid": False},
    )


class StockMovement(Base):
    """One change of vaccine stock at one place, signed: + in, - out.

    Stock on hand at a place = the sum of `quantity` of its movements (per product and lot).
    A transfer is two rows sharing `transfer_id`: -q at the source, +q at the destination.
    """

    __tablename__ = "stock_movements"

    movement_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    province_code: Mapped[str | None] = mapped_column(ForeignKey("provinces.gso_code"))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.site_id"))
    vaccine_code: Mapped[str] = mapped_column(ForeignKey("vaccines.code"), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(32), nullable=False)
    expiry_date: Mapped[date] = mapped_column(Date, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    moved_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint(f"kind IN {STOCK_KINDS}", name="kind"),
        CheckConstraint(f"level IN {STOCK_LEVELS}", name="level"),
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
        CheckConstraint(
            "(kind = 'received' AND quantity > 0) OR kind = 'transferred' OR "
            "(kind IN ('administered', 'wasted', 'expired') AND quantity < 0)",
            name="quantity_sign",
        ),
        CheckConstraint(
            "(level = 'national' AND province_code IS NULL AND site_id IS NULL) OR "
            "(level = 'province' AND province_code IS NOT NULL AND site_id IS NULL) OR "
            "(level = 'site' AND province_code IS NOT NULL AND site_id IS NOT NULL)",
            name="place",
        ),
        CheckConstraint("kind <> 'transferred' OR transfer_id IS NOT NULL", name="transfer_id"),
    )


class RegistrySample(Base):
    """The share of the country this registry stands for: one row in a simulated registry
    (the seed's scale: 0.01 holds 1 % of the campaign's doses), none in a real one, whose
    fraction is 1.0. Every denominator downstream is the population times this fraction
    (``registry.sample``)."""

    __tablename__ = "registry_sample"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    fraction: Mapped[float] = mapped_column(Double, nullable=False)
    simulated: Mapped[bool] = mapped_column(Boolean, nullable=False)
    description: Mapped[str] = mapped_column(String(256), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("fraction > 0 AND fraction <= 1", name="fraction"),
    )


class CorrectionRequest(Base):
    """A citizen's request to correct their record (`registry.corrections`): a missing dose,
    a dose that is not theirs, or a wrong name, date of birth or sex. `province_code` is the
    province whose officials handle it; `claim` the claimed change (JSON); `status` open,
    then approved or rejected (with the `reason` the citizen reads) by `resolved_by`."""

    __tablename__ = "correction_requests"

    request_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("citizens.citizen_id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    province_code: Mapped[str] = mapped_column(String(2), nullable=False)
    dose_id: Mapped[str | None] = mapped_column(String(24))
    claim: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = (
        CheckConstraint(f"kind IN {CORRECTION_KINDS}", name="kind"),
        CheckConstraint(f"status IN {CORRECTION_STATES}", name="status"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved"),
        CheckConstraint("status <> 'rejected' OR length(reason) > 0", name="reason"),
        Index("ix_correction_requests_queue", "province_code", "status", "filed_at"),
        Index("ix_correction_requests_citizen_id", "citizen_id"),
    )


class CorrectionAudit(Base):
    """Every action on a correction request, who took it and the record before and after
    (JSON). Append-only: the database's triggers refuse UPDATE and DELETE (migration 0004)."""

    __tablename__ = "correction_audit"

    audit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("correction_requests.request_id"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    before: Mapped[str] = mapped_column(Text, nullable=False)
    after: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (
        CheckConstraint("action IN ('filed', 'approved', 'rejected')", name="action"),
        Index("ix_correction_audit_request_id", "request_id"),
    )


class DoseVersion(Base):
    """A dose's version that a later one superseded (a correction or a void): the OLD row's
    facts, when that version was recorded (`recorded_at`) and when the next one replaced it
    (`superseded_at`, the new version's ``recorded_at``). Written only by the database's
    trigger on ``doses`` (an UPDATE that raises ``version``), with a ``change_seq`` from the
    change counter; no citizen_id. Append-only: triggers refuse UPDATE and DELETE
    (migration 0005)."""

    __tablename__ = "dose_versions"

    dose_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(5), nullable=False)
    province_code: Mapped[str] = mapped_column(String(2), nullable=False)
    site_id: Mapped[str] = mapped_column(String(16), nullable=False)
    vaccine_code: Mapped[str] = mapped_column(String(32), nullable=False)
    dose_number: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    administered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    superseded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    change_seq: Mapped[int] = change_seq_column()

    __table_args__ = ({"sqlite_with_rowid": False},)


#: Tables the ETL streams, in the order a consistent snapshot should be read.
STREAMED_TABLES = (
    "citizens",
    "sites",
    "registrations",
    "checkins",
    "doses",
    "stock_movements",
    "registry_sample",
    "correction_requests",
)
