"""The operational registry on SQLite and PostgreSQL: schema, constraints, change sequence."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from registry.db import allocate_changes, last_change, make_engine, migrate
from registry.models import Base

pytestmark = pytest.mark.integration

NOW = datetime(2021, 8, 4, 2, 30, tzinfo=UTC)


@pytest.fixture
def engine(registry_dsn: str) -> Engine:
    engine = make_engine(registry_dsn)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO provinces VALUES ('01', 'Hà Nội'), ('79', 'Hồ Chí Minh')")
        )
        connection.execute(
            text("INSERT INTO vaccines VALUES ('EU/1/21/1529', 'AstraZeneca', 'ORG-100001699', 2)")
        )
        connection.execute(
            text(
                "INSERT INTO sites VALUES ('01-0001', 'Điểm tiêm số 0001', '01', 'fixed', 500, "
                "420, 1020, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO citizens VALUES ('001190000001', 'Nguyễn Văn An', '1990-05-01', 'M', "
                "'0912345678', '01', 2)"
            )
        )
        connection.execute(text("UPDATE change_counter SET value = 2"))
    return engine


def insert_dose(engine: Engine, **changes: object) -> None:
    row: dict[str, object] = {
        "dose_id": "VN000000000001",
        "version": 1,
        "status": "valid",
        "citizen_id": "001190000001",
        "site_id": "01-0001",
        "province_code": "01",
        "vaccine_code": "EU/1/21/1529",
        "lot_number": "ASTR-2108",
        "dose_number": 1,
        "administered_at": NOW,
        "recorded_at": NOW,
    }
    row.update(changes)
    from registry.models import Dose

    with engine.begin() as connection:
        row["change_seq"] = allocate_changes(connection, 1)
        connection.execute(Dose.__table__.insert(), row)


def test_migrations_are_idempotent_and_match_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert migrate(engine) == "0005"
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_valid_dose_is_stored_with_utc_instants(engine: Engine) -> None:
    insert_dose(engine)
    from registry.models import Dose

    with engine.connect() as connection:
        stored = connection.execute(Dose.__table__.select()).mappings().one()
    assert stored["administered_at"] == NOW
    assert stored["administered_at"].tzinfo is not None


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"site_id": "99-9999"}, "unknown site"),
        ({"dose_number": 6}, "dose number above 5"),
        ({"dose_number": 0}, "dose number below 1"),
        ({"status": "gone"}, "status"),
        ({"vaccine_code": "NOT-A-VACCINE"}, "unknown vaccine"),
        ({"citizen_id": "000000000000"}, "unknown citizen"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_doses_are_refused(engine: Engine, changes: dict[str, object], constraint: str) -> None:
    with pytest.raises(IntegrityError):
        insert_dose(engine, **changes)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM doses")).scalar_one() == 0, constraint


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        insert_dose(engine, administered_at=datetime(2021, 8, 4, 9, 30))


def test_bad_stock_movements_are_refused(engine: Engine) -> None:
    base = (
        "INSERT INTO stock_movements (movement_id, kind, level, province_code, site_id, "
        "vaccine_code, lot_number, expiry_date, quantity, moved_at, transfer_id, change_seq) "
        "VALUES (1, :kind, :level, :province, :site, 'EU/1/21/1529', 'L1', '2022-01-01', "
        ":quantity, '2021-08-01 00:00:00', NULL, 10)"
    )
    good = {
        "kind": "received",
        "level": "national",
        "province": None,
        "site": None,
        "quantity": 100,
    }
    for bad in (
        {"quantity": -100},  # a receipt adds stock
        {"kind": "administered"},  # use removes stock
        {"level": "site"},  # a site movement names its site
        {"kind": "transferred"},  # a transfer has a transfer id
    ):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(base), {**good, **bad})
    with engine.begin() as connection:
        connection.execute(text(base), good)


def test_change_sequence_is_strictly_increasing(engine: Engine) -> None:
    with engine.begin() as connection:
        first = allocate_changes(connection, 10)
        second = allocate_changes(connection, 5)
        assert (first, second, last_change(connection)) == (3, 13, 17)


def test_writers_serialise_on_the_change_counter(postgres_dsn: str) -> None:
    """A second writer cannot take numbers until the first commits: sequence = commit order.
    (On SQLite one write transaction at a time is the engine's own rule.)"""
    engine = make_engine(postgres_dsn)
    migrate(engine)
    holding = threading.Event()
    release = threading.Event()

    def first_writer() -> None:
        with engine.begin() as connection:
            allocate_changes(connection, 1)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert holding.wait(10)
    try:
        with pytest.raises(OperationalError, match="lock timeout"), engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '300ms'"))
            allocate_changes(connection, 1)
    finally:
        release.set()
        thread.join()
    with engine.begin() as connection:
        assert allocate_changes(connection, 1) == 2


def test_unsupported_database_is_a_clear_error() -> None:
    from registry.db import RegistryError

    with pytest.raises(RegistryError, match="unsupported registry database"):
        make_engine("mysql://localhost/registry")


def test_dates_round_trip(engine: Engine) -> None:
    with engine.connect() as connection:
        born = connection.execute(text("SELECT date_of_birth FROM citizens")).scalar_one()
    assert str(born) == str(date(1990, 5, 1))


def test_the_bulk_path_refuses_bad_stock_movements(engine: Engine) -> None:
    """The seed's own write path (SQLite's staging table, PostgreSQL's COPY) keeps every
    check: one bad row refuses the whole batch, and a good batch lands exactly."""
    import pandas as pd

    from registry.bulk import BulkWriter

    at = pd.Timestamp("2021-08-01 07:00", tz="Asia/Ho_Chi_Minh")
    good = pd.DataFrame(
        {
            "movement_id": [1, 2],
            "kind": ["received", "transferred"],
            "level": ["national", "national"],
            "province_code": [None, None],
            "site_id": [None, None],
            "vaccine_code": ["EU/1/21/1529"] * 2,
            "lot_number": ["ASTR-2108"] * 2,
            "expiry_date": pd.Timestamp("2022-01-01"),
            "quantity": [100, -40],
            "moved_at": [at, at],
            "transfer_id": pd.array([None, 1], dtype="Int64"),
            "change_seq": [10, 11],
        }
    )
    for bad in ({"quantity": [-100, -40]}, {"kind": ["received", "stolen"]}):
        with pytest.raises(Exception, match=r"(?i)check"), engine.begin() as connection:
            BulkWriter(connection).insert("stock_movements", good.assign(**bad))
    with engine.begin() as connection:
        BulkWriter(connection).insert("stock_movements", good)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT kind, quantity, transfer_id FROM stock_movements ORDER BY movement_id")
        ).fetchall()
    assert [tuple(row) for row in rows] == [("received", 100, None), ("transferred", -40, 1)]
