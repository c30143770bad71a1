"""The public backlog of citizens' correction requests, end to end on real engines: requests
filed, approved and rejected in a registry (SQLite and PostgreSQL) by registry.corrections,
streamed by the ETL into vax.correction_requests (nothing personal), and published by
/api/v1/corrections and the /corrections page: the figures equal direct SQL on the registry,
small counts are withheld (and no withheld count can be worked out from the rest), CSV and
JSON carry the same rows, the OpenAPI document lists the endpoint."""

from __future__ import annotations

import csv
import io
import re
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import flask
import numpy as np
import pytest
from sqlalchemy import Engine, text

from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import stream_once
from geo.calendar import LOCAL_ZONE
from portal import backlog
from portal.api_contract import CORRECTION_FIELDS
from tests.integration.correction_helpers import Planned, at, backlog_registry, resolve
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse
from web import cache

pytestmark = pytest.mark.integration

KEY = bytes(range(32))


def requests(province: str, count: int, filed: str, outcome: str = "open",
             after: timedelta = timedelta(0), hours: int = 3) -> list[Planned]:  # fmt: skip
    """`count` requests of `province` filed on `filed` (one an hour from `hours` UTC),
    resolved `after` later (each an hour later than the one before, so days differ)."""
    return [
        Planned(province, at(filed, hours + i), outcome,
                None if outcome == "open" else at(filed, hours + i) + after + timedelta(hours=i))
        for i in range(count)
    ]  # fmt: skip


#: Hà Nội and Hồ Chí Minh City large enough to publish, Đà Nẵng (48) small throughout,
#: Hải Phòng (31) with no open request; filings from September to December 2021, one filed
#: at 20:00 UTC on 30 September: 1 October in Viet Nam (local months)
PLAN = [
    *requests("01", 6, "2021-09-06", "approved", timedelta(days=9)),
    *requests("01", 5, "2021-10-04", "rejected", timedelta(days=20)),
    *requests("01", 3, "2021-11-08"),
    *requests("79", 5, "2021-09-13", "approved", timedelta(days=3)),
    *requests("79", 1, "2021-09-30", "rejected", timedelta(days=2), hours=20),
    *requests("79", 5, "2021-12-01"),
    *requests("48", 1, "2021-10-11", "approved", timedelta(days=1)),
    *requests("48", 2, "2021-11-15"),
    *requests("31", 2, "2021-10-18", "approved", timedelta(days=30)),
    *requests("31", 5, "2021-11-22", "rejected", timedelta(days=6)),
]


@pytest.fixture
def streamed(warehouse: Warehouse, registry_dsn: str) -> tuple[Engine, Warehouse]:
    engine = backlog_registry(registry_dsn, PLAN)
    refresh_reference(warehouse, *reference_codes())
    stream_once(warehouse, engine, KEY)
    return engine, warehouse


def client_of(warehouse: Warehouse, tmp_path: Path) -> flask.testing.FlaskClient:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    return create_server(Services(settings=settings, warehouse=warehouse)).test_client()


def instant(value: Any) -> datetime:
    """A registry time (aware from PostgreSQL, UTC text from SQLite) as an aware instant."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))


def registry_figures(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per province and for the country ('VN'), straight from the registry: received,
    approved, rejected, open (SQL counts) and the median days to resolution (of the rows
    SQL selects)."""
    with engine.connect() as connection:
        counted = connection.execute(
            text(
                "SELECT province_code, count(*), "
                "sum(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN status = 'open' THEN 1 ELSE 0 END) "
                "FROM correction_requests GROUP BY province_code"
            )
        ).all()
        times = connection.execute(
            text(
                "SELECT province_code, filed_at, resolved_at FROM correction_requests "
                "WHERE status <> 'open'"
            )
        ).all()
    figures: dict[str, dict[str, Any]] = {}
    for code, *values in counted:
        figures[code] = dict(zip(backlog.COUNTS, (int(v) for v in values), strict=True))
    figures["VN"] = {c: sum(f[c] for f in figures.values()) for c in backlog.COUNTS}
    days: dict[str, list[float]] = {code: [] for code in figures}
    for code, filed, resolved in times:
        taken = (instant(resolved) - instant(filed)).total_seconds() / 86_400
        days[code].append(taken)
        days["VN"].append(taken)
    for code, values in days.items():
        figures[code]["median_days"] = statistics.median(values) if values else None
        figures[code]["resolved"] = len(values)
    return figures


def check_published(row: dict[str, Any], truth: dict[str, Any]) -> None:
    """A published row against the registry: shown values equal it; a withheld count is
    small and named in `suppressed`, or named in `complementary`."""
    small, complementary = row["suppressed"].split(), row["complementary"].split()
    for column in backlog.COUNTS:
        if row[column] is not None:
            assert row[column] == truth[column] >= backlog.MIN_CELL, (row, column)
        elif truth[column] < backlog.MIN_CELL:
            assert column in small and column not in complementary, (row, column)
        else:
            assert column in complementary and column not in small, (row, column)
    if truth["resolved"] >= backlog.MIN_CELL:
        assert row["median_days"] == pytest.approx(truth["median_days"], abs=1e-4), row
    else:
        assert row["median_days"] is None and "median_days" in small, row


def test_the_backlog_equals_the_registry_with_small_counts_withheld(
    streamed: tuple[Engine, Warehouse], tmp_path: Path
) -> None:
    engine, warehouse = streamed
    client = client_of(warehouse, tmp_path)
    truth = registry_figures(engine)
    assert truth["VN"] == {"received": 35, "approved": 14, "rejected": 11, "open": 10,
                           "median_days": truth["VN"]["median_days"], "resolved": 25}  # fmt: skip

    document = client.get("/api/v1/corrections?level=province").get_json()
    rows = {row["area_code"]: row for row in document["data"]}
    assert len(rows) == 63 and all(row["period"] == "total" for row in rows.values())
    empty = {"received": 0, "approved": 0, "rejected": 0, "open": 0, "resolved": 0}
    for code, row in rows.items():
        check_published(row, truth.get(code, empty))
    national = client.get("/api/v1/corrections").get_json()["data"]
    assert [r["area_code"] for r in national] == ["VN"]
    check_published(national[0], truth["VN"])
    assert national[0]["received"] == 35 and national[0]["open"] == 10

    # what the plan was built to show: Hà Nội published, its 3 open requests withheld as
    # small and one more of its counts with them (else 14 = 6 + 5 + open gives them away)
    hanoi, danang = rows["01"], rows["48"]
    assert (hanoi["received"], hanoi["approved"], hanoi["open"]) == (14, 6, None)
    assert hanoi["suppressed"] == "open" and hanoi["complementary"] == "rejected"
    assert hanoi["median_days"] == pytest.approx(truth["01"]["median_days"], abs=1e-4)
    assert danang["suppressed"] == "received approved rejected open median_days"
    assert rows["79"]["rejected"] is None and rows["31"]["approved"] is None

    meta = document["meta"]
    assert meta["suppression"]["min_count"] == backlog.MIN_CELL == 5
    assert meta["by"] == "total" and meta["level"] == "province" and meta["rows"] == 63

    # by month, the country: local months, equal to the registry's where shown
    months = client.get("/api/v1/corrections?by=month").get_json()["data"]
    assert [m["period"] for m in months] == ["2021-09", "2021-10", "2021-11", "2021-12"]
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT status, filed_at, resolved_at FROM correction_requests")
        ).all()

    def month(value: Any) -> str:
        return f"{instant(value).astimezone(LOCAL_ZONE):%Y-%m}"

    for published in months:
        period = published["period"]
        resolved = [(s, r, f) for s, f, r in stored if r is not None and month(r) == period]
        end = [(f, r) for _, f, r in stored if month(f) <= period and (r is None or month(r) > period)]  # fmt: skip
        truth_month = {
            "received": sum(month(f) == period for _, f, _ in stored),
            "approved": sum(s == "approved" for s, _, _ in resolved),
            "rejected": sum(s == "rejected" for s, _, _ in resolved),
            "open": len(end),
            "resolved": len(resolved),
            "median_days": statistics.median(
                [(instant(r) - instant(f)).total_seconds() / 86_400 for _, r, f in resolved]
            ) if resolved else None,
        }  # fmt: skip
        check_published(published, truth_month)
    # the request filed at 20:00 UTC on 30 September is October's: 6 + 5 received in
    # September, not 6 + 5 + 1
    assert months[0]["received"] == 11

    # no withheld count follows from the published ones, whichever sums are combined
    published = [national[0], *(rows[c] for c in sorted(rows)), *months]
    hidden = [[row[c] is None for c in backlog.COUNTS] for row in published]
    matrix = backlog.relations(64, len(months))
    assert not len(backlog.fixed(matrix, np.array(hidden).ravel()))


def rows_of_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.mark.parametrize("registry_dsn", ["sqlite"], indirect=True)
def test_csv_carries_the_json_rows_and_the_openapi_lists_the_endpoint(
    streamed: tuple[Engine, Warehouse], tmp_path: Path
) -> None:
    _, warehouse = streamed
    client = client_of(warehouse, tmp_path)
    for query in ("level=province&area=79,01,48", "by=month"):
        as_json = client.get(f"/api/v1/corrections?{query}")
        as_csv = client.get(f"/api/v1/corrections?{query}&format=csv")
        assert as_csv.headers["Content-Type"].startswith("text/csv")
        rows, table = as_json.get_json()["data"], rows_of_csv(as_csv.data)
        assert rows and len(rows) == len(table) and list(rows[0]) == list(CORRECTION_FIELDS)
        assert list(table[0]) == list(CORRECTION_FIELDS)
        for row, line in zip(rows, table, strict=True):
            assert {k: "" if v is None else str(v) for k, v in row.items()} == line
    assert [r["area_code"] for r in client.get(
        "/api/v1/corrections?level=province&area=79,01").get_json()["data"]] == ["79", "01"]  # fmt: skip

    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/corrections"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["level", "area", "by", "format"]
    level = next(p for p in operation["parameters"] if p["name"] == "level")
    assert level["schema"]["enum"] == ["national", "province"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]["data"]["items"]["properties"]) == set(CORRECTION_FIELDS)
    assert "suppression" in schema["properties"]["meta"]["properties"]
    page = client.get("/api").get_data(as_text=True)
    assert 'id="api-corrections"' in page and "/api/v1/corrections?by=month" in page

    for query, parameter in (("level=region", "level"), ("by=week", "by"),
                             ("level=province&by=month", "by"), ("date=2021-08-04", "date"),
                             ("level=province&area=00", "area")):  # fmt: skip
        error = client.get(f"/api/v1/corrections?{query}").get_json()["error"]
        assert error["parameter"] == parameter and error["status"] in (400, 404), query


def cells(page: str, row: str) -> list[str]:
    """The `data-value` or `data-withheld` of each figure in the table row `row` of `page`."""
    opening = rf'<tr (?=[^>]*data-area="{row}")(?=[^>]*data-period="total")[^>]*>'
    found = re.search(rf"{opening}(.*?)</tr>", page, re.S)
    assert found, row
    return re.findall(r'data-(?:value|withheld)="([^"]*)"', found.group(1))


@pytest.mark.parametrize("registry_dsn", ["sqlite"], indirect=True)
def test_the_page_shows_the_published_figures_in_both_languages(
    streamed: tuple[Engine, Warehouse], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, warehouse = streamed
    monkeypatch.setattr(cache, "VERSION_SECONDS", 1)
    client = client_of(warehouse, tmp_path)
    published = {
        r["area_code"]: r
        for r in client.get("/api/v1/corrections?level=province").get_json()["data"]
    }
    national = client.get("/api/v1/corrections").get_json()["data"][0]

    def expected(row: dict[str, Any]) -> list[str]:
        small = row["suppressed"].split()
        return [
            str(row[c]) if row[c] is not None else ("small" if c in small else "complementary")
            for c in (*backlog.COUNTS, "median_days")
        ]

    vietnamese = client.get("/corrections").get_data(as_text=True)
    english = client.get("/corrections?lang=en").get_data(as_text=True)
    assert "<h1>Yêu cầu chỉnh sửa hồ sơ tiêm chủng</h1>" in vietnamese
    assert "<h1>Requests to correct vaccination records</h1>" in english
    for page in (vietnamese, english):
        assert cells(page, "01") == expected(published["01"])
        assert cells(page, "48") == expected(published["48"])
        assert cells(page, "VN") == expected(national)
        assert 'id="corrections-received"' in page and 'data-value="35"' in page
        assert 'id="corrections-trend"' in page and 'id="note-suppression"' in page
    assert "Small counts are withheld" in english and "Số nhỏ được ẩn" in vietnamese
    assert 'href="/corrections?lang=en"' in english  # the navigation names the page
    # the monthly table: four months, September's received as the API says
    months = re.search(r'id="corrections-months".*?</table>', english, re.S)
    assert months and months.group(0).count('data-period="2021-') == 4
    assert "Sep 2021" in months.group(0) and "09/2021" in vietnamese

    # a request resolved later: the next stream moves the figures (a new data version)
    with engine.connect() as connection:
        request_id, citizen = connection.execute(
            text("SELECT request_id, citizen_id FROM correction_requests "
                 "WHERE province_code = '79' AND status = 'open' ORDER BY request_id")
        ).first()  # fmt: skip
    resolve(engine, request_id, citizen, "approved", at("2021-12-20"))
    stream_once(warehouse, engine, KEY)
    deadline = time.monotonic() + 10  # the data version is re-read every VERSION_SECONDS
    while time.monotonic() < deadline:
        again = client.get("/api/v1/corrections?level=province&area=79").get_json()["data"][0]
        if again != published["79"]:
            break
        time.sleep(0.2)
    check_published(again, registry_figures(engine)["79"])
    assert "open" not in published["79"]["suppressed"] and "open" in again["suppressed"]


@pytest.mark.parametrize("registry_dsn", ["sqlite"], indirect=True)
def test_nothing_personal_reaches_the_warehouse(streamed: tuple[Engine, Warehouse]) -> None:
    engine, warehouse = streamed
    columns = [
        name
        for (name,) in warehouse.rows(
            "SELECT name FROM system.columns WHERE database = {db:String} "
            "AND table = 'correction_requests' ORDER BY position",
            {"db": warehouse.database},
        )
    ]
    assert columns == [
        "request_id", "kind", "province_code", "status", "filed_at", "resolved_at", "change_seq",
    ]  # fmt: skip
    with engine.connect() as connection:
        personal = [
            str(value)
            for row in connection.execute(
                text("SELECT citizen_id, reference, claim, dose_id, reason, resolved_by "
                     "FROM correction_requests")
            )
            for value in row
            if value
        ]  # fmt: skip
    stored = " ".join(
        str(value)
        for row in warehouse.rows("SELECT * FROM {db:Identifier}.correction_requests")
        for value in row
    )
    assert personal and not [value for value in personal if value in stored]
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.correction_requests FINAL") == len(
        PLAN
    )


def test_an_empty_backlog_is_all_withheld(warehouse: Warehouse, tmp_path: Path) -> None:
    client = client_of(warehouse, tmp_path)
    national = client.get("/api/v1/corrections").get_json()["data"]
    assert len(national) == 1 and all(national[0][c] is None for c in backlog.COUNTS)
    assert client.get("/api/v1/corrections?by=month").get_json()["data"] == []
    page = client.get("/corrections?lang=en").get_data(as_text=True)
    assert 'data-withheld="small"' in page and "data-value=" not in page
