"""The officials' summary, ``GET /internal/api/v1/summary``, in-process on a real warehouse
(chDB) and a real registry (SQLite) with the real login: access, the provincial scope,
the fields, and figures equal to direct SQL and to answers worked out by hand.

The data is :func:`tests.dashboards_data.fill` (4 Aug 2021, "now" 10:59, not live) plus
:func:`more`: doses either side of the 24 h window, and stock pairs that are active or not,
in stock or not. Worked answers for the whole country (provinces 01 / 79 in brackets):

* doses in [3 Aug 11:00, 4 Aug 11:00): the six of 4 Aug plus e1 (3 Aug 11:00:00) and e3
  (3 Aug 20:00) = 8 (01: 4 + e1 = 5; 79: 2 + e3 = 3); e2 (10:59:59) is a second early, e5
  was moved to 2 Aug by a correction, d7 is from July;
* sites open at 10:59: S01-A, S01-B, S79-A (open 07:00-17:00) = 3 (2 / 1); silent: S01-B
  (last dose in the 07:00 hour, silent since 08:00: 2 h 59 min) = 1 (1 / 0);
* wastage over 6 Jul - 4 Aug: administered 5 + 3 + 1 (01) + 3 + 2 (79) = 14, lost: 1 wasted
  at S79-A + 2 expired at the national store = 3: 3 / 17 (01: 0 / 9 = 0; 79: 1 / 6);
* site x product pairs with a movement in those 30 days: S01-A, S01-B and S79-A with the
  first product, S01-B and S79-A with the second = 5 (3 / 2); S01-A's second product last
  moved on 2 Jul (not active); out of stock at the end of 4 Aug: S79-A's second product
  (2 in, 2 given) = 1 (0 / 1); S01-A's 60 doses given on 5 Aug are after the day.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pandas as pd
import pytest

import dashboards.background
import dashboards.summary
from dashboards import users
from dashboards.client_requests import log_in, render_body
from dashboards.reads import READS
from dashboards.summary import site_products
from geo.calendar import TIME_ZONE
from tests.dashboards_data import PASSWORD, VACCINE, csrf_of, fill, write_doses
from tests.doses import dose, states
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse, observe_statements
from warehouse.ledger import write_states
from web.cache import CACHE

pytestmark = pytest.mark.integration

SUMMARY = "/internal/api/v1/summary"
OTHER = "EU/1/20/1528"
#: the 24 h up to "now" (10:59, the whole minute)
WINDOW = (datetime(2021, 8, 3, 11, 0), datetime(2021, 8, 4, 11, 0))
FIELDS = {
    "as_of": str,
    "live": bool,
    "scope": str,
    "doses_last_24h": int,
    "sites_open_now": int,
    "sites_silent_now": int,
    "silent_site_hours": int,
    "wastage_rate_30d": float,
    "stock_outs_now": int,
    "site_products_active": int,
    "stale": bool,
    "sample_fraction": float,
    "simulated": bool,
}


def more(warehouse: Warehouse) -> None:
    """Doses around the window's edges and stock pairs around the 30 days (module doc)."""
    doses = [
        ("e1", "k21", "01", "S01-A", "2021-08-03 11:00:00"),
        ("e2", "k22", "01", "S01-A", "2021-08-03 10:59:59"),
        ("e3", "k23", "79", "S79-A", "2021-08-03 20:00:00"),
        ("e5", "k25", "79", "S79-A", "2021-08-03 12:00:00"),
    ]
    write_doses(warehouse, doses, "summary")
    write_states(
        warehouse,
        states(dose("e5", version=2, citizen_key="k25", province_code="79", site_id="S79-A",
                    administered_at="2021-08-02 12:00", recorded_at="2021-08-03 12:00")),
        batch="summary-correction",
    )  # fmt: skip
    far = date(2022, 1, 1)
    movements = [
        ("transferred", "site", "79", "S79-A", OTHER, 2, "2021-08-01 11:00"),
        ("administered", "site", "79", "S79-A", OTHER, -2, "2021-08-02 10:00"),
        ("transferred", "site", "01", "S01-A", OTHER, 4, "2021-07-01 11:00"),
        ("administered", "site", "01", "S01-A", OTHER, -4, "2021-07-02 10:00"),
        ("transferred", "site", "01", "S01-B", OTHER, 3, "2021-07-06 00:00"),
        ("administered", "site", "01", "S01-A", VACCINE, -60, "2021-08-05 08:00"),
        ("expired", "national", "", "", VACCINE, -2, "2021-08-03 00:00"),
    ]
    warehouse.insert_frame("stock_movements", pd.DataFrame([
        {"movement_id": 100 + n, "kind": kind, "level": level, "province_code": p, "site_id": s, "vaccine_code": v,
         "lot_number": "LOT-X", "expiry_date": far, "quantity": q, "moved_at": pd.Timestamp(t, tz=TIME_ZONE),
         "transfer_id": 0, "change_seq": 100 + n}
        for n, (kind, level, p, s, v, q, t) in enumerate(movements)
    ]), dedup_token="summary-stock")  # fmt: skip


@pytest.fixture
def server(warehouse: Warehouse, tmp_path: Path) -> Iterator[flask.Flask]:
    fill(warehouse)
    more(warehouse)
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    built = create_server(Services(settings=settings, warehouse=warehouse))
    engine = built.extensions["vaxviet.dashboards.users"]
    users.add_user(engine, "nat-official", PASSWORD, "national")
    users.add_user(engine, "hanoi-official", PASSWORD, "province", "01")
    users.add_user(engine, "hcm-official", PASSWORD, "province", "79")
    yield built
    built.extensions[dashboards.background.BUILDS_KEY].shutdown()


def client_of(server: flask.Flask, name: str) -> Any:
    client = server.test_client()
    log_in(client, name, PASSWORD)
    return client


def summary(client: Any, query: str = "") -> dict[str, Any]:
    response = client.get(SUMMARY + query)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    document: dict[str, Any] = response.get_json()
    return document


FIGURES = (
    "doses_last_24h",
    "sites_open_now",
    "sites_silent_now",
    "wastage_rate_30d",
    "stock_outs_now",
    "site_products_active",
)


def figures(document: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(document[name] for name in FIGURES)


# -- access -------------------------------------------------------------------------------------


def test_without_a_login_the_answer_is_401_json(server: flask.Flask) -> None:
    client = server.test_client()
    for query in ("", "?province=79"):
        response = client.get(SUMMARY + query)
        assert response.status_code == 401
        assert response.get_json() == {"error": "login required"}
        assert "Location" not in response.headers
    log_in(client, "nat-official", PASSWORD)
    assert client.get(SUMMARY).status_code == 200
    page = client.post(
        "/internal/_dash-update-component",
        json=render_body("/internal/", ""),
    )
    out = client.post("/internal/logout", data={"csrf": csrf_of(page.data.decode())})
    assert out.status_code == 302
    assert client.get(SUMMARY).status_code == 401


def test_a_login_by_a_script_with_the_session_cookie(server: flask.Flask) -> None:
    """What the curl example in docs/dashboards.md does: the form's token, POST the login,
    keep the cookie."""
    client = server.test_client()
    log_in(client, "hcm-official", PASSWORD)
    assert client.get_cookie(server.config["SESSION_COOKIE_NAME"]) is not None  # "vaxviet"
    assert summary(client)["scope"] == "79"


# -- the provincial scope ---------------------------------------------------------------------


def test_a_provincial_user_gets_only_their_province(server: flask.Flask) -> None:
    hanoi = client_of(server, "hanoi-official")
    own = summary(hanoi)
    assert own["scope"] == "01"
    assert figures(own) == (5, 2, 1, 0.0, 0, 3)
    assert summary(hanoi, "?province=01") == own
    for query in ("?province=79", "?province=48"):
        refused = hanoi.get(SUMMARY + query)
        assert refused.status_code == 403
        assert refused.get_json() == {
            "error": "this province is outside your scope",
            "parameter": "province",
        }
    hcm = summary(client_of(server, "hcm-official"))
    assert hcm["scope"] == "79"
    assert figures(hcm) == (3, 1, 0, pytest.approx(1 / 6), 1, 2)


def test_a_national_user_gets_the_nation_and_any_province(server: flask.Flask) -> None:
    client = client_of(server, "nat-official")
    whole = summary(client)
    assert whole["scope"] == "national"
    assert figures(whole) == (8, 3, 1, pytest.approx(3 / 17), 1, 5)
    assert figures(summary(client, "?province=79")) == (3, 1, 0, pytest.approx(1 / 6), 1, 2)
    empty = summary(client, "?province=48")  # Đà Nẵng: nothing in the data
    assert (empty["scope"], figures(empty)) == ("48", (0, 0, 0, None, 0, 0))
    unknown = client.get(SUMMARY + "?province=99")
    assert unknown.status_code == 400
    assert unknown.get_json()["parameter"] == "province"


# -- fields and figures ---------------------------------------------------------------------------


def test_fields_and_types(server: flask.Flask) -> None:
    document = summary(client_of(server, "nat-official"))
    assert set(document) == set(FIELDS)
    for name, kind in FIELDS.items():
        assert isinstance(document[name], kind), (name, document[name])
    as_of = datetime.fromisoformat(document["as_of"])
    assert document["as_of"] == "2021-08-04T10:59:00+07:00"
    assert as_of.utcoffset() == timedelta(hours=7)
    assert document["live"] is False  # the latest dose hour is years before the clock
    assert document["stale"] is False
    assert document["silent_site_hours"] == 2
    assert 0 <= document["wastage_rate_30d"] <= 1
    assert (document["sample_fraction"], document["simulated"]) == (1.0, False)  # no record


def test_the_sample_fraction_the_registry_recorded(
    server: flask.Flask, warehouse: Warehouse
) -> None:
    """A simulated registry's sample fraction, streamed into vax.registry_sample, is in the
    summary for every scope (the counts are what the data holds)."""
    client = client_of(server, "hanoi-official")
    before = summary(client)
    warehouse.command(
        "INSERT INTO {db:Identifier}.registry_sample "
        "(id, fraction, simulated, description, recorded_at, change_seq) "
        "VALUES (1, 0.002, true, 'seed --scale 0.002', now64(3), 1)"
    )
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('registry:registry_sample', 1, 'summary-sample')"
    )
    with server.app_context():
        CACHE.clear()  # the data version is cached for a few seconds: as when they pass
    after = summary(client)
    assert (after["sample_fraction"], after["simulated"]) == (0.002, True)
    assert figures(after) == figures(before)


def test_national_figures_equal_direct_sql(server: flask.Flask, warehouse: Warehouse) -> None:
    document = summary(client_of(server, "nat-official"))
    start, stop = WINDOW
    doses = warehouse.scalar(
        "SELECT count() FROM {db:Identifier}.doses_current "
        "WHERE administered_at >= {start:DateTime('Asia/Ho_Chi_Minh')} "
        "AND administered_at < {stop:DateTime('Asia/Ho_Chi_Minh')}",
        {"start": start, "stop": stop},
    )
    assert document["doses_last_24h"] == int(doses) == 8
    minute = 10 * 60 + 59
    open_sites = warehouse.scalar(
        "SELECT count() FROM {db:Identifier}.sites FINAL "
        "WHERE opens_minute <= {m:UInt32} AND {m:UInt32} < closes_minute",
        {"m": minute},
    )
    assert document["sites_open_now"] == int(open_sites) == 3
    moved = {"start": datetime(2021, 7, 6), "stop": datetime(2021, 8, 5)}
    administered, lost = warehouse.rows(
        "SELECT -sumIf(quantity, kind = 'administered'), -sumIf(quantity, kind IN ('wasted', 'expired')) "
        "FROM {db:Identifier}.stock_movements FINAL "
        "WHERE moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')} AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}",
        moved,
    )[0]  # fmt: skip
    assert document["wastage_rate_30d"] == pytest.approx(lost / (administered + lost))
    assert (administered, lost) == (14, 3)
    pairs = warehouse.rows(
        "SELECT site_id, vaccine_code, "
        "sumIf(quantity, moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}) AS held, "
        "countIf(moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')} AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}) AS recent "
        "FROM {db:Identifier}.stock_movements FINAL WHERE level = 'site' GROUP BY site_id, vaccine_code",
        moved,
    )  # fmt: skip
    active = [(site, product, held) for site, product, held, recent in pairs if recent]
    assert document["site_products_active"] == len(active) == 5
    assert document["stock_outs_now"] == sum(held <= 0 for *_, held in active) == 1


@pytest.mark.parametrize("province", ["", "01", "79"])
def test_site_products_sql_agrees_with_the_reference(warehouse: Warehouse, province: str) -> None:
    fill(warehouse)
    more(warehouse)
    ledger = warehouse.frame(
        "SELECT toDate(moved_at) AS day, level, province_code, site_id, vaccine_code, lot_number, "
        "expiry_date, kind, sum(quantity) AS quantity FROM {db:Identifier}.stock_movements FINAL "
        "GROUP BY ALL"
    )
    scoped = ledger if not province else ledger[ledger["province_code"] == province]
    for day in (date(2021, 8, 4), date(2021, 8, 5), date(2021, 7, 31), date(2021, 9, 1)):
        stop = datetime.combine(day, datetime.min.time()) + timedelta(days=1)
        pairs = READS["stock_site_products"].run(
            warehouse, province=province, start=stop - timedelta(days=30), stop=stop
        )
        sql = int(pairs["active"].sum()), int(pairs["stock_outs"].sum())
        assert sql == site_products(scoped, day), day
    expected = {"": (5, 1), "01": (3, 0), "79": (2, 1)}[province]
    assert site_products(scoped, date(2021, 8, 4)) == expected


def test_doses_follow_the_clock_and_new_commits(
    server: flask.Flask, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While doses arrive, "now" is the wall clock and the count of the last 24 h moves
    with it and with each new dose."""
    client = client_of(server, "nat-official")
    monkeypatch.setattr(dashboards.summary, "local_now", lambda: datetime(2021, 8, 4, 11, 30))
    live = summary(client)
    assert (live["as_of"], live["live"]) == ("2021-08-04T11:30:00+07:00", True)
    assert live["doses_last_24h"] == 7  # from 3 Aug 11:31: e1 (11:00) is out
    assert (live["sites_open_now"], live["sites_silent_now"]) == (3, 1)
    at = "2021-08-04 11:10"
    write_states(
        warehouse,
        states(dose("e6", citizen_key="k26", province_code="79", site_id="S79-A", administered_at=at, recorded_at=at)),
        batch="summary-live",
    )  # fmt: skip
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('registry:doses', 200, 'summary-live')"
    )
    with server.app_context():
        CACHE.clear()  # the data version is cached for a few seconds: as when they pass
    assert summary(client)["doses_last_24h"] == 8


def test_a_repeated_call_reads_nothing_from_the_warehouse(server: flask.Flask) -> None:
    client = client_of(server, "nat-official")
    first = summary(client)
    seen: list[str] = []

    def record(statement: str, seconds: float) -> None:
        if "AS version, count() AS commits" not in statement:  # the data version's read
            seen.append(statement)

    with contextlib.ExitStack() as stack:
        stack.enter_context(observe_statements(record))
        again = summary(client)
    assert again == first
    assert seen == []
