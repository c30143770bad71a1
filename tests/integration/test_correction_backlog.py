"""The simulator's correction requests (registry.backlog, registry.live_backlog) on real
registries: a seeded backlog of every kind and state, each request tied to an error the
simulator injected, resolved after plausible delays with an audit row per action, at the
stated rates; the bulk rows equal the service's; the same seed gives the same backlog on
SQLite and PostgreSQL; the live feed files and resolves."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from geo.calendar import TIME_ZONE
from registry import calibration, corrections, people
from registry import corrections_bulk as rows
from registry.backlog import FILING, REASON_CHANGED, RESOLUTION, SOURCES
from registry.db import make_engine, migrate
from registry.live import LiveFeed
from registry.simulator import (
    QueueCursor,
    SeedOptions,
    SeedReport,
    booster_queue,
    primary_queue,
    read_queue,
    seed,
    series_lengths,
)
from tests.integration.registry_helpers import frame, local, seeded_registry

pytestmark = pytest.mark.integration

#: Errors at 10 % of records (20 times the default), so a small, short campaign has a
#: backlog of every kind and state.
OPTIONS = SeedOptions(scale=0.0003, until=date(2021, 11, 30), seed=5, error_rate=0.1)
#: A smaller one, for the engines and the live feed.
TINY = SeedOptions(scale=0.0002, until=date(2021, 8, 31), seed=5, error_rate=0.1)
NOW = pd.Timestamp("2026-12-07 15:20:00", tz=TIME_ZONE)
VOID_REASON = SOURCES["voided_dose"].reason


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, SeedReport]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('backlog') / 'registry.sqlite'}")
    migrate(engine)
    return engine, seed(engine, OPTIONS)


def requests(engine: Engine) -> pd.DataFrame:
    found = frame(engine, "SELECT * FROM correction_requests ORDER BY request_id")
    found["filed_at"] = local(found["filed_at"])
    found["resolved_at"] = local(found["resolved_at"])
    found["claim"] = found["claim"].map(json.loads)
    return found


def audit(engine: Engine) -> pd.DataFrame:
    found = frame(engine, "SELECT * FROM correction_audit ORDER BY audit_id")
    found["at"] = local(found["at"])
    for column in ("before", "after"):
        found[column] = found[column].map(json.loads)
    return found


def doses(engine: Engine) -> pd.DataFrame:
    found = frame(engine, "SELECT * FROM doses")
    found["administered_at"] = local(found["administered_at"])
    return found.set_index("dose_id", drop=False)


# -- the seeded backlog ---------------------------------------------------------------------------


def test_every_kind_in_every_state(seeded: tuple[Engine, SeedReport]) -> None:
    found = requests(seeded[0])
    counts = found.groupby(["kind", "status"]).size()
    for kind in corrections.KINDS:
        for status in ("open", "approved", "rejected"):
            assert counts.get((kind, status), 0) >= 2, (kind, status, counts)
    # a minority rejected, each with one of the reasons in both languages
    resolved = found[found["status"] != "open"]
    assert 0.1 < (resolved["status"] == "rejected").mean() < 0.4
    reasons = {source.reason for source in SOURCES.values()} | {REASON_CHANGED}
    assert set(found.loc[found["status"] == "rejected", "reason"]) <= reasons
    # the backlog's history spans the campaign's months, and open ones are mostly recent
    assert found["filed_at"].dt.month.nunique() >= 5
    still_open = found[found["status"] == "open"]
    assert still_open["filed_at"].median() > resolved["filed_at"].median()


def test_identity_requests_come_from_misspelt_names(seeded: tuple[Engine, SeedReport]) -> None:
    engine = seeded[0]
    found = requests(engine)
    mine = found[found["kind"] == "identity"].copy()
    trail = audit(engine).set_index(["request_id", "action"])
    citizens = frame(engine, "SELECT citizen_id, full_name FROM citizens").set_index("citizen_id")
    # the name when filed: before the approval, or the name still on record
    approved = mine["status"] == "approved"
    mine["name"] = citizens.loc[mine["citizen_id"], "full_name"].to_numpy()
    mine.loc[approved, "name"] = [
        trail.loc[(r, "approved"), "before"]["identity"]["full_name"]
        for r in mine.loc[approved, "request_id"]
    ]
    claimed = [claim["full_name"] for claim in mine["claim"]]
    assert all(restored is None for restored in people.restore_names(claimed))  # well spelt
    restored = people.restore_names(list(mine["name"]))
    assert all(name is not None for name in restored)  # misspelt when filed
    assert np.mean([a == b for a, b in zip(restored, claimed, strict=True)]) > 0.85
    # an approval corrected the name and gave every dose of theirs on record a new version
    fixed = mine[approved]
    assert (citizens.loc[fixed["citizen_id"], "full_name"].to_numpy() == claimed_of(fixed)).all()
    record = doses(engine)
    theirs = record.merge(fixed[["citizen_id", "resolved_at"]], on="citizen_id")
    later = local(theirs["recorded_at"]) > theirs["resolved_at"]  # recorded after it
    assert later.any() and (theirs.loc[~later, "version"] >= 2).all() and (~later).sum() > 10


def claimed_of(found: pd.DataFrame) -> np.ndarray:
    return np.array([claim["full_name"] for claim in found["claim"]], dtype=object)


def test_not_mine_requests_name_a_copy_of_a_dose(seeded: tuple[Engine, SeedReport]) -> None:
    engine = seeded[0]
    found = requests(engine)
    mine = found[found["kind"] == "not_mine"]
    record = doses(engine)
    ahead = record["administered_at"] > pd.Timestamp("2030-01-01", tz=TIME_ZONE)
    record.loc[ahead, "administered_at"] -= pd.DateOffset(years=10)  # the other injected typo
    for request in mine.itertuples():
        copy = record.loc[request.dose_id]
        original = record.loc[f"VN{int(request.dose_id[2:]) - 1:012d}"]
        assert (copy["citizen_id"], copy["dose_number"], copy["administered_at"]) == (
            original["citizen_id"], original["dose_number"], original["administered_at"]
        )  # fmt: skip
        assert request.claim == {"dose_id": request.dose_id}
        if request.status == "approved":
            assert copy["status"] == "void"  # the original stays (unless the site voided it)


def test_missing_doses_were_given_and_not_recorded_or_voided(
    seeded: tuple[Engine, SeedReport],
) -> None:
    """An approved claim is a dose that was checked in and never recorded, now on record
    as claimed; a voided record's claim is refused."""
    engine = seeded[0]
    found = requests(engine)
    mine = found[found["kind"] == "missing_dose"]
    record = doses(engine)
    checkins = frame(engine, "SELECT citizen_id, site_id, scanned_at FROM checkins")
    checkins["day"] = local(checkins["scanned_at"]).dt.date.astype(str)
    checked_in = set(zip(checkins["citizen_id"], checkins["site_id"], checkins["day"], strict=True))
    own = record[record["dose_id"].str.startswith("VN")]
    given = own.assign(day=own["administered_at"].dt.date.astype(str))
    on_record = set(zip(given["citizen_id"], given["site_id"], given["day"], strict=True))
    voided = given[given["status"] == "void"]
    voided_keys = set(zip(voided["citizen_id"], voided["site_id"], voided["day"], strict=True))
    approved = mine[mine["status"] == "approved"]
    assert len(approved) and len(mine[mine["reason"] == VOID_REASON])
    for request in mine.itertuples():
        claim = request.claim
        key = (request.citizen_id, claim["site_id"], claim["day"])
        assert key in checked_in
        assert (request.filed_at.date() - date.fromisoformat(claim["day"])).days >= FILING.minimum
        if key in voided_keys:
            assert request.status != "approved"
        else:
            assert key not in on_record  # never recorded by the site
        if request.status == "approved":
            added = record.loc[f"VC{request.request_id:012d}"]
            assert (added["citizen_id"], added["site_id"], added["vaccine_code"],
                    added["lot_number"]) == (request.citizen_id, claim["site_id"],
                                             claim["vaccine_code"], claim["lot_number"])  # fmt: skip
            assert str(added["administered_at"].date()) == claim["day"]
    assert (record["dose_id"].str.startswith("VC")).sum() == len(approved)


def test_resolution_delays_and_hours(seeded: tuple[Engine, SeedReport]) -> None:
    found = requests(seeded[0])
    resolved = found[found["status"] != "open"]
    days = (resolved["resolved_at"] - resolved["filed_at"]).dt.total_seconds() / 86_400
    assert (days > 0).all()
    assert RESOLUTION.median / 2 < days.median() < RESOLUTION.median * 2
    assert days.quantile(0.9) > 2 * days.median() and days.max() < 400  # a tail of months
    hour = resolved["resolved_at"].dt.hour + resolved["resolved_at"].dt.minute / 60
    assert hour.between(RESOLUTION.opens_hour, RESOLUTION.closes_hour).all()
    officials = resolved["resolved_by"].str.extract(r"^official-(\d\d)-\d$")[0]
    assert (officials == resolved["province_code"]).all()


def test_one_audit_row_per_action(seeded: tuple[Engine, SeedReport]) -> None:
    engine = seeded[0]
    found = requests(engine).set_index("request_id")
    trail = audit(engine)
    actions = trail.groupby("request_id")["action"].agg(list)
    expected = found["status"].map(
        {"open": ["filed"], "approved": ["filed", "approved"], "rejected": ["filed", "rejected"]}
    )
    assert actions.reindex(found.index).tolist() == expected.tolist()
    filed = trail[trail["action"] == "filed"].set_index("request_id")
    assert (filed["at"] == found.loc[filed.index, "filed_at"]).all()
    assert (filed["actor"] == "citizen").all()
    assert [a["claim"] for a in filed["after"]] == found.loc[filed.index, "claim"].tolist()
    done = trail[trail["action"] != "filed"].set_index("request_id")
    assert (done["at"] == found.loc[done.index, "resolved_at"]).all()
    assert (done["actor"] == found.loc[done.index, "resolved_by"]).all()
    rejected = done[done["action"] == "rejected"]
    assert [a["reason"] for a in rejected["after"]] == found.loc[rejected.index, "reason"].tolist()
    assert trail["audit_id"].is_monotonic_increasing and (trail.groupby("request_id")["at"]
                                                          .is_monotonic_increasing.all())  # fmt: skip


def test_rates_follow_the_stated_shares(seeded: tuple[Engine, SeedReport]) -> None:
    engine, report = seeded
    found = requests(engine)
    by_error = report.corrections
    for name, source in SOURCES.items():
        errors, filed = by_error[name]["errors"], by_error[name]["filed"]
        tolerance = 4 * np.sqrt(source.filing * (1 - source.filing) / errors) + 0.03
        assert errors > 30 and abs(filed / errors - source.filing) < tolerance, (name, by_error)
    assert sum(counts["filed"] for counts in by_error.values()) == len(found)
    # approvals: the shares of the sources, a voided record's claim never
    voided = found["reason"] == VOID_REASON
    identity = found[(found["kind"] == "identity") & (found["status"] != "open")]
    assert abs((identity["status"] == "approved").mean() - SOURCES["misspelt_name"].approval) < 0.2
    assert by_error["voided_dose"]["filed"] >= voided.sum() > 0


def test_the_registry_stays_consistent(seeded: tuple[Engine, SeedReport]) -> None:
    engine = seeded[0]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    record = doses(engine)
    # one change sequence per row across the tables, the counter at the last
    seqs = frame(engine, "SELECT change_seq FROM doses UNION ALL SELECT change_seq FROM citizens "
                 "UNION ALL SELECT change_seq FROM correction_requests")["change_seq"]  # fmt: skip
    assert seqs.is_unique
    recorded = local(frame(engine, "SELECT recorded_at FROM doses")["recorded_at"])
    assert (recorded.to_numpy() >= record["administered_at"].to_numpy()).mean() > 0.99


def test_the_queues_read_the_sites_records_only(seeded: tuple[Engine, SeedReport]) -> None:
    """A dose an approved claim added ("VC…") sorts before every site's record: read by the
    FIFO queues, one not yet due would stop them (the booster drive of December 2021 fell
    short by 7,746 doses at scale 0.01 before they skipped it)."""
    engine = seeded[0]
    vaccines = calibration.vaccines()
    lengths = series_lengths(vaccines)
    added = frame(engine, "SELECT dose_number, vaccine_code FROM doses WHERE dose_id LIKE 'VC%'")
    intervals = vaccines.set_index("code")["min_interval_days"]
    for queue in (primary_queue(lengths, 1, intervals), booster_queue(lengths)):
        sources = {(n, code) for n, codes in queue.sources for code in codes}
        assert any((n, code) in sources for n, code in added.itertuples(index=False))
        with engine.connect() as connection:
            rows, _ = read_queue(connection, QueueCursor(), queue, 10**6, "VN999999999999")
        assert len(rows) and not rows["dose_id"].str.startswith("VC").any()


# -- the rows equal the service's -----------------------------------------------------------------


CITIZENS = ("001190000001", "001190000002", "079195000003")
VACCINE = "EU/1/21/1529"


@pytest.fixture
def small(registry_dsn: str) -> Engine:
    """Three citizens with two doses each (one of them voided for the third) at two sites."""
    engine = make_engine(registry_dsn)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO provinces VALUES ('01', 'Hà Nội'), ('79', 'HCM')"))
        connection.execute(
            text(f"INSERT INTO vaccines VALUES ('{VACCINE}', 'AstraZeneca', 'ORG-100001699', 2)")
        )
        connection.execute(text(
            "INSERT INTO sites VALUES ('01-0001', 'Điểm tiêm số 0001', '01', 'fixed', 500, 420, "
            "1020, 1), ('79-0001', 'Điểm tiêm số 0002', '79', 'fixed', 500, 420, 1020, 2)"
        ))  # fmt: skip
        for n, citizen in enumerate(CITIZENS):
            connection.execute(
                text("INSERT INTO citizens VALUES (:c, 'Nguyen Van An', '1990-05-01', 'M', "
                     "NULL, :p, :seq)"),
                {"c": citizen, "p": citizen[1:3], "seq": 10 + n},
            )  # fmt: skip
            for number, (day, status) in enumerate([("2021-08-04", "valid"),
                                                    ("2021-10-06", ("valid", "void")[n == 2])]):  # fmt: skip
                connection.execute(
                    text("INSERT INTO doses VALUES (:d, 1, :s, :c, '01-0001', '01', :v, 'L1', :n, "
                         ":at, :at, :seq)"),
                    {"d": f"VN{2 * n + number + 1:012d}", "s": status, "c": citizen, "v": VACCINE,
                     "n": number + 1, "at": pd.Timestamp(f"{day} 02:30", tz="UTC").to_pydatetime(),
                     "seq": 20 + 2 * n + number},
                )  # fmt: skip
        connection.execute(text("UPDATE change_counter SET value = 100"))
    return engine


def record_now(engine: Engine, citizen_id: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A citizen's identity and doses as the backlog holds them."""
    identity = frame(engine, "SELECT citizen_id, full_name, date_of_birth, sex, "
                     f"residence_province FROM citizens WHERE citizen_id = '{citizen_id}'")  # fmt: skip
    found = frame(engine, f"SELECT * FROM doses WHERE citizen_id = '{citizen_id}'")
    found["administered_at"] = local(found["administered_at"])
    found["recorded_at"] = local(found["recorded_at"])
    found = found.drop(columns="change_seq").astype({"version": int, "dose_number": int})
    return {k: str(v) for k, v in identity.iloc[0].items()}, found.to_dict("records")


@pytest.mark.parametrize(
    ("citizen_id", "kind", "claim"),
    [
        # a dose before the first: the two after it are renumbered
        (CITIZENS[0], "missing_dose",
         {"day": "2021-07-01", "site_id": "79-0001", "vaccine_code": VACCINE, "lot_number": "L0"}),
        (CITIZENS[1], "not_mine", {"dose_id": "VN000000000004"}),
        (CITIZENS[2], "identity", {"full_name": "Nguyễn Văn An"}),  # both doses, voided too
    ],
)  # fmt: skip
def test_bulk_rows_equal_the_services(
    small: Engine, citizen_id: str, kind: str, claim: dict[str, str]
) -> None:
    names = dict(frame(small, "SELECT site_id, name FROM sites").itertuples(index=False))
    at = NOW.floor("s")
    with small.begin() as connection:
        filed = corrections.file_request(connection, citizen_id, kind, claim, at.to_pydatetime())
        request = corrections.get_request(connection, filed.request_id, "")
    assert request is not None
    identity, before = record_now(small, citizen_id)
    expected = rows.approve(request.request_id, kind, request.claim, request.dose_id, identity,
                            before, at)  # fmt: skip
    with small.begin() as connection:
        corrections.approve(connection, request.request_id, "", "official-01-1",
                            corrections.record_seq(connection, citizen_id), at.to_pydatetime())  # fmt: skip
    stored = frame(small, "SELECT * FROM correction_requests").iloc[0]
    row = rows.request_row(request.request_id, stored["reference"], citizen_id, kind,
                           request.province_code, request.dose_id, request.claim, at)  # fmt: skip
    for name in ("citizen_id", "kind", "province_code", "dose_id", "claim"):
        assert stored[name] == row[name], name
    trail = audit(small)
    assert trail["after"][0] == json.loads(rows.filed_audit(request.request_id, kind,
                                                            request.claim, at)["after"])  # fmt: skip
    approved = rows.approved_audit(
        request.request_id, "official-01-1", at, rows.record(identity, before, names),
        rows.record(expected.identity, expected.doses, names),
    )  # fmt: skip
    assert (trail["before"][1], trail["after"][1]) == (
        json.loads(approved["before"]), json.loads(approved["after"])
    )  # fmt: skip
    identity_after, after = record_now(small, citizen_id)
    assert identity_after == expected.identity
    assert sorted(after, key=lambda d: d["dose_id"]) == sorted(
        expected.doses, key=lambda d: d["dose_id"]
    )
    assert len(expected.changed) == {"missing_dose": 2, "not_mine": 1, "identity": 2}[kind]


# -- reproducible, on both engines ---------------------------------------------------------------


def fingerprint(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    found = requests(engine).drop(columns="change_seq")
    trail = audit(engine).drop(columns="audit_id")
    return found, trail


def test_same_seed_same_backlog_on_both_engines(tmp_path: Path, postgres_dsn: str) -> None:
    one = seeded_registry(f"sqlite:///{tmp_path / 'one.sqlite'}", TINY)
    two = seeded_registry(postgres_dsn, TINY)
    (a, trail_a), (b, trail_b) = fingerprint(one), fingerprint(two)
    assert len(a) > 5
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(trail_a, trail_b)
    fields = "dose_id, version, status, dose_number, citizen_id"
    pd.testing.assert_frame_equal(frame(one, f"SELECT {fields} FROM doses ORDER BY dose_id"),
                                  frame(two, f"SELECT {fields} FROM doses ORDER BY dose_id"))  # fmt: skip
    # the service files after the seed's requests on PostgreSQL too (its id sequence moved)
    citizen = a["citizen_id"].iloc[0]
    with two.begin() as connection:
        filed = corrections.file_request(connection, citizen, "identity", {"sex": "O"})
    assert filed.request_id == int(a["request_id"].max()) + 1


# -- the live feed ----------------------------------------------------------------------------------


def test_the_live_feed_files_and_resolves(registry_dsn: str) -> None:
    engine = seeded_registry(registry_dsn, TINY)
    before = requests(engine)
    feed = LiveFeed(engine, seed=3, error_rate=0.3)
    recorded = feed.backfill(NOW)
    found = requests(engine)
    new = found[~found["request_id"].isin(before["request_id"])]
    # at the seed's rates per dose recorded
    expected = sum(feed.backlog.per_dose.values()) * recorded
    assert len(new) == feed.backlog.filed and abs(len(new) - expected) < 4 * np.sqrt(expected) + 2
    assert set(new["kind"]) == set(corrections.KINDS)
    assert (new["filed_at"] <= NOW).all() and (new["filed_at"] > NOW - timedelta(days=1)).all()
    # officials resolved open ones, oldest first, each with its audit row
    was_open = before[before["status"] == "open"].set_index("request_id")
    now = found.set_index("request_id").loc[was_open.index]
    done = now[now["status"] != "open"]
    assert len(done) == feed.backlog.resolved > 0
    assert done["filed_at"].max() <= now.loc[now["status"] == "open", "filed_at"].min()
    trail = audit(engine)
    assert set(trail.loc[trail["request_id"].isin(done.index), "action"]) <= {
        "filed", "approved", "rejected"
    }  # fmt: skip
    assert (
        trail["request_id"].isin(new["request_id"]) & (trail["action"] == "filed")
    ).sum() == len(new)
    # live requests are about errors: identity claims well-spelt names of misspelt holders
    identity = new[new["kind"] == "identity"]
    assert all(r is None for r in people.restore_names(list(claimed_of(identity))))
