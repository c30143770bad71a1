"""Superseded dose versions (``dose_versions``, migration 0005) on SQLite and PostgreSQL: a
correction and a void each leave the version they replace, with the new version's
recording time as its end; an UPDATE that keeps the version leaves nothing; the rows
cannot be changed or deleted; a seeded registry holds exactly one row per superseded
version, chained without gaps, numbered from the change counter, the same on both
engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from registry import corrections as c
from registry.bulk import BulkWriter
from registry.db import make_engine
from registry.models import STREAMED_TABLES
from registry.simulator import SeedOptions
from tests.integration.registry_helpers import (
    CITIZEN,
    BackgroundSeeds,
    correction_registry,
    frame,
    seeded_registry,
)

pytestmark = pytest.mark.integration

DOSE = "VN000000000001"
RECORDED = pd.Timestamp("2021-08-04 02:31:00", tz=UTC)  # the dose's first recording
CORRECTED = pd.Timestamp("2021-08-12 13:00:00", tz=UTC)
VOIDED = datetime(2021, 9, 20, 3, 0, tzinfo=UTC)
#: errors at 20 times the default rate, so a short campaign corrects and voids many doses
#: (the simulator's corrections and voids, the backlog's approvals)
SEEDED = SeedOptions(scale=0.0002, until=date(2021, 9, 30), seed=11, error_rate=0.1)
BACKGROUND_SEEDS = [("sqlite", SEEDED), ("postgresql", SEEDED)]
FACTS = ("dose_id, version, status, province_code, site_id, vaccine_code, dose_number, "
         "administered_at, recorded_at")  # fmt: skip


@pytest.fixture
def engine(registry_dsn: str) -> Engine:
    return correction_registry(registry_dsn)


def utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="mixed")


def versions(engine: Engine) -> pd.DataFrame:
    found = frame(engine, "SELECT * FROM dose_versions ORDER BY dose_id, version")
    for column in ("administered_at", "recorded_at", "superseded_at"):
        found[column] = utc(found[column])
    return found


def dose_row(engine: Engine) -> dict[str, object]:
    row = frame(engine, f"SELECT {FACTS}, change_seq FROM doses WHERE dose_id = '{DOSE}'")
    for column in ("administered_at", "recorded_at"):
        row[column] = utc(row[column])
    return dict(row.iloc[0])


def correct(engine: Engine) -> None:
    """A new version with another lot, written as the simulator and the live feed write it."""
    with engine.begin() as connection:
        writer = BulkWriter(connection)
        change = pd.DataFrame({"dose_id": [DOSE], "version": [2], "status": ["valid"],
                               "lot_number": ["LOT-2"], "recorded_at": [CORRECTED]})  # fmt: skip
        writer.update("doses", "dose_id", writer.stamp(change))


def test_a_correction_then_a_void_leave_each_superseded_version(engine: Engine) -> None:
    first = dose_row(engine)
    correct(engine)
    second = dose_row(engine)
    found = versions(engine)
    assert len(found) == 1
    kept = found.iloc[0]
    assert {k: kept[k] for k in first if k != "change_seq"} == {
        k: v for k, v in first.items() if k != "change_seq"
    }
    assert kept["recorded_at"] == RECORDED and kept["superseded_at"] == CORRECTED
    # numbered from the change counter, after the new version's own number
    with engine.connect() as connection:
        counter = connection.execute(text("SELECT value FROM change_counter")).scalar_one()
    assert int(second["change_seq"]) < int(kept["change_seq"]) == int(counter)

    # the void: a citizen's 'not mine' approved by the service
    with engine.begin() as connection:
        filed = c.file_request(connection, CITIZEN, "not_mine", {"dose_id": DOSE}, VOIDED)
    with engine.begin() as connection:
        seen = c.record_seq(connection, CITIZEN)
        c.approve(connection, filed.request_id, "", "national", seen, VOIDED)
    assert dose_row(engine)["status"] == "void"
    found = versions(engine)
    assert list(found["version"]) == [1, 2]
    void = found.iloc[1]
    assert void["status"] == "valid"  # what version 2 said until the void
    assert void["recorded_at"] == CORRECTED and void["superseded_at"] == pd.Timestamp(VOIDED)
    assert {k: void[k] for k in second if k != "change_seq"} == {
        k: v for k, v in second.items() if k != "change_seq"
    }
    assert "citizen_id" not in found.columns  # no personal data


def test_an_update_that_keeps_the_version_leaves_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE doses SET lot_number = 'LOT-9', recorded_at = '2021-08-05 01:00:00', "
                "province_code = '79' WHERE dose_id = :d"
            ),
            {"d": DOSE},
        )
        connection.execute(text("UPDATE doses SET version = 1 WHERE dose_id = :d"), {"d": DOSE})
        connection.execute(text("UPDATE citizens SET full_name = 'Nguyen Van Binh'"))
    assert versions(engine).empty


def test_superseded_versions_cannot_be_changed_or_deleted(engine: Engine) -> None:
    correct(engine)
    before = versions(engine)
    for statement in (
        "UPDATE dose_versions SET status = 'void'",
        "UPDATE dose_versions SET superseded_at = recorded_at",
        "DELETE FROM dose_versions",
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    pd.testing.assert_frame_equal(versions(engine), before)


# -- a seeded registry --------------------------------------------------------------------------


def seeded(dsn: str, background_seeds: BackgroundSeeds, backend: str) -> Engine:
    taken = background_seeds.take(backend, SEEDED)
    return make_engine(taken) if taken else seeded_registry(dsn, SEEDED)


def check_one_row_per_superseded_version(engine: Engine) -> pd.DataFrame:
    found = versions(engine)
    doses = frame(engine, f"SELECT {FACTS} FROM doses")
    doses["recorded_at"] = utc(doses["recorded_at"])
    assert int((doses["version"] - 1).sum()) == len(found) > 20
    assert set(found["status"]) == {"valid"}  # a void is never corrected afterwards
    changed = doses[doses["version"] > 1]
    assert set(changed["status"]) == {"valid", "void"}  # corrections and voids
    # every dose of version v has its versions 1 … v-1, each ended when the next was recorded
    chain = pd.concat([found, doses[doses["version"] > 1]], ignore_index=True)
    chain = chain.sort_values(["dose_id", "version"]).reset_index(drop=True)
    first = chain.groupby("dose_id")["version"].transform("min")
    count = chain.groupby("dose_id")["version"].transform("size")
    last = chain.groupby("dose_id")["version"].transform("max")
    assert (first == 1).all() and (count == last).all()
    following = chain.groupby("dose_id")["recorded_at"].shift(-1)
    ended = chain["superseded_at"].notna()
    assert ended.sum() == len(found)
    assert (chain.loc[ended, "superseded_at"] == following[ended]).all()
    assert (chain.loc[ended, "recorded_at"] <= chain.loc[ended, "superseded_at"]).all()
    # numbered from the one counter, like every streamed row
    tables = (*STREAMED_TABLES, "dose_versions")
    union = " UNION ALL ".join(f"SELECT change_seq FROM {table}" for table in tables)
    seqs = frame(engine, union)["change_seq"]
    assert seqs.is_unique
    with engine.connect() as connection:
        counter = connection.execute(text("SELECT value FROM change_counter")).scalar_one()
    assert int(seqs.max()) == int(counter)
    return found


def test_a_seed_leaves_one_row_per_superseded_version_the_same_on_both_engines(
    tmp_path: Path, postgres_dsn: str, background_seeds: BackgroundSeeds
) -> None:
    one = seeded(f"sqlite:///{tmp_path / 'one.sqlite'}", background_seeds, "sqlite")
    two = seeded(postgres_dsn, background_seeds, "postgresql")
    a = check_one_row_per_superseded_version(one)
    b = check_one_row_per_superseded_version(two)
    pd.testing.assert_frame_equal(a, b)
