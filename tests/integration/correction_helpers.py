"""Correction requests in a test registry (registry.corrections), shared by the tests of the
ETL's operational flows and of the public backlog: a registry whose requests follow a plan
(province, filing time, outcome and resolution time), and a few requests on a seeded one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from geo.provinces import load_provinces
from registry import corrections
from registry.db import allocate_changes, make_engine, migrate

VACCINE = "EU/1/21/1529"
#: a citizen's dose, given before every filing of the plans here
DOSE_AT = "2021-08-04 02:30:00"


@dataclass(frozen=True)
class Planned:
    """One request: filed in `province` at `filed`, then `outcome` (``open``, ``approved``
    or ``rejected``) at `resolved`."""

    province: str
    filed: datetime
    outcome: str = "open"
    resolved: datetime | None = None


def resolve(engine: Engine, request_id: int, citizen_id: str, outcome: str, at: datetime) -> None:
    """Approve or reject an open request as an official of the whole country."""
    with engine.begin() as connection:
        if outcome == "approved":
            seen = corrections.record_seq(connection, citizen_id)
            corrections.approve(connection, request_id, "", "test-official", seen, at)
        else:
            corrections.reject(connection, request_id, "", "test-official", "not on file", at)


def backlog_registry(dsn: str, plan: Sequence[Planned]) -> Engine:
    """A registry of the 63 provinces whose correction requests are `plan`: each request by a
    citizen of its own with one dose at a site of its province, about that dose (``not_mine``,
    handled by the dose's province), filed and resolved as planned."""
    engine = make_engine(dsn)
    migrate(engine)
    provinces = load_provinces()
    codes = sorted({p.province for p in plan})
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO provinces VALUES (:code, :name)"),
            [{"code": c, "name": n} for c, n in zip(provinces["gso_code"], provinces["name_vi"],
                                                     strict=True)],
        )  # fmt: skip
        connection.execute(
            text(f"INSERT INTO vaccines VALUES ('{VACCINE}', 'AstraZeneca', 'ORG-100001699', 2)")
        )
        first = allocate_changes(connection, len(codes) + 2 * len(plan))
        connection.execute(
            text(
                "INSERT INTO sites VALUES (:site, 'Điểm tiêm', :code, 'fixed', 500, 420, 1020, "
                ":seq)"
            ),
            [{"site": f"{c}-0001", "code": c, "seq": first + i} for i, c in enumerate(codes)],
        )
        seq = first + len(codes)
        for number, request in enumerate(plan, 1):
            citizen = f"001190{number:06d}"
            connection.execute(
                text(
                    "INSERT INTO citizens VALUES (:c, 'Nguyen Van An', '1990-05-01', 'M', NULL, "
                    ":p, :seq)"
                ),
                {"c": citizen, "p": request.province, "seq": seq},
            )
            connection.execute(
                text(
                    "INSERT INTO doses VALUES (:d, 1, 'valid', :c, :site, :p, :v, 'LOT-1', 1, "
                    ":at, :at, :seq)"
                ),
                {"d": f"VN{number:012d}", "c": citizen, "site": f"{request.province}-0001",
                 "p": request.province, "v": VACCINE, "at": DOSE_AT, "seq": seq + 1},
            )  # fmt: skip
            seq += 2
    for number, request in enumerate(plan, 1):
        citizen = f"001190{number:06d}"
        with engine.begin() as connection:
            filed = corrections.file_request(
                connection, citizen, "not_mine", {"dose_id": f"VN{number:012d}"}, request.filed
            )
        if request.outcome != "open":
            assert request.resolved is not None, request
            resolve(engine, filed.request_id, citizen, request.outcome, request.resolved)
    return engine


def file_some(engine: Engine, count: int, filed: datetime) -> dict[str, int]:
    """File `count` requests about doses of a seeded registry (``not_mine``, one per citizen
    without an open request), approve every third and reject every third after it, resolved
    `index` days after filing; requests per outcome."""
    with engine.connect() as connection:
        doses = connection.execute(
            text(
                "SELECT min(dose_id), citizen_id FROM doses WHERE status = 'valid' "
                "AND citizen_id NOT IN (SELECT citizen_id FROM correction_requests "
                "WHERE status = 'open') GROUP BY citizen_id ORDER BY citizen_id LIMIT :n"
            ),
            {"n": count},
        ).all()
    outcomes = {"open": 0, "approved": 0, "rejected": 0}
    for index, (dose_id, citizen) in enumerate(doses):
        with engine.begin() as connection:
            request = corrections.file_request(
                connection, citizen, "not_mine", {"dose_id": dose_id}, filed
            )
        outcome = ("approved", "rejected", "open")[index % 3]
        if outcome != "open":
            resolve(engine, request.request_id, citizen, outcome, filed + timedelta(days=index))
        outcomes[outcome] += 1
    return outcomes


def at(day: str, hour: int = 3) -> datetime:
    """A UTC instant on `day` (``YYYY-MM-DD``) at `hour` UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
