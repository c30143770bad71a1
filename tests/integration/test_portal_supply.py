"""Supply, registrations and doses per province and day (``/api/v1/supply``, ``/supply``) on
a small hand-made warehouse: the operations of :mod:`tests.dashboards_data` (a national
store shipping to Hà Nội and TP Hồ Chí Minh, moves within each province, doses and
registrations on 4 Aug 2021) plus a transfer from one province to the other, a direct
delivery to a province store, a registration made and served the same day, one made after
its slot, one at a site the register does not know, and one cancelled later. Every figure of
the API is compared with direct SQL on the warehouse's tables, written from the definitions
(docs/portal.md, "Supply"), and a few with answers worked out by hand.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import flask
import pandas as pd
import pytest

from geo.calendar import TIME_ZONE
from tests.dashboards_data import VACCINE, fill
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

FIRST, LAST = date(2021, 7, 20), date(2021, 8, 4)


def _at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TIME_ZONE)


def _movement(n: int, kind: str, level: str, province: str, quantity: int, at: str,
              transfer: int) -> dict[str, Any]:  # fmt: skip
    return {
        "movement_id": n, "kind": kind, "level": level, "province_code": province,
        "site_id": "", "vaccine_code": VACCINE, "lot_number": "LOT-X",
        "expiry_date": date(2022, 1, 1), "quantity": quantity, "moved_at": _at(at),
        "transfer_id": transfer, "change_seq": n,
    }  # fmt: skip


def extend(warehouse: Warehouse) -> None:
    """What :func:`tests.dashboards_data.fill` lacks for these definitions."""
    movements = [
        # Hà Nội's store sends 20 doses to TP Hồ Chí Minh's on 3 Aug: a delivery to 79 only
        _movement(101, "transferred", "province", "01", -20, "2021-08-03 12:00", 7),
        _movement(102, "transferred", "province", "79", 20, "2021-08-03 14:00", 7),
        # a direct delivery to TP Hồ Chí Minh's store on 4 Aug
        _movement(103, "received", "province", "79", 40, "2021-08-04 06:00", 0),
    ]
    warehouse.insert_frame("stock_movements", pd.DataFrame(movements), dedup_token="supply")
    registrations = [
        # made and served on 3 Aug at S79-A: pending that day only
        (101, "k20", "S79-A", "2021-08-03 15:00", "2021-08-03 09:00", "attended", 101),
        # made after its slot's day: never pending
        (102, "k21", "S79-A", "2021-08-02 15:00", "2021-08-03 09:00", "no_show", 102),
        # at a site the register does not know: in no province
        (103, "k22", "S99-Z", "2021-08-04 15:00", "2021-08-02 09:00", "booked", 103),
        # booked on 2 Aug for 4 Aug at S01-B, then cancelled (a later version): never pending
        (104, "k23", "S01-B", "2021-08-04 15:00", "2021-08-02 09:00", "booked", 104),
        (104, "k23", "S01-B", "2021-08-04 15:00", "2021-08-02 09:00", "cancelled", 105),
    ]
    frame = pd.DataFrame(
        [
            {"registration_id": i, "citizen_key": k, "site_id": s, "slot_start": _at(slot),
             "registered_at": _at(made), "status": status, "change_seq": seq}
            for i, k, s, slot, made, status, seq in registrations
        ]
    )  # fmt: skip
    warehouse.insert_frame("registrations", frame, dedup_token="supply")


@pytest.fixture
def client(warehouse: Warehouse, tmp_path: Path) -> flask.testing.FlaskClient:
    fill(warehouse)
    extend(warehouse)
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    return create_server(Services(settings=settings, warehouse=warehouse)).test_client()


def supply(client: flask.testing.FlaskClient, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/supply{query}")
    assert answer.status_code == 200, answer.get_json()
    rows: list[dict[str, Any]] = answer.get_json()["data"]
    return rows


def _by_province(warehouse: Warehouse, sql: str, day: date) -> dict[str, float]:
    return {str(p): v for p, v in warehouse.rows(sql, {"day": day})}


DELIVERED = """
SELECT r.province_code, sum(r.quantity)
FROM (SELECT * FROM {db:Identifier}.stock_movements FINAL
      WHERE level != 'national' AND quantity > 0 AND kind IN ('received', 'transferred')
        AND toDate(moved_at) = {day:Date}) AS r
LEFT JOIN (SELECT transfer_id, level, province_code FROM {db:Identifier}.stock_movements FINAL
           WHERE kind = 'transferred' AND quantity < 0) AS s ON s.transfer_id = r.transfer_id
WHERE r.kind = 'received' OR s.level = 'national' OR s.province_code != r.province_code
GROUP BY r.province_code
"""
ON_HAND = """
SELECT province_code, sum(quantity) FROM {db:Identifier}.stock_movements FINAL
WHERE level != 'national' AND moved_at < toDateTime({day:Date} + 1, 'Asia/Ho_Chi_Minh')
GROUP BY province_code
"""
PENDING = """
SELECT s.province_code, count()
FROM {db:Identifier}.registrations AS r FINAL
INNER JOIN (SELECT site_id, province_code FROM {db:Identifier}.sites FINAL) AS s
    ON s.site_id = r.site_id
WHERE r.status != 'cancelled'
  AND toDate(r.registered_at) <= {day:Date} AND toDate(r.slot_start) >= {day:Date}
GROUP BY s.province_code
"""
DOSES = """
SELECT province_code, count() FROM {db:Identifier}.doses_current
WHERE toDate(administered_at) = {day:Date} GROUP BY province_code
"""
DOSES_7D = """
SELECT province_code, count() FROM {db:Identifier}.doses_current
WHERE toDate(administered_at) BETWEEN {day:Date} - 6 AND {day:Date} GROUP BY province_code
"""


def test_every_figure_equals_direct_sql(
    client: flask.testing.FlaskClient, warehouse: Warehouse
) -> None:
    rows = supply(client)
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    assert len(rows) == 63 * len(days)
    assert {row["level"] for row in rows} == {"province"}
    table = {(row["area_code"], row["date"]): row for row in rows}
    for day in days:
        delivered = _by_province(warehouse, DELIVERED, day)
        on_hand = _by_province(warehouse, ON_HAND, day)
        pending = _by_province(warehouse, PENDING, day)
        doses = _by_province(warehouse, DOSES, day)
        week = _by_province(warehouse, DOSES_7D, day)
        for (code, when), row in table.items():
            if when != day.isoformat():
                continue
            assert row["delivered"] == delivered.get(code, 0), (code, when)
            assert row["on_hand"] == on_hand.get(code, 0), (code, when)
            assert row["pending"] == pending.get(code, 0), (code, when)
            assert row["doses"] == doses.get(code, 0), (code, when)
            avg7 = week.get(code, 0) / 7
            assert row["doses_avg7"] == round(avg7, 4), (code, when)
            cover = None if avg7 == 0 else round(on_hand.get(code, 0) / avg7, 4)
            assert row["days_of_supply"] == cover, (code, when)


def test_figures_worked_out_by_hand(client: flask.testing.FlaskClient) -> None:
    rows = {(r["area_code"], r["date"]): r for r in supply(client, "?area=01,79")}
    hanoi, hcmc = rows[("01", "2021-08-04")], rows[("79", "2021-08-04")]
    # national -> Hà Nội on 1 Aug (300); its store -> its sites delivers nothing
    assert [rows[("01", f"2021-08-0{d}")]["delivered"] for d in (1, 2, 3, 4)] == [300, 0, 0, 0]
    # national -> 79 on 2 Aug (95, 5 short), Hà Nội -> 79 on 3 Aug (20), direct on 4 Aug (40)
    assert [rows[("79", f"2021-08-0{d}")]["delivered"] for d in (1, 2, 3, 4)] == [0, 95, 20, 40]
    # Hà Nội: 300 in, 5 given on 22 Jul (stock the data never saw arrive), 20 sent to 79,
    # 4 given on 4 Aug: 271; TP Hồ Chí Minh: 95 + 20 + 40 in, 3 given and 1 wasted: 151
    assert (hanoi["on_hand"], hcmc["on_hand"]) == (271, 151)
    assert rows[("01", "2021-07-25")]["on_hand"] == -5
    # 4 doses (Hà Nội) and 2 (79) in the week ending 4 Aug
    assert (hanoi["doses"], hanoi["doses_avg7"], hanoi["days_of_supply"]) == (4, 0.5714, 474.25)
    assert (hcmc["doses"], hcmc["days_of_supply"]) == (2, 528.5)
    # no dose in the week ending 3 Aug: no days of supply
    assert rows[("01", "2021-08-03")]["days_of_supply"] is None
    # three registrations (one cancelled at once, one later) for 4 Aug in Hà Nội, made 1 Aug;
    # in 79 one for 4 Aug and one for 6 Aug, and one made and served on 3 Aug
    assert [rows[("01", f"2021-08-0{d}")]["pending"] for d in (1, 2, 3, 4)] == [3, 3, 3, 3]
    assert [rows[("79", f"2021-08-0{d}")]["pending"] for d in (1, 2, 3, 4)] == [2, 2, 3, 2]
    assert rows[("01", "2021-07-31")]["pending"] == 0


def test_areas_days_order_and_csv(client: flask.testing.FlaskClient) -> None:
    rows = supply(client, "?area=79,01&from=2021-08-03&to=2021-08-04")
    assert [(r["area_code"], r["date"]) for r in rows] == [
        ("79", "2021-08-03"), ("79", "2021-08-04"), ("01", "2021-08-03"), ("01", "2021-08-04"),
    ]  # fmt: skip
    assert rows[0]["name_en"] == "Ho Chi Minh City" and rows[2]["name_vi"] == "Hà Nội"
    answer = client.get("/api/v1/supply?area=79,01&from=2021-08-03&to=2021-08-04&format=csv")
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8"))))
    assert len(lines) == len(rows)
    for row, line in zip(rows, lines, strict=True):
        assert list(row) == list(line)
        for key, value in row.items():
            assert line[key] == ("" if value is None else str(value)), (key, row, line)
    assert supply(client, "?from=2021-08-05") == []
    document = client.get("/api/v1/supply?area=01&to=2021-07-20").get_json()
    assert document["meta"]["endpoint"] == "supply" and document["meta"]["level"] == "province"
    assert document["meta"]["sample_fraction"] == 1.0 and document["meta"]["rows"] == 1


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("?level=national", 400, "level"),
        ("?area=VN", 400, "area"),
        ("?date=2021-08-04", 400, "date"),
        ("?from=2021-13-01", 400, "from"),
        ("?denominator=total", 400, "denominator"),
    ],
)
def test_refused(
    client: flask.testing.FlaskClient, query: str, status: int, parameter: str
) -> None:
    answer = client.get(f"/api/v1/supply{query}")
    assert answer.status_code == status
    assert answer.get_json()["error"]["parameter"] == parameter


def test_page_shows_the_api_figures(client: flask.testing.FlaskClient) -> None:
    """The page's table (server-rendered HTML) for a chosen day and its chart's province."""
    from portal.pages.supply import TABLE_BODY_ID

    page = client.get("/supply?date=2021-08-03&province=79&lang=en")
    assert page.status_code == 200
    html = page.data.decode("utf-8")
    assert TABLE_BODY_ID in html and "supply-chart-79" in html
    rows = supply(client, "?area=79&from=2021-08-03&to=2021-08-03")
    assert 'data-value="20"' in html  # delivered to 79 that day
    assert f'data-value="{rows[0]["pending"]}"' in html
    assert "Vaccine supply" in html
