"""The internal dashboards in-process on a real warehouse (chDB) and a real registry
(SQLite): access control, the provincial scope enforced in the queries (pages, forged
callback posts, CSV exports), sessions, and figures equal to direct SQL.

The data is hand-made (:mod:`tests.dashboards_data`), with answers worked out by hand; the
same rows feed the browser tests.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pandas as pd
import pytest
from sqlalchemy import select, update

import dashboards.background
import web.cache
from dashboards import sessions, users
from dashboards.client_requests import PATH, draw, drawn, log_in, render_body, version_body
from dashboards.frame import PREPARING_ID
from dashboards.warm import RECENT_SECONDS, DashboardWarmer, scopes, warm
from tests.conftest import ROOT
from tests.dashboards_data import DAY, PASSWORD, VACCINE, build, csrf_of, fill
from tests.doses import dose, states
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse, observe_statements
from warehouse.ledger import write_states
from warehouse.status import data_version
from web.cache import CACHE, VERSION_SECONDS

pytestmark = pytest.mark.integration


@pytest.fixture
def server(warehouse: Warehouse, tmp_path: Path) -> Iterator[flask.Flask]:
    fill(warehouse)
    built = build(warehouse, tmp_path)
    yield built
    built.extensions[dashboards.background.BUILDS_KEY].shutdown()  # no build outlives its test


@pytest.fixture
def versions_every_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data version is cached for one second instead of VERSION_SECONDS."""
    monkeypatch.setattr(web.cache, "VERSION_SECONDS", 1)


def commit_checkpoint(
    warehouse: Warehouse, position: int, token: str, source: str = "registry:doses"
) -> None:
    """A new ETL commit of `source` (a new data version)."""
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ({source:String}, {position:UInt64}, {token:String})",
        {"source": source, "position": position, "token": token},
    )


def csv_rows(client: Any, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def page(client: Any, path: str, search: str = "") -> str:
    """The page as a browser ends up drawing it (after any "preparing" polls)."""
    response, _ = draw(client, path, search)
    assert response.status_code == 200, response.data[:300]
    assert drawn(response), "still preparing after a minute"
    return json.dumps(response.get_json(), ensure_ascii=False)  # Vietnamese unescaped


# -- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/internal",
        "/internal/",
        "/internal/stock",
        "/internal/quality?lang=en",
        "/internal/anything",
    ],
)
def test_anonymous_pages_redirect_to_the_login_page(server: flask.Flask, path: str) -> None:
    response = server.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/internal/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/internal/_dash-update-component"),
        ("get", "/internal/_dash-layout"),
        ("get", "/internal/_dash-dependencies"),
        ("get", "/internal/export/stock/on_hand.csv"),
        ("get", "/internal/export/throughput/provinces.csv?province=79"),
        ("post", "/internal/logout"),
    ],
)
def test_anonymous_data_requests_get_401(server: flask.Flask, method: str, path: str) -> None:
    client = server.test_client()
    kwargs: dict[str, Any] = {"json": render_body("/internal/", "")} if method == "post" else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 401
    assert b"S01-A" not in response.data and b"S79-A" not in response.data


def test_wrong_password_or_token_does_not_log_in(server: flask.Flask) -> None:
    client = server.test_client()
    form = client.get("/internal/login").data.decode()
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    wrong = client.post(
        "/internal/login",
        data={"csrf": token.group(1), "name": "nat-official", "password": "nope-nope-nope"},
    )
    assert wrong.status_code == 401 and b"login-error" in wrong.data
    forged = client.post(
        "/internal/login", data={"csrf": "forged", "name": "nat-official", "password": PASSWORD}
    )
    assert forged.status_code == 400
    assert client.get("/internal/").status_code == 302


def test_repeated_failed_logins_are_refused_for_a_while(server: flask.Flask) -> None:
    client = server.test_client()
    form = client.get("/internal/login").data.decode()
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    attempt = {"csrf": token.group(1), "name": "nat-official"}
    for _ in range(10):
        assert (
            client.post("/internal/login", data={**attempt, "password": "wrong-wrong"}).status_code
            == 401
        )
    refused = client.post("/internal/login", data={**attempt, "password": PASSWORD})
    assert refused.status_code == 429
    assert client.get("/internal/").status_code == 302
    log_in(client, "hanoi-official", PASSWORD)  # another account is not locked


def test_login_then_logout(server: flask.Flask) -> None:
    client = server.test_client()
    assert log_in(client, "nat-official", PASSWORD).headers["Location"] == "/internal/"
    assert "S01-A" in page(client, "/internal/", "?province=01")
    layout = client.get("/internal/_dash-layout")
    assert layout.status_code == 200
    assert client.get("/internal/login").status_code == 302  # already in: sent on
    token = csrf_of(page(client, "/internal/"))
    assert client.post("/internal/logout", data={"csrf": "wrong"}).status_code == 400
    out = client.post("/internal/logout", data={"csrf": token})
    assert out.status_code == 302 and out.headers["Location"].startswith("/internal/login")
    assert (
        client.post(
            "/internal/_dash-update-component", json=render_body("/internal/", "")
        ).status_code
        == 401
    )


def test_sessions_expire(warehouse: Warehouse, tmp_path: Path) -> None:
    fill(warehouse)
    server = build(warehouse, tmp_path, VAX_INTERNAL_SESSION_MINUTES="1")
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    assert client.get("/internal/export/stock/on_hand.csv").status_code == 200
    engine = server.extensions["vaxviet.dashboards.users"]
    with engine.connect() as connection:
        ((started, expires),) = connection.execute(
            select(sessions.SESSIONS.c.started_at, sessions.SESSIONS.c.expires_at)
        ).all()
    assert (expires - started).total_seconds() == 60  # a minute from the login
    # the minute has passed (the session's row says so): the session ends on the server
    with engine.begin() as connection:
        connection.execute(
            update(sessions.SESSIONS).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get("/internal/export/stock/on_hand.csv").status_code == 401
    assert client.get("/internal/").status_code == 302
    with engine.connect() as connection:
        reasons = connection.execute(select(sessions.SESSIONS.c.end_reason)).scalars().all()
    assert reasons == ["expired"]


def test_a_disabled_user_is_out_at_the_next_request(server: flask.Flask) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    assert client.get("/internal/export/stock/on_hand.csv").status_code == 200
    users.set_active(server.extensions["vaxviet.dashboards.users"], "nat-official", False)
    assert client.get("/internal/export/stock/on_hand.csv").status_code == 401


# -- the provincial scope ---------------------------------------------------------------------


def test_a_provincial_user_sees_only_their_province(server: flask.Flask) -> None:
    client = server.test_client()
    log_in(client, "hanoi-official", PASSWORD)
    for path in ("/internal/", "/internal/stock", "/internal/quality"):
        own = page(client, path)
        assert '"data-province": "01"' in own or '"data-province":"01"' in own
        assert "S79" not in own and "LOT-79" not in own
    assert "S01-A" in page(client, "/internal/")


def test_a_forged_callback_for_another_province_gets_nothing_of_it(server: flask.Flask) -> None:
    client = server.test_client()
    log_in(client, "hanoi-official", PASSWORD)
    for path in ("/internal/", "/internal/stock", "/internal/quality"):
        forged = page(client, path, "?province=79")
        assert "dash-denied" in forged
        assert "S79" not in forged and "LOT-79" not in forged and "S01" not in forged
    for key in ("throughput/sites", "stock/on_hand", "quality/unknown_sites"):
        assert client.get(f"/internal/export/{key}.csv?province=79").status_code == 403
    rows = csv_rows(client, "/internal/export/stock/on_hand.csv")
    assert rows and {row["province_code"] for row in rows} == {"01"}
    rejects = csv_rows(client, "/internal/export/quality/rejects_province.csv")
    assert {row["province_code"] for row in rejects} == {"01"}


def test_a_national_user_drills_down_to_any_province(server: flask.Flask) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    whole = csv_rows(client, "/internal/export/throughput/provinces.csv")
    assert {row["province_code"]: int(row["doses_today"]) for row in whole} == {"01": 4, "79": 2}
    sites = csv_rows(client, "/internal/export/throughput/sites.csv?province=79")
    assert [row["site_id"] for row in sites] == ["S79-A"]
    stock = {row["province_code"] for row in csv_rows(client, "/internal/export/stock/on_hand.csv")}
    assert stock == {"", "01", "79"}


# -- figures equal direct SQL and hand-worked answers ----------------------------------------------


def test_throughput_figures(server: flask.Flask, warehouse: Warehouse) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    direct = dict(
        warehouse.rows(
            "SELECT province_code, count() FROM {db:Identifier}.doses_current "
            "WHERE toDate(administered_at) = {d:Date} GROUP BY province_code",
            {"d": DAY},
        )
    )
    shown = {
        row["province_code"]: int(row["doses_today"])
        for row in csv_rows(client, "/internal/export/throughput/provinces.csv")
    }
    assert shown == direct
    waits = {
        row["province_code"]: row
        for row in csv_rows(client, "/internal/export/throughput/waits.csv")
    }
    assert float(waits["01"]["median_minutes"]) == 15.0  # 10, 15, 30
    assert float(waits["01"]["p90_minutes"]) == pytest.approx(27.0)  # 15 + 0.8 x (30 - 15)
    assert float(waits["79"]["median_minutes"]) == 12.5  # 10, 15
    funnel = {
        row["province_code"]: row
        for row in csv_rows(client, "/internal/export/throughput/funnel.csv")
    }
    assert (
        funnel["01"]["registered"],
        funnel["01"]["checked_in"],
        funnel["01"]["vaccinated"],
        funnel["01"]["cancelled"],
    ) == ("3", "2", "2", "1")
    backlog = {
        row["province_code"]: row
        for row in csv_rows(client, "/internal/export/throughput/backlog.csv")
    }
    assert (backlog["79"]["upcoming"], backlog["01"]["overdue"]) == ("1", "2")
    silent = [row["site_id"] for row in csv_rows(client, "/internal/export/throughput/silent.csv")]
    assert silent == ["S01-B"]  # last dose 07:00-08:00, "now" 10:59: silent 2 h 59 min
    body = page(client, "/internal/")
    assert '"data-value": "6"' in body or '"data-value":"6"' in body  # doses today


def test_stock_figures(server: flask.Flask, warehouse: Warehouse) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    rolled_up = {  # the whole country: a province's sites in one row
        (level, province, lot): int(quantity)
        for level, province, lot, quantity in warehouse.rows(
            "SELECT level, province_code, lot_number, sum(quantity) AS q "
            "FROM {db:Identifier}.stock_movements FINAL GROUP BY level, province_code, lot_number HAVING q != 0"
        )
    }
    shown = {
        (r["level"], r["province_code"], r["lot_number"]): int(r["quantity"])
        for r in csv_rows(client, "/internal/export/stock/on_hand.csv")
    }
    assert shown == rolled_up
    per_site = {
        (site, lot): int(quantity)
        for site, lot, quantity in warehouse.rows(
            "SELECT site_id, lot_number, sum(quantity) AS q FROM {db:Identifier}.stock_movements FINAL "
            "WHERE province_code = '01' GROUP BY site_id, lot_number HAVING q != 0"
        )
    }
    drilled = {
        (r["site_id"], r["lot_number"]): int(r["quantity"])
        for r in csv_rows(client, "/internal/export/stock/on_hand.csv?province=01")
    }
    assert (
        drilled == per_site == {("", "LOT-N"): 235, ("S01-A", "LOT-N"): 47, ("S01-B", "LOT-N"): 9}
    )
    transfers = csv_rows(client, "/internal/export/stock/transfers.csv")
    assert [(r["transfer_id"], r["difference"]) for r in transfers] == [("2", "-5")]
    administered = csv_rows(client, "/internal/export/stock/administered.csv")
    assert [(r["province_code"], r["stock_administered"], r["doses"]) for r in administered] == [
        ("79", "3", "2")
    ]
    alerts = {
        (r["alert"], r["place"]) for r in csv_rows(client, "/internal/export/stock/alerts.csv")
    }
    assert {
        ("Dưới 3 ngày đủ dùng", "S79-A"),
        ("Lô sắp hết hạn", "site"),  # the whole country: the province's sites together
        ("Lô sắp hết hạn", "province"),
        ("Điểm tiêm im lặng", "S01-B"),
    } <= alerts
    in_79 = {
        (r["alert"], r["place"])
        for r in csv_rows(client, "/internal/export/stock/alerts.csv?province=79")
    }
    assert ("Lô sắp hết hạn", "S79-A") in in_79


def ledger_by_day(warehouse: Warehouse) -> pd.DataFrame:
    """The stock ledger per day, place, product, lot and kind: the input of the reference
    functions in dashboards.stock."""
    frame = warehouse.frame(
        "SELECT toDate(moved_at) AS day, level, province_code, site_id, vaccine_code, lot_number, "
        "expiry_date, kind, sum(quantity) AS quantity FROM {db:Identifier}.stock_movements FINAL "
        "GROUP BY ALL"
    )
    frame["day"] = pd.to_datetime(frame["day"])
    frame["expiry_date"] = pd.to_datetime(frame["expiry_date"])
    return frame


@pytest.mark.parametrize("province", ["01", "79"])
def test_stock_sql_agrees_with_the_reference_functions(warehouse: Warehouse, province: str) -> None:
    from dashboards import stock
    from dashboards.reads import READS

    fill(warehouse)
    ledger = ledger_by_day(warehouse)
    scoped = ledger[ledger["province_code"] == province]
    start, stop = datetime(2021, 7, 29), datetime(2021, 8, 5)

    def keyed(frame: pd.DataFrame, keys: list[str], values: list[str]) -> dict[Any, Any]:
        return {
            tuple(row[k] for k in keys): tuple(row[v] for v in values)
            for row in frame.to_dict("records")
        }

    place = ["level", "site_id", "vaccine_code"]
    assert keyed(
        READS["stock_supply"].run(warehouse, province=province, start=start, stop=stop),
        place,
        ["on_hand", "used_7d"],
    ) == keyed(stock.days_of_supply(scoped, DAY), place, ["on_hand", "used_7d"])
    site = ["site_id", "vaccine_code"]
    assert keyed(
        READS["stock_outs"].run(warehouse, province=province, first=date(2021, 7, 6), days=30),
        site,
        ["stock_out_days", "on_hand"],
    ) == keyed(stock.stock_out_days(scoped, DAY), site, ["stock_out_days", "on_hand"])
    sql_waste = READS["stock_wastage"].run(warehouse, province=province, start=start, stop=stop)
    reference = stock.wastage(scoped, date(2021, 7, 29), DAY)
    counts = ["administered", "open_vial", "closed_vial"]
    assert keyed(sql_waste, ["province_code", "vaccine_code"], counts) == keyed(
        reference, ["province_code", "vaccine_code"], counts
    )
    low = READS["stock_low_sites"].run(
        warehouse, province=province, start=start, stop=stop, days=7, threshold=stock.LOW_COVER_DAYS
    )
    expected = stock.low_cover(stock.days_of_supply(scoped, DAY))
    assert (
        list(low["site_id"]) == list(expected["site_id"]) == (["S79-A"] if province == "79" else [])
    )
    outs = READS["stock_outs"].run(warehouse, province=province, first=date(2021, 7, 6), days=30)
    assert outs.values.tolist() == ([["01", "S01-B", VACCINE, 12, 9]] if province == "01" else [])


def test_quality_figures(server: flask.Flask, warehouse: Warehouse) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    reasons = {
        r["reason"]: int(r["rejects"])
        for r in csv_rows(client, "/internal/export/quality/rejects_reason.csv")
    }
    assert reasons == dict(
        warehouse.rows(
            "SELECT reason, count() FROM {db:Identifier}.etl_rejects FINAL GROUP BY reason"
        )
    )
    unknown = csv_rows(client, "/internal/export/quality/unknown_sites.csv")
    assert [(r["site_id"], r["doses"]) for r in unknown] == [("S01-X", "1")]
    sources = csv_rows(client, "/internal/export/quality/sources.csv")
    assert [r["source"] for r in sources] == ["registry:doses"]
    assert float(sources[0]["rows_per_second"]) == pytest.approx(100 / 2.0)
    body = page(client, "/internal/quality", "?lang=en")
    assert "dq-reconcile" in body
    examples = csv_rows(client, "/internal/export/quality/examples.csv")
    assert examples and all("citizen_id" not in r["record"] for r in examples)


def test_corrections_and_voids_change_the_dose_figures(
    server: flask.Flask, warehouse: Warehouse
) -> None:
    """The check-in times, the funnel and the unknown sites read the narrow tables fed from
    the ledger (dose_visits, site_doses): a correction moves a dose, a void removes it."""
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    waits = {
        r["province_code"]: r for r in csv_rows(client, "/internal/export/throughput/waits.csv")
    }
    assert (waits["01"]["checkins"], waits["01"]["median_minutes"]) == ("3", "15.0")  # 10, 15, 30
    at = "2021-08-04 08:40"  # d1 (k1, scanned 08:00) was given at 08:10: now 08:40
    write_states(
        warehouse,
        states(
            dose("d1", version=2, citizen_key="k1", province_code="01", site_id="S01-A", administered_at=at, recorded_at=at),
            dose("d2", version=2, status="void", citizen_key="k2", province_code="01", site_id="S01-A",
                 administered_at="2021-08-04 08:20", recorded_at="2021-08-04 08:20"),
            dose("d7", version=2, status="void", citizen_key="k11", province_code="01", site_id="S01-X",
                 administered_at="2021-07-20 12:00", recorded_at="2021-07-20 12:00"),
        ),
        batch="corrections",
    )  # fmt: skip
    before = data_version(warehouse)
    commit_checkpoint(warehouse, 103, "b2")
    assert data_version(warehouse) != before
    with server.app_context():
        CACHE.clear()  # the data version is cached for a few seconds: as when they pass
    waits = {
        r["province_code"]: r for r in csv_rows(client, "/internal/export/throughput/waits.csv")
    }
    assert (waits["01"]["checkins"], waits["01"]["median_minutes"]) == ("2", "35.0")  # 40, 30
    assert waits["79"]["median_minutes"] == "12.5"  # untouched
    funnel = {
        r["province_code"]: r for r in csv_rows(client, "/internal/export/throughput/funnel.csv")
    }
    assert (funnel["01"]["checked_in"], funnel["01"]["vaccinated"]) == ("2", "1")  # k2's dose void
    assert csv_rows(client, "/internal/export/quality/unknown_sites.csv") == []  # d7 void


def test_dose_visits_and_site_doses_agree_with_doses_current(warehouse: Warehouse) -> None:
    """The narrow tables hold exactly the live doses after new doses, corrections (site,
    time, citizen), voids, a restore and a replayed batch, in any arrival order."""
    at = "2021-08-04 09:00"
    first = [
        dose(f"v{n}", citizen_key=f"c{n}", site_id="S01-A", administered_at=at, recorded_at=at)
        for n in range(6)
    ]
    later = [
        dose("v0", version=2, site_id="S01-B", administered_at="2021-08-04 10:30", recorded_at=at),  # moved
        dose("v1", version=2, citizen_key="c9", administered_at=at, recorded_at=at, site_id="S01-A"),  # other person
        dose("v2", version=3, status="void", citizen_key="c2", site_id="S01-A", administered_at=at, recorded_at=at),
        dose("v3", version=2, status="void", citizen_key="c3", site_id="S01-A", administered_at=at, recorded_at=at),
        dose("v2", version=2, citizen_key="c2", site_id="S01-A", administered_at="2021-08-05 08:00", recorded_at=at),  # stale
        dose("v4", version=2, site_id="S79-A", province_code="79", citizen_key="c4", administered_at="2021-08-03 23:59:59", recorded_at=at),
    ]  # fmt: skip
    write_states(warehouse, states(*first), batch="first")
    write_states(warehouse, states(*later), batch="later")
    write_states(warehouse, states(*later), batch="later")  # replayed: nothing new
    write_states(
        warehouse,
        states(
            dose(
                "v3",
                version=3,
                citizen_key="c3",
                site_id="S01-A",
                administered_at=at,
                recorded_at=at,
            )
        ),
        batch="restore",
    )
    live = sorted(
        warehouse.rows(
            "SELECT toDate(administered_at), province_code, site_id, citizen_key, toString(administered_at), "
            "toInt64(count()) FROM {db:Identifier}.doses_current GROUP BY ALL"
        )
    )
    visits = sorted(
        warehouse.rows(
            "SELECT day, province_code, site_id, citizen_key, toString(administered_at), toInt64(sum(doses)) AS n "
            "FROM {db:Identifier}.dose_visits GROUP BY day, province_code, site_id, citizen_key, administered_at "
            "HAVING n != 0"
        )
    )
    assert visits == live and len(live) == 5  # v2 void; v4 on 3 Aug (local day)
    per_site = dict(
        warehouse.rows(
            "SELECT site_id, toInt64(sum(doses)) FROM {db:Identifier}.site_doses GROUP BY site_id"
        )
    )
    assert per_site == {"S01-A": 3, "S01-B": 1, "S79-A": 1}


@pytest.mark.usefixtures("versions_every_second")
def test_stock_figures_follow_the_stock_source_not_every_commit(
    server: flask.Flask, warehouse: Warehouse
) -> None:
    """Stock figures are cached on the versions of the sources that write stock_movements:
    a dose commit keeps them, a stock commit renews them."""
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)

    def national_lot_n() -> int:
        rows = csv_rows(client, "/internal/export/stock/on_hand.csv")
        return next(
            int(r["quantity"])
            for r in rows
            if (r["level"], r["lot_number"]) == ("national", "LOT-N")
        )

    def commit(source: str, position: int) -> None:
        commit_checkpoint(warehouse, position, source, source)
        time.sleep(1.1)  # the data version is re-read

    held = national_lot_n()
    warehouse.insert_frame("stock_movements", pd.DataFrame([
        {"movement_id": 99, "kind": "received", "level": "national", "province_code": "", "site_id": "",
         "vaccine_code": VACCINE, "lot_number": "LOT-N", "expiry_date": date(2022, 1, 1), "quantity": 7,
         "moved_at": pd.Timestamp("2021-08-04 09:00", tz="Asia/Ho_Chi_Minh"), "transfer_id": 0, "change_seq": 99}
    ]), dedup_token="more-stock")  # fmt: skip
    commit("registry:doses", 101)
    assert national_lot_n() == held  # no stock commit yet: the cached figure stands
    commit("registry:stock_movements", 99)
    assert national_lot_n() == held + 7


@pytest.fixture
def counting_queries() -> Iterator[Callable[[], list[str]]]:
    """`counting_queries()` starts recording every statement the warehouse runs (the
    data-version reads left out) until the test ends, and returns the list it fills."""
    with contextlib.ExitStack() as stack:

        def start() -> list[str]:
            seen: list[str] = []

            def record(statement: str, seconds: float) -> None:
                if "AS version, count() AS commits" not in statement:
                    seen.append(statement)

            stack.enter_context(observe_statements(record))
            return seen

        yield start


@pytest.mark.usefixtures("versions_every_second")
def test_the_warmer_builds_the_recently_viewed_pages_after_a_commit(
    server: flask.Flask, warehouse: Warehouse, counting_queries: Callable[[], list[str]]
) -> None:
    national, hanoi = server.test_client(), server.test_client()
    log_in(national, "nat-official", PASSWORD)
    log_in(hanoi, "hanoi-official", PASSWORD)
    viewed = [(national, p) for p in ("/internal/", "/internal/stock")] + [
        (hanoi, "/internal/stock")
    ]
    for client, path in viewed:
        assert drawn(draw(client, path)[0])
    assert warm(server) == data_version(warehouse)  # nothing new: the same pages again
    commit_checkpoint(warehouse, 102, "b3")
    time.sleep(1.1)  # the new data version is read again
    version = warm(server)
    assert version == data_version(warehouse)
    assert sorted(scopes(server, time.monotonic())) == [
        ("stock", "", "vi"),
        ("stock", "01", "vi"),
        ("throughput", "", "vi"),
    ]
    queries = counting_queries()
    for client, path in viewed:
        response = client.post("/internal/_dash-update-component", json=render_body(path, ""))
        assert response.status_code == 200 and '"dash-denied"' not in response.data.decode()
        assert drawn(response)  # at once: no "preparing"
    assert queries == []  # every page came from the warmed cache (the version may be re-read)
    assert scopes(server, time.monotonic() + RECENT_SECONDS + 1) == []  # nobody watching: no work


def test_a_page_not_built_yet_answers_at_once_and_is_drawn_when_built(
    server: flask.Flask,
    monkeypatch: pytest.MonkeyPatch,
    counting_queries: Callable[[], list[str]],
) -> None:
    monkeypatch.setattr(dashboards.background, "INLINE_SECONDS", 0.0)  # never wait for a build
    national, other = server.test_client(), server.test_client()
    log_in(national, "nat-official", PASSWORD)
    log_in(other, "nat-official", PASSWORD)
    queries = counting_queries()
    first = national.post(PATH, json=render_body("/internal/stock", ""))
    assert first.status_code == 200 and not drawn(first)
    text = first.data.decode()
    assert f'"{PREPARING_ID}"' in text and '"aria-busy":"true"' in text
    assert '"st-total"' not in text  # no figures yet
    # a second official asking meanwhile gets the same page, and no statement runs twice
    # (one build per key is tested in tests/unit/test_dashboards_background.py)
    second, _ = draw(other, "/internal/stock")
    assert drawn(second) and '"st-total"' in second.data.decode()
    response, _ = draw(national, "/internal/stock")
    assert drawn(response)
    stock_scans = [sql for sql in queries if "FROM {db:Identifier}.stock_movements" in sql]
    assert len(stock_scans) == len(set(stock_scans))  # each stock statement ran once
    assert len(stock_scans) >= 5


def test_a_build_that_fails_is_reported_not_polled_for_ever(
    server: flask.Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboards.background, "INLINE_SECONDS", 0.0)
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)

    def broken(self: Warehouse, sql: str, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("warehouse gone")

    monkeypatch.setattr(Warehouse, "frame", broken)  # the page's statements fail
    response, polls = draw(client, "/internal/stock", timeout=20)
    assert drawn(response)  # the poll stopped
    shown = json.dumps(response.get_json(), ensure_ascii=False)
    assert "Kho dữ liệu tạm thời không truy cập được" in shown
    assert len(polls) >= 2  # "preparing" first, then the failure


@pytest.mark.usefixtures("versions_every_second")
def test_officials_see_the_version_the_dashboards_warmer_published(
    server: flask.Flask, warehouse: Warehouse, counting_queries: Callable[[], list[str]]
) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    assert drawn(draw(client, "/internal/")[0])
    warmer = DashboardWarmer(server)  # its passes run here, not on its thread
    warmer.warmed = warm(server)
    warmer.after_pass()
    before = data_version(warehouse)
    commit_checkpoint(warehouse, 104, "b4")
    time.sleep(1.1)  # the newest version is read again
    assert data_version(warehouse) != before
    queries = counting_queries()
    response = client.post(PATH, json=render_body("/internal/", ""))
    assert drawn(response) and queries == []  # the published page, from the cache
    assert client.post(PATH, json=version_body(before)).status_code == 204  # no redraw yet
    with server.app_context():
        web.cache.use_audience("portal")
        assert web.cache.data_version() != before  # the portal has no warmer here: newest
    warmer.warmed = warm(server)  # the new version's pages, then published
    warmer.after_pass()
    assert warmer.warmed == data_version(warehouse)
    moved = client.post(PATH, json=version_body(before))
    assert moved.status_code == 200 and warmer.warmed in moved.data.decode()
    queries.clear()
    assert drawn(client.post(PATH, json=render_body("/internal/", ""))) and queries == []


def test_auto_refresh_does_nothing_while_the_data_version_stands(
    server: flask.Flask, warehouse: Warehouse
) -> None:
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    version = data_version(warehouse)
    unchanged = client.post("/internal/_dash-update-component", json=version_body(version))
    assert unchanged.status_code == 204  # PreventUpdate: no redraw
    changed = client.post("/internal/_dash-update-component", json=version_body("old"))
    assert changed.status_code == 200 and version in changed.data.decode()


# -- the command line -----------------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"VAX_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "dashboards", "users", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_users_command_adds_lists_and_makes_the_demo_users_once(tmp_path: Path) -> None:
    def add(name: str, role: str) -> subprocess.CompletedProcess[str]:
        return run_cli(
            tmp_path, "add", name, "--role", role, "--password-stdin", stdin="s3cret-enough\n"
        )

    added = add("hcm.official", "province:79")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout.strip().splitlines()[-1]) == {
        "command": "users add", "name": "hcm.official", "role": "province", "province_code": "79",
    }  # fmt: skip
    assert "s3cret" not in added.stdout + added.stderr
    again = add("hcm.official", "national")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = add("x.y.z", "province:99")
    assert bad.returncode == 1 and "role" in bad.stderr
    first = json.loads(run_cli(tmp_path, "demo").stdout.strip())
    assert [u["name"] for u in first["created"]] == ["demo-national", "demo-province"]
    second = json.loads(run_cli(tmp_path, "demo").stdout.strip())
    assert second["created"] == [] and second["existing"] == ["demo-national", "demo-province"]
    listed = json.loads(run_cli(tmp_path, "list").stdout.strip())
    assert [u["name"] for u in listed["users"]] == [
        "demo-national",
        "demo-province",
        "hcm.official",
    ]
    from registry.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'registry.sqlite'}")
    password = first["created"][1]["password"]
    user = users.authenticate(engine, "demo-province", password)
    assert user is not None and user.scope == "79"
    assert users.authenticate(engine, "demo-province", password + "x") is None
    engine.dispose()


def test_reconciliation_shows_the_cells_that_differ(warehouse: Warehouse, tmp_path: Path) -> None:
    from registry.db import migrate as migrate_registry
    from tests.doses import dose, states
    from warehouse.ledger import write_states

    fill(warehouse)
    server = build(warehouse, tmp_path)
    client = server.test_client()
    log_in(client, "nat-official", PASSWORD)
    migrate_registry(server.extensions["vaxviet.dashboards.users"])  # an empty registry
    equal = page(client, "/internal/quality")
    assert "Khớp" in equal and "0 chênh lệch" in equal
    # two doses the stream claims to have loaded, which the registry does not hold
    phantoms = [
        dose(f"p{n}", province_code=p, site_id=s, source="registry:doses")
        for n, (p, s) in enumerate([("01", "S01-A"), ("79", "S79-A")])
    ]
    write_states(warehouse, states(*phantoms), batch="phantoms")
    commit_checkpoint(warehouse, 5, "p")
    time.sleep(VERSION_SECONDS + 0.5)  # past the cached data version
    rows = csv_rows(client, "/internal/export/quality/reconciliation.csv")
    assert [
        (r["province_code"], r["day"], r["doses_registry"], r["doses_warehouse"]) for r in rows
    ] == [
        ("01", "2021-08-04", "0", "1"),
        ("79", "2021-08-04", "0", "1"),
    ]
    assert "LỆCH" in page(client, "/internal/quality")
    provincial = server.test_client()
    log_in(provincial, "hanoi-official", PASSWORD)
    assert [
        r["province_code"]
        for r in csv_rows(provincial, "/internal/export/quality/reconciliation.csv")
    ] == ["01"]


def test_the_platform_starts_when_the_registry_is_unreachable(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {
            "VAX_VAR_DIR": str(tmp_path),
            "VAX_SOURCE_DSN": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    server = create_server(Services(settings=settings, warehouse=warehouse))
    client = server.test_client()
    assert client.get("/").status_code == 200  # the portal is up
    assert client.get("/internal/").status_code == 302  # the dashboards still ask for a login
    assert (
        client.post(
            "/internal/_dash-update-component", json=render_body("/internal/", "")
        ).status_code
        == 401
    )
