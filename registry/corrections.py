"""Citizens' correction requests: filed by the citizen, resolved by an official, written into
the registry the way the registry records every change.

States: ``open`` → ``approved`` (the change is written) or ``rejected`` (with a reason the
citizen reads). Kinds and what approval writes:

* ``missing_dose`` (claim: day, site, product, optional lot): a new dose (``dose_id``
  ``VC`` + the request's number), numbered after the citizen's valid doses of that day;
* ``not_mine`` (the dose): the dose voided (a new version, status ``void``);
* ``identity`` (claim: full name, date of birth and/or sex): the citizen row corrected, and
  every dose of the citizen given a new version, so the corrected identity flows to the
  warehouse with them (the dose feed carries the identity with each dose).

Rules that protect the record:

* one open request per claim: the same claim again, or a second request about the same
  dose while one is open, is refused (:class:`CorrectionError` ``duplicate``); a claimed
  missing dose already on the record is refused (``already_recorded``);
* an official sees and resolves only requests of their province (``scope``: "" for the
  whole country) — the scope is a condition of every query here, never checked after;
* approval names the record it was decided on (:func:`record_seq`, shown with the
  request): if the citizen's record changed since, approval is refused (``changed``) and
  the official looks again;
* a request is resolved once (the state change is conditional on ``open``);
* every action is appended to ``correction_audit`` with the actor and the record before and
  after; the database refuses to change or delete an audit row.

Every function runs in the caller's transaction (``engine.begin()``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

from sqlalchemy import Connection, text

from geo.calendar import CAMPAIGN_START, LOCAL_ZONE
from registry.db import allocate_changes

Kind = Literal["missing_dose", "not_mine", "identity"]
KINDS: Final = ("missing_dose", "not_mine", "identity")
IDENTITY_FIELDS: Final = ("full_name", "date_of_birth", "sex")
#: references: 10 characters from an alphabet without look-alikes (0/O, 1/I/L), after "VX-"
REFERENCE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH: Final = 10
LOCAL: Final = LOCAL_ZONE
#: a missing dose is given at noon local time of the day claimed (the hour is not asked)
MISSING_DOSE_HOUR: Final = time(12, 0)
MAX_REASON: Final = 500


class CorrectionError(ValueError):
    """A request or an action refused; `code` says which rule, the message says it to a
    person (both languages)."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class Filed:
    request_id: int
    reference: str
    province_code: str


@dataclass(frozen=True)
class Request:
    request_id: int
    reference: str
    citizen_id: str
    kind: str
    province_code: str
    dose_id: str | None
    claim: dict[str, Any]
    status: str
    reason: str | None
    filed_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @property
    def age_days(self) -> float:
        end = self.resolved_at or datetime.now(UTC)
        return (end - self.filed_at).total_seconds() / 86_400


@dataclass(frozen=True)
class Record:
    """A citizen's record as an official sees it beside a request."""

    identity: dict[str, Any]
    doses: list[dict[str, Any]]
    seq: int  # record_seq: the record's latest change


@dataclass
class Audit:
    action: str
    actor: str
    at: datetime
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_text(moment: datetime, dialect: str) -> Any:
    moment = moment.astimezone(UTC)
    return moment if dialect == "postgresql" else moment.replace(tzinfo=None).isoformat(" ")


def _reference() -> str:
    return "VX-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


# -- reading the record -------------------------------------------------------------------


def record_seq(connection: Connection, citizen_id: str) -> int:
    """The latest change of the citizen's record (their row and their doses)."""
    return int(
        connection.execute(
            text(
                "SELECT max(seq) FROM (SELECT change_seq AS seq FROM citizens "
                "WHERE citizen_id = :c UNION ALL SELECT max(change_seq) FROM doses "
                "WHERE citizen_id = :c) AS changes"
            ),
            {"c": citizen_id},
        ).scalar_one()
        or 0
    )


def citizen_record(connection: Connection, citizen_id: str) -> Record:
    identity = (
        connection.execute(
            text(
                "SELECT citizen_id, full_name, date_of_birth, sex, residence_province "
                "FROM citizens WHERE citizen_id = :c"
            ),
            {"c": citizen_id},
        )
        .mappings()
        .first()
    )
    doses = (
        connection.execute(
            text(
                "SELECT d.dose_id, d.version, d.status, d.dose_number, d.vaccine_code, "
                "d.lot_number, d.site_id, s.name AS site_name, d.province_code, d.administered_at "
                "FROM doses AS d JOIN sites AS s ON s.site_id = d.site_id "
                "WHERE d.citizen_id = :c ORDER BY d.administered_at, d.dose_id"
            ),
            {"c": citizen_id},
        )
        .mappings()
        .all()
    )
    return Record(
        identity={k: str(v) for k, v in (identity or {}).items()},
        doses=[
            {**{k: v for k, v in dose.items() if k != "administered_at"},
             "administered_at": _instant(dose["administered_at"]).isoformat()}
            for dose in doses
        ],
        seq=record_seq(connection, citizen_id),
    )  # fmt: skip


# -- filing -------------------------------------------------------------------------------


def _check_missing_dose(
    connection: Connection, citizen_id: str, claim: dict[str, Any]
) -> dict[str, Any]:
    try:
        day = date.fromisoformat(str(claim.get("day", "")))
    except ValueError:
        raise CorrectionError(
            "invalid", "Ngày tiêm không hợp lệ / Invalid date of the dose", "day"
        ) from None
    if day > datetime.now(LOCAL).date() or day < CAMPAIGN_START:
        raise CorrectionError(
            "invalid",
            f"Ngày tiêm phải trong chiến dịch (từ {CAMPAIGN_START:%d/%m/%Y}) và không ở tương "
            f"lai / The day must be within the campaign (from {CAMPAIGN_START}) and not in the "
            "future",
            "day",
        )
    site = connection.execute(
        text("SELECT site_id, province_code FROM sites WHERE site_id = :s"),
        {"s": str(claim.get("site_id", "")).strip()},
    ).first()
    if site is None:
        raise CorrectionError(
            "invalid",
            "Không có điểm tiêm với mã này / No vaccination site has this code",
            "site_id",
        )
    vaccine = connection.execute(
        text("SELECT code FROM vaccines WHERE code = :v"), {"v": str(claim.get("vaccine_code", ""))}
    ).first()
    if vaccine is None:
        raise CorrectionError(
            "invalid", "Loại vắc xin không hợp lệ / Unknown vaccine product", "vaccine_code"
        )
    lot = str(claim.get("lot_number", "") or "").strip()[:32]
    start = datetime.combine(day, time(0), LOCAL)
    already = connection.execute(
        text(
            "SELECT count(*) FROM doses WHERE citizen_id = :c AND status = 'valid' "
            "AND vaccine_code = :v AND administered_at >= :a AND administered_at < :b"
        ),
        {
            "c": citizen_id,
            "v": vaccine[0],
            "a": _utc_text(start, connection.dialect.name),
            "b": _utc_text(start + timedelta(days=1), connection.dialect.name),
        },
    ).scalar_one()
    if already:
        raise CorrectionError(
            "already_recorded",
            "Mũi tiêm này đã có trong hồ sơ / This dose is already on your record",
        )
    return {
        "day": day.isoformat(),
        "site_id": site[0],
        "province_code": site[1],
        "vaccine_code": vaccine[0],
        "lot_number": lot,
    }


def _check_identity(claim: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    name = " ".join(str(claim.get("full_name", "") or "").split())
    if name:
        if len(name) > 128:
            raise CorrectionError("invalid", "Họ tên quá dài / The name is too long", "full_name")
        checked["full_name"] = name
    if claim.get("date_of_birth"):
        try:
            born = date.fromisoformat(str(claim["date_of_birth"]))
        except ValueError:
            raise CorrectionError(
                "invalid", "Ngày sinh không hợp lệ / Invalid date of birth", "date_of_birth"
            ) from None
        if not date(1900, 1, 1) <= born <= datetime.now(LOCAL).date():
            raise CorrectionError(
                "invalid", "Ngày sinh không hợp lệ / Invalid date of birth", "date_of_birth"
            )
        checked["date_of_birth"] = born.isoformat()
    if claim.get("sex"):
        if claim["sex"] not in ("M", "F", "O"):
            raise CorrectionError("invalid", "Giới tính không hợp lệ / Invalid sex", "sex")
        checked["sex"] = claim["sex"]
    if not checked:
        raise CorrectionError(
            "invalid",
            "Hãy nhập ít nhất một thông tin cần sửa / Enter at least one detail to correct",
        )
    return checked


def _duplicate(connection: Connection, citizen_id: str, kind: str, dose_id: str | None,
               claim: dict[str, Any]) -> bool:  # fmt: skip
    rows = connection.execute(
        text(
            "SELECT kind, dose_id, claim FROM correction_requests "
            "WHERE citizen_id = :c AND status = 'open'"
        ),
        {"c": citizen_id},
    ).all()
    for other_kind, other_dose, other_claim in rows:
        if dose_id is not None and other_dose == dose_id:
            return True  # two requests about one dose
        if other_kind == kind and json.loads(other_claim) == claim:
            return True
        if kind == other_kind == "identity":
            return True  # one identity correction at a time
    return False


def file_request(
    connection: Connection,
    citizen_id: str,
    kind: str,
    claim: dict[str, Any],
    now: datetime | None = None,
    actor: str = "citizen",
) -> Filed:
    """File a request for `citizen_id` (whose identity the caller has established);
    raises :class:`CorrectionError` for a bad or duplicate claim."""
    now = now or datetime.now(UTC)
    if kind not in KINDS:
        raise CorrectionError("invalid", "Loại yêu cầu không hợp lệ / Unknown kind of request")
    citizen = connection.execute(
        text("SELECT residence_province FROM citizens WHERE citizen_id = :c"), {"c": citizen_id}
    ).first()
    if citizen is None:
        raise CorrectionError("unknown", "Không tìm thấy hồ sơ / No such record")
    dose_id: str | None = None
    if kind == "missing_dose":
        checked = _check_missing_dose(connection, citizen_id, claim)
        province = checked["province_code"]
    elif kind == "not_mine":
        dose = connection.execute(
            text(
                "SELECT dose_id, province_code FROM doses WHERE dose_id = :d "
                "AND citizen_id = :c AND status = 'valid'"
            ),
            {"d": str(claim.get("dose_id", "")), "c": citizen_id},
        ).first()
        if dose is None:
            raise CorrectionError(
                "invalid", "Không có mũi tiêm này trong hồ sơ / No such dose on your record",
                "dose_id",
            )  # fmt: skip
        dose_id, province = str(dose[0]), str(dose[1])
        checked = {"dose_id": dose_id}
    else:
        checked = _check_identity(claim)
        province = str(citizen[0])
    if _duplicate(connection, citizen_id, kind, dose_id, checked):
        raise CorrectionError(
            "duplicate",
            "Đã có một yêu cầu đang chờ xử lý cho nội dung này / A request about this is "
            "already open",
        )
    dialect = connection.dialect.name
    seq = allocate_changes(connection, 1)
    for _ in range(5):
        reference = _reference()
        taken = connection.execute(
            text("SELECT 1 FROM correction_requests WHERE reference = :r"), {"r": reference}
        ).first()
        if taken is None:
            break
    request_id = connection.execute(
        text(
            "INSERT INTO correction_requests (reference, citizen_id, kind, province_code, "
            "dose_id, claim, status, filed_at, change_seq) VALUES (:reference, :citizen, "
            ":kind, :province, :dose, :claim, 'open', :filed, :seq) RETURNING request_id"
        ),
        {
            "reference": reference,
            "citizen": citizen_id,
            "kind": kind,
            "province": province,
            "dose": dose_id,
            "claim": json.dumps(checked, sort_keys=True),
            "filed": _utc_text(now, dialect),
            "seq": seq,
        },
    ).scalar_one()
    _audit(connection, int(request_id), "filed", actor, now, {}, {"kind": kind, "claim": checked})
    return Filed(int(request_id), reference, province)


def _audit(connection: Connection, request_id: int, action: str, actor: str, now: datetime,
           before: dict[str, Any], after: dict[str, Any]) -> None:  # fmt: skip
    connection.execute(
        text(
            "INSERT INTO correction_audit (request_id, action, actor, at, before, after) "
            "VALUES (:r, :action, :actor, :at, :before, :after)"
        ),
        {
            "r": request_id,
            "action": action,
            "actor": actor,
            "at": _utc_text(now, connection.dialect.name),
            "before": json.dumps(before, sort_keys=True, default=str),
            "after": json.dumps(after, sort_keys=True, default=str),
        },
    )


# -- reading requests ---------------------------------------------------------------------

_COLUMNS: Final = (
    "request_id, reference, citizen_id, kind, province_code, dose_id, claim, status, reason, "
    "filed_at, resolved_at, resolved_by"
)


def _request(row: Any) -> Request:
    values = dict(row._mapping)
    values["claim"] = json.loads(values["claim"])
    values["filed_at"] = _instant(values["filed_at"])
    values["resolved_at"] = _instant(values["resolved_at"]) if values["resolved_at"] else None
    return Request(**values)


def _in_scope(scope: str) -> str:
    return "" if not scope else " AND province_code = :scope"


def queue(
    connection: Connection,
    scope: str,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 200,
) -> list[Request]:
    """Requests of the official's `scope` ("" = every province), oldest first."""
    where = "1 = 1" + _in_scope(scope)
    parameters: dict[str, Any] = {"scope": scope, "limit": limit}
    if status:
        where += " AND status = :status"
        parameters["status"] = status
    if kind:
        where += " AND kind = :kind"
        parameters["kind"] = kind
    rows = connection.execute(
        text(f"SELECT {_COLUMNS} FROM correction_requests WHERE {where} "
             "ORDER BY filed_at, request_id LIMIT :limit"),
        parameters,
    ).all()  # fmt: skip
    return [_request(row) for row in rows]


def get_request(connection: Connection, request_id: int, scope: str) -> Request | None:
    """The request, if it is in the official's `scope`; None otherwise (the same answer as
    for a request that does not exist)."""
    row = connection.execute(
        text(f"SELECT {_COLUMNS} FROM correction_requests WHERE request_id = :r"
             + _in_scope(scope)),
        {"r": request_id, "scope": scope},
    ).first()  # fmt: skip
    return _request(row) if row is not None else None


def by_reference(connection: Connection, reference: str) -> Request | None:
    row = connection.execute(
        text(f"SELECT {_COLUMNS} FROM correction_requests WHERE reference = :r"),
        {"r": reference.strip().upper()},
    ).first()
    return _request(row) if row is not None else None


def audit_trail(connection: Connection, request_id: int) -> list[Audit]:
    rows = connection.execute(
        text(
            "SELECT action, actor, at, before, after FROM correction_audit "
            "WHERE request_id = :r ORDER BY audit_id"
        ),
        {"r": request_id},
    ).all()
    return [
        Audit(action, actor, _instant(at), json.loads(before), json.loads(after))
        for action, actor, at, before, after in rows
    ]


# -- resolving ----------------------------------------------------------------------------


def _open_request(connection: Connection, request_id: int, scope: str) -> Request:
    request = get_request(connection, request_id, scope)
    if request is None:
        raise CorrectionError("not_found", "Không có yêu cầu này / No such request")
    if request.status != "open":
        raise CorrectionError(
            "resolved", "Yêu cầu đã được xử lý / The request has already been resolved"
        )
    return request


def _close(connection: Connection, request: Request, status: str, official: str, now: datetime,
           reason: str | None) -> None:  # fmt: skip
    changed = connection.execute(
        text(
            "UPDATE correction_requests SET status = :status, reason = :reason, "
            "resolved_at = :at, resolved_by = :by, change_seq = :seq "
            "WHERE request_id = :r AND status = 'open'"
        ),
        {
            "status": status,
            "reason": reason,
            "at": _utc_text(now, connection.dialect.name),
            "by": official,
            "seq": allocate_changes(connection, 1),
            "r": request.request_id,
        },
    ).rowcount
    if changed != 1:  # another official resolved it in the meantime
        raise CorrectionError(
            "resolved", "Yêu cầu đã được xử lý / The request has already been resolved"
        )


def reject(connection: Connection, request_id: int, scope: str, official: str, reason: str,
           now: datetime | None = None) -> Request:  # fmt: skip
    """Reject an open request of the official's scope with a reason the citizen reads."""
    now = now or datetime.now(UTC)
    reason = " ".join(reason.split())
    if not reason:
        raise CorrectionError(
            "invalid", "Hãy ghi lý do từ chối / Give the reason for the rejection", "reason"
        )
    if len(reason) > MAX_REASON:
        raise CorrectionError(
            "invalid", f"Lý do tối đa {MAX_REASON} ký tự / Reason too long", "reason"
        )
    request = _open_request(connection, request_id, scope)
    _close(connection, request, "rejected", official, now, reason)
    _audit(connection, request_id, "rejected", official, now, {"status": "open"},
           {"status": "rejected", "reason": reason})  # fmt: skip
    return request


def approve(connection: Connection, request_id: int, scope: str, official: str, seen_seq: int,
            now: datetime | None = None) -> Request:  # fmt: skip
    """Approve an open request of the official's scope and write its change into the
    registry; refused when the citizen's record changed after `seen_seq`."""
    now = now or datetime.now(UTC)
    request = _open_request(connection, request_id, scope)
    if record_seq(connection, request.citizen_id) != seen_seq:
        raise CorrectionError(
            "changed",
            "Hồ sơ của công dân đã thay đổi kể từ khi bạn mở yêu cầu; hãy xem lại / The "
            "citizen's record changed since you opened the request: review it again",
        )
    before = citizen_record(connection, request.citizen_id)
    if request.kind == "missing_dose":
        _add_dose(connection, request, now)
    elif request.kind == "not_mine":
        _void_dose(connection, request, now)
    else:
        _correct_identity(connection, request, now)
    _close(connection, request, "approved", official, now, None)
    after = citizen_record(connection, request.citizen_id)
    _audit(connection, request_id, "approved", official, now,
           {"identity": before.identity, "doses": before.doses},
           {"identity": after.identity, "doses": after.doses})  # fmt: skip
    return request


def _add_dose(connection: Connection, request: Request, now: datetime) -> None:
    claim = request.claim
    day = date.fromisoformat(claim["day"])
    given = datetime.combine(day, MISSING_DOSE_HOUR, LOCAL)
    dialect = connection.dialect.name
    valid = (
        connection.execute(
            text("SELECT administered_at FROM doses WHERE citizen_id = :c AND status = 'valid'"),
            {"c": request.citizen_id},
        )
        .scalars()
        .all()
    )
    number = 1 + sum(_instant(at) < given for at in valid)
    if number > 5:
        raise CorrectionError("invalid", "Quá 5 mũi tiêm / More than 5 doses")
    later = connection.execute(
        text(
            "SELECT dose_id, dose_number FROM doses WHERE citizen_id = :c AND status = 'valid' "
            "AND administered_at > :at ORDER BY administered_at"
        ),
        {"c": request.citizen_id, "at": _utc_text(given, dialect)},
    ).all()
    seq = allocate_changes(connection, 1 + len(later))
    connection.execute(
        text(
            "INSERT INTO doses (dose_id, version, status, citizen_id, site_id, province_code, "
            "vaccine_code, lot_number, dose_number, administered_at, recorded_at, change_seq) "
            "VALUES (:id, 1, 'valid', :c, :site, :province, :vaccine, :lot, :number, :at, "
            ":recorded, :seq)"
        ),
        {
            "id": f"VC{request.request_id:012d}",
            "c": request.citizen_id,
            "site": claim["site_id"],
            "province": claim["province_code"],
            "vaccine": claim["vaccine_code"],
            "lot": claim["lot_number"] or "UNKNOWN",
            "number": number,
            "at": _utc_text(given, dialect),
            "recorded": _utc_text(now, dialect),
            "seq": seq,
        },
    )
    for offset, (dose_id, dose_number) in enumerate(later, 1):  # renumbered after it
        connection.execute(
            text(
                "UPDATE doses SET dose_number = :n, version = version + 1, recorded_at = :at, "
                "change_seq = :seq WHERE dose_id = :d"
            ),
            {"n": min(5, int(dose_number) + 1), "at": _utc_text(now, dialect),
             "seq": seq + offset, "d": dose_id},
        )  # fmt: skip


def _void_dose(connection: Connection, request: Request, now: datetime) -> None:
    changed = connection.execute(
        text(
            "UPDATE doses SET status = 'void', version = version + 1, recorded_at = :at, "
            "change_seq = :seq WHERE dose_id = :d AND citizen_id = :c AND status = 'valid'"
        ),
        {"at": _utc_text(now, connection.dialect.name), "seq": allocate_changes(connection, 1),
         "d": request.dose_id, "c": request.citizen_id},
    ).rowcount  # fmt: skip
    if changed != 1:
        raise CorrectionError("changed", "Mũi tiêm đã thay đổi / The dose has changed")


def _correct_identity(connection: Connection, request: Request, now: datetime) -> None:
    claim = {k: v for k, v in request.claim.items() if k in IDENTITY_FIELDS}
    dialect = connection.dialect.name
    doses = (
        connection.execute(
            text("SELECT dose_id FROM doses WHERE citizen_id = :c ORDER BY dose_id"),
            {"c": request.citizen_id},
        )
        .scalars()
        .all()
    )
    seq = allocate_changes(connection, 1 + len(doses))
    values: dict[str, Any] = {"c": request.citizen_id, "seq": seq}
    assignments = []
    for name, value in claim.items():
        assignments.append(f"{name} = :{name}")
        values[name] = date.fromisoformat(value) if name == "date_of_birth" else value
    connection.execute(
        text(f"UPDATE citizens SET {', '.join(assignments)}, change_seq = :seq "
             "WHERE citizen_id = :c"),
        values,
    )  # fmt: skip
    # the dose feed carries the identity with each dose: new versions take it along
    for offset, dose_id in enumerate(doses, 1):
        connection.execute(
            text(
                "UPDATE doses SET version = version + 1, recorded_at = :at, change_seq = :seq "
                "WHERE dose_id = :d"
            ),
            {"at": _utc_text(now, dialect), "seq": seq + offset, "d": dose_id},
        )


# -- what the citizen reads ---------------------------------------------------------------


def public_status(request: Request) -> dict[str, Any]:
    """What the citizen's tracker shows: no one else's data, nothing beyond their claim."""
    return {
        "reference": request.reference,
        "kind": request.kind,
        "status": request.status,
        "filed_on": request.filed_at.astimezone(LOCAL).date().isoformat(),
        "resolved_on": (
            request.resolved_at.astimezone(LOCAL).date().isoformat()
            if request.resolved_at
            else None
        ),
        "reason": request.reason if request.status == "rejected" else None,
    }
