"""Correction requests in the registry (registry.corrections) on SQLite and PostgreSQL: every
kind filed and approved as the registry records changes, rejections with their reason,
duplicate and conflicting requests, the provincial scope, an approval refused when the record
changed meanwhile, and an audit trail the database will not let anyone edit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from registry import corrections as c
from tests.integration.registry_helpers import CITIZEN, VACCINE, correction_registry

pytestmark = pytest.mark.integration

NOW = datetime(2021, 9, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def engine(registry_dsn: str) -> Engine:
    return correction_registry(registry_dsn)


MISSING = {"day": "2021-09-01", "site_id": "79-0001", "vaccine_code": VACCINE, "lot_number": "L2"}


def file(engine: Engine, kind: str, claim: dict[str, object]) -> c.Filed:
    with engine.begin() as connection:
        return c.file_request(connection, CITIZEN, kind, claim, NOW)


def refused(engine: Engine, code: str, action: object, *arguments: object) -> str:
    with pytest.raises(c.CorrectionError) as error, engine.begin() as connection:
        action(connection, *arguments)  # type: ignore[operator]
    assert error.value.code == code, error.value
    return str(error.value)


def seq_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return c.record_seq(connection, CITIZEN)


def doses(engine: Engine) -> list[tuple[str, int, str, int]]:
    with engine.connect() as connection:
        return [
            (str(d), int(v), str(s), int(n))
            for d, v, s, n in connection.execute(
                text("SELECT dose_id, version, status, dose_number FROM doses ORDER BY dose_id")
            )
        ]


def test_a_missing_dose_is_filed_then_approved_as_a_new_dose(engine: Engine) -> None:
    filed = file(engine, "missing_dose", MISSING)
    assert re.fullmatch(r"VX-[2-9A-HJKMNP-Z]{10}", filed.reference)
    assert filed.province_code == "79"  # the site's province handles it
    with engine.connect() as connection:
        assert c.get_request(connection, filed.request_id, "01") is None  # not Hà Nội's
        assert [r.request_id for r in c.queue(connection, "79")] == [filed.request_id]
        assert c.queue(connection, "01") == []
    refused(engine, "not_found", c.approve, filed.request_id, "01", "hanoi", seq_of(engine))
    with engine.begin() as connection:
        c.approve(connection, filed.request_id, "79", "hcm-official", seq_of(engine))
    assert doses(engine) == [
        ("VC000000000001", 1, "valid", 2),
        ("VN000000000001", 1, "valid", 1),
    ]
    with engine.connect() as connection:
        request = c.get_request(connection, filed.request_id, "")
        trail = c.audit_trail(connection, filed.request_id)
    assert request is not None and request.status == "approved"
    assert request.resolved_by == "hcm-official"
    assert [(a.action, a.actor) for a in trail] == [
        ("filed", "citizen"),
        ("approved", "hcm-official"),
    ]
    assert len(trail[1].before["doses"]) == 1 and len(trail[1].after["doses"]) == 2
    # resolved once: a second approval (another official, a replayed form) is refused
    refused(engine, "resolved", c.approve, filed.request_id, "", "national", seq_of(engine))


def test_a_dose_that_is_not_theirs_is_voided(engine: Engine) -> None:
    filed = file(engine, "not_mine", {"dose_id": "VN000000000001"})
    assert filed.province_code == "01"
    with engine.begin() as connection:
        c.approve(connection, filed.request_id, "", "national", c.record_seq(connection, CITIZEN))
    assert doses(engine) == [("VN000000000001", 2, "void", 1)]


def test_an_identity_correction_reaches_every_dose(engine: Engine) -> None:
    filed = file(engine, "identity", {"full_name": " Nguyễn  Văn An ", "sex": "M"})
    before = seq_of(engine)
    with engine.begin() as connection:
        c.approve(connection, filed.request_id, "01", "hanoi", before)
        name, seq = connection.execute(
            text("SELECT full_name, change_seq FROM citizens WHERE citizen_id = :c"),
            {"c": CITIZEN},
        ).one()
    assert name == "Nguyễn Văn An" and seq > before
    assert doses(engine)[0][1] == 2  # a new version carries the identity to the warehouse


def test_a_rejection_carries_its_reason(engine: Engine) -> None:
    filed = file(engine, "identity", {"date_of_birth": "1990-05-02"})
    assert "reason" in refused(engine, "invalid", c.reject, filed.request_id, "01", "hanoi", "  ")
    with engine.begin() as connection:
        c.reject(connection, filed.request_id, "01", "hanoi", "Giấy tờ không khớp / papers differ")
        status = c.public_status(c.by_reference(connection, filed.reference.lower()))  # type: ignore[arg-type]
    assert status["status"] == "rejected" and status["reason"].startswith("Giấy tờ")
    assert set(status) == {"reference", "kind", "status", "filed_on", "resolved_on", "reason"}


def test_duplicate_and_conflicting_requests_are_refused(engine: Engine) -> None:
    file(engine, "missing_dose", MISSING)
    refused(engine, "duplicate", c.file_request, CITIZEN, "missing_dose", MISSING, NOW)
    file(engine, "not_mine", {"dose_id": "VN000000000001"})
    # a second request about the same dose, whatever it claims
    refused(
        engine, "duplicate", c.file_request, CITIZEN, "not_mine", {"dose_id": "VN000000000001"}, NOW
    )
    file(engine, "identity", {"full_name": "Nguyễn Văn An"})
    refused(engine, "duplicate", c.file_request, CITIZEN, "identity", {"sex": "F"}, NOW)
    # a claimed missing dose that is on the record already
    on_record = {**MISSING, "day": "2021-08-04", "site_id": "01-0001"}
    refused(engine, "already_recorded", c.file_request, CITIZEN, "missing_dose", on_record, NOW)


@pytest.mark.parametrize(
    ("kind", "claim", "field"),
    [
        ("missing_dose", {**MISSING, "day": "2021-02-30"}, "day"),
        ("missing_dose", {**MISSING, "day": "2099-01-01"}, "day"),
        ("missing_dose", {**MISSING, "site_id": "nowhere"}, "site_id"),
        ("missing_dose", {**MISSING, "vaccine_code": "X"}, "vaccine_code"),
        ("not_mine", {"dose_id": "VN999"}, "dose_id"),
        ("identity", {"date_of_birth": "1850-01-01"}, "date_of_birth"),
        ("identity", {"sex": "Z"}, "sex"),
        ("identity", {}, ""),
        ("upgrade", {}, ""),
    ],
)
def test_bad_claims_get_a_clear_error(
    engine: Engine, kind: str, claim: dict[str, object], field: str
) -> None:
    with pytest.raises(c.CorrectionError) as error, engine.begin() as connection:
        c.file_request(connection, CITIZEN, kind, claim, NOW)
    assert error.value.code == "invalid" and error.value.field == field
    assert " / " in str(error.value)  # both languages
    with engine.connect() as connection:  # nothing was written
        assert connection.execute(text("SELECT count(*) FROM correction_requests")).scalar() == 0


def test_an_approval_of_a_changed_record_is_refused(engine: Engine) -> None:
    first = file(engine, "not_mine", {"dose_id": "VN000000000001"})
    second = file(engine, "missing_dose", MISSING)
    seen = seq_of(engine)  # both opened by officials now
    with engine.begin() as connection:
        c.approve(connection, first.request_id, "", "national", seen)
    message = refused(engine, "changed", c.approve, second.request_id, "", "national", seen)
    assert "review it again" in message
    with engine.begin() as connection:  # looked at again, it can be decided
        c.approve(connection, second.request_id, "", "national", c.record_seq(connection, CITIZEN))


def test_the_audit_trail_cannot_be_edited(engine: Engine) -> None:
    filed = file(engine, "identity", {"sex": "F"})
    for statement in (
        "UPDATE correction_audit SET actor = 'someone else'",
        "DELETE FROM correction_audit",
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert [a.actor for a in c.audit_trail(connection, filed.request_id)] == ["citizen"]
