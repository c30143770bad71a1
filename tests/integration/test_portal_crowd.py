"""The portal under a crowd: stored answers (web.stored, portal.stored), the map's boundaries
by URL (portal.geometry) and load shedding (web.admission under waitress, vaxviet.serving).

A view here is what a returning browser asks for the home page: the HTML, Dash's layout and
dependencies, the frame's and the page content's callbacks (as the renderer posts them, from
/_dash-dependencies), and the home page's figure callbacks on a change of measure and day.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest

from bench.portal_callbacks import Callbacks
from tests.portal_data import campaign
from vaxviet.server import STORED_KEY, admit, create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse, observe_statements
from warehouse.ledger import write_states
from web import cache, stored
from web.stored import StoredAnswers

pytestmark = pytest.mark.integration


def build(warehouse: Warehouse, tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path), "VAX_CACHE_URL": "simple://"})
    return create_server(Services(settings=settings, warehouse=warehouse))


def commit(warehouse: Warehouse, token: str) -> None:
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('crowd-test', 1, {t:String})",
        {"t": token},
    )


@pytest.fixture
def quick_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """New data versions reach the store within about a second."""
    monkeypatch.setattr(cache, "VERSION_SECONDS", 1)
    monkeypatch.setattr(stored, "VERSION_TTL", 0.1)


@pytest.fixture
def filled(warehouse: Warehouse) -> Warehouse:
    write_states(warehouse, campaign(2500), batch="crowd")
    commit(warehouse, "a")
    return warehouse


class Browser(Callbacks):
    """Posts what the Dash renderer posts, from /_dash-dependencies."""

    def post(self, body: dict[str, Any]) -> Any:
        return self.client.post("/_dash-update-component", json=body)


def output(browser: Browser, start: str) -> str:
    return next(name for name in browser.specs if name.startswith(start))


def view_requests(browser: Browser, last_day: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) of one returning view of the home page with a change of measure
    and one of day."""
    location = {"_pages_location.pathname": "/", "_pages_location.search": "", "url.pathname": "/",
                "url.search": ""}  # fmt: skip
    home = {
        "home-metric.value": "pct_full",
        "home-denominator.value": "total",
        "home-date.date": "2021-08-04",
        "home-geography.value": "63",
        "home-lang.data": "vi",
        "home-last-day.data": last_day,
        "home-sort.data": {"column": "pct_dose1", "descending": True},
    }
    return [
        ("GET", "/", None),
        ("GET", "/_dash-layout", None),
        ("GET", "/_dash-dependencies", None),
        ("POST", "", browser.body(output(browser, "..lang-link"), location, ["url.pathname"])),
        (
            "POST",
            "",
            browser.body(
                output(browser, ".._pages_content"), location, ["_pages_location.pathname"]
            ),
        ),
        ("POST", "", browser.body("home-map.figure", home, ["home-metric.value"])),
        ("POST", "", browser.body(output(browser, "..home-headline"), home, ["home-date.date"])),
        ("POST", "", browser.body(output(browser, "..home-table-body"), home, ["home-date.date"])),
    ]


def view(browser: Browser, requests: list[tuple[str, str, dict[str, Any] | None]]) -> list[bytes]:
    answers = []
    for method, path, body in requests:
        response = browser.client.get(path) if method == "GET" else browser.post(body or {})
        assert response.status_code == 200, (path, body and body["output"], response.data[:300])
        answers.append(response.data)
    return answers


def last_day(server: flask.Flask) -> str:
    from portal import data

    with server.test_request_context("/"):
        return str(data.latest_day())


def test_a_second_view_of_an_unchanged_page_reads_nothing_and_rebuilds_nothing(
    filled: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal import figures

    server = build(filled, tmp_path)
    browser = Browser(server.test_client())
    requests = view_requests(browser, last_day(server))
    first = view(browser, requests)
    built: list[str] = []
    for name in ("choropleth", "map_colours", "daily_figure", "trend_figure"):
        if hasattr(figures, name):
            original = getattr(figures, name)

            def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
                built.append(_name)
                return _original(*args)

            monkeypatch.setattr(figures, name, counted)
    statements: list[str] = []
    with observe_statements(lambda statement, _seconds: statements.append(statement)):
        second = view(browser, requests)
    assert statements == [] and built == []  # no warehouse read, no figure built
    assert second == first  # the same bytes
    store: StoredAnswers = server.extensions[STORED_KEY]
    assert store.statistics.hits >= len(requests)
    # a browser holding the page asks again with its validator: 304, no body
    client = server.test_client()
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert (
        page.headers["Cache-Control"] == "no-cache" and page.headers["Content-Encoding"] == "gzip"
    )
    assert gzip.decompress(page.data) == first[0]
    again = client.get("/", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # the map figure names its boundaries by URL; they are cached for a year, compressed
    content = json.dumps(json.loads(first[4])["response"]["_pages_content"]["children"])
    assert "/geo/provinces-63." in content and "FeatureCollection" not in content


PROCESS_PATHS = ("/", "/?lang=en", "/_dash-layout", "/_dash-dependencies", "/api/v1/coverage")


def answers_of_a_process(directory: str, redis_url: str) -> None:
    """Run in a process of its own: the same campaign, committed at the same instant, into
    a warehouse at `directory`; prints each answer's ETag and digest (JSON)."""
    import hashlib

    from warehouse.client import connect
    from warehouse.migrate import migrate

    warehouse = connect(f"chdb://{directory}/warehouse", "vax")
    migrate(warehouse)
    write_states(warehouse, campaign(800), batch="processes")
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints "
        "(source, position, batch_token, committed_at) "
        "VALUES ('processes', 1, 'p', '2021-08-11 00:00:00.000')"
    )
    settings = Settings.from_env(
        {"VAX_VAR_DIR": directory, "VAX_CACHE_URL": redis_url,
         "VAX_SECRET_KEY": "shared-secret-for-the-test-0123456789"}
    )  # fmt: skip
    client = create_server(Services(settings=settings, warehouse=warehouse)).test_client()
    answers = {}
    for path in PROCESS_PATHS:
        response = client.get(path)
        answers[path] = [response.status_code, response.headers.get("ETag"),
                         hashlib.sha256(response.data).hexdigest()]  # fmt: skip
    body = Browser(client).body(".._pages_content.children..._pages_store.data..",
                                {"_pages_location.pathname": "/", "_pages_location.search": ""},
                                ["_pages_location.pathname"])  # fmt: skip
    answers["content"] = [0, None, hashlib.sha256(Browser(client).post(body).data).hexdigest()]
    print(json.dumps(answers))
    warehouse.close()


def test_web_processes_sharing_redis_give_the_same_answers_and_validators(
    tmp_path: Path, redis_url: str
) -> None:
    """Two web processes on the same data and one Redis: a browser balanced from one to the
    other gets the same bytes, so its validator gives a 304 on either."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    def process(name: str) -> dict[str, Any]:
        code = (
            "from tests.integration.test_portal_crowd import answers_of_a_process; "
            f"answers_of_a_process({str(tmp_path / name)!r}, {redis_url!r})"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    one, two = process("one"), process("two")
    assert one == two
    assert all(status == 200 and etag for status, etag, _ in (one[p] for p in PROCESS_PATHS))


def test_the_boundaries_are_a_file_the_browser_keeps(filled: Warehouse, tmp_path: Path) -> None:
    from geo.provinces import provinces_2025_geojson, provinces_geojson
    from portal import geometry

    client = build(filled, tmp_path).test_client()
    for geography, expected in (("63", provinces_geojson()), ("34", provinces_2025_geojson())):
        url = geometry.url(geography)
        answer = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(answer.data)) == expected
    assert geometry.url("63") != geometry.url("34")
    assert client.get("/geo/provinces-63.0000000000000000.geojson").status_code == 404


@pytest.mark.usefixtures("quick_versions")
def test_a_new_data_version_changes_what_is_served(filled: Warehouse, tmp_path: Path) -> None:
    server = build(filled, tmp_path)
    client = server.test_client()
    before = client.get("/?lang=en")
    assert before.data == client.get("/?lang=en").data
    extra = campaign(300, seed=5).assign(dose_id=lambda f: "crowd-" + f["dose_id"])
    write_states(filled, extra, batch="more")
    commit(filled, "b")
    time.sleep(1.3)
    after = client.get("/?lang=en")
    assert after.status_code == 200 and after.data != before.data
    doses = int(filled.scalar("SELECT countIf(dose_number = 1) FROM {db:Identifier}.doses_current"))
    assert f'data-value="{doses}"'.encode() in after.data  # the new first-dose count
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.usefixtures("quick_versions")
def test_the_warmer_computes_the_most_asked_answers_before_publishing(
    filled: Warehouse, tmp_path: Path
) -> None:
    from portal.warm import CacheWarmer

    server = build(filled, tmp_path)
    store: StoredAnswers = server.extensions[STORED_KEY]
    warmer = CacheWarmer(server, interval=0.2).start()
    try:
        deadline = time.monotonic() + 60
        while not warmer.warmed and time.monotonic() < deadline:
            time.sleep(0.1)
        browser = Browser(server.test_client())
        requests = view_requests(browser, last_day(server))
        view(browser, requests)
        first = warmer.warmed
        commit(filled, "c")
        while warmer.warmed == first and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the pass publishes and adopts
        assert store.status()["version"] == warmer.warmed != first
        hits = store.statistics.hits
        statements: list[str] = []
        with observe_statements(lambda statement, _seconds: statements.append(statement)):
            view(browser, requests)
        assert store.statistics.hits - hits == len(requests)  # all computed ahead
        assert statements == []  # so the first view of the new version reads nothing
    finally:
        warmer.stop()


def test_nothing_personal_or_live_is_stored(filled: Warehouse, tmp_path: Path) -> None:
    server = build(filled, tmp_path)
    client = server.test_client()
    browser = Browser(client)
    store: StoredAnswers = server.extensions[STORED_KEY]
    before = store.statistics.stored
    # a certificate page's callback (none runs on the server now: the rule stands for any)
    certificate = {"output": "certificate-message.children", "outputs": [], "inputs": [],
                   "changedPropIds": []}  # fmt: skip
    for _ in range(2):
        browser.post(certificate)
        client.post("/api/v1/certificate/code", json={"cccd": "001099012345"})
        client.get("/status")
        client.get("/healthz")
        client.get("/internal/")
    assert store.statistics.stored == before


@pytest.fixture
def held_server(filled: Warehouse, tmp_path: Path) -> Iterator[tuple[int, threading.Event]]:
    """The real server app under waitress with 2 threads and a route that holds a thread
    until the test releases it; a request queued behind more than 1 other is turned away."""
    import waitress

    from vaxviet.serving import StampingDispatcher, queue_ahead, waited

    server = build(filled, tmp_path)
    release = threading.Event()

    def hold() -> str:
        release.wait(30)
        return "held"

    server.add_url_rule("/held-for-test", "held", hold)
    admit(server, queue_ahead, waited, 1)
    dispatcher = StampingDispatcher()
    dispatcher.set_thread_count(2)
    http_server = waitress.create_server(
        server, host="127.0.0.1", port=0, threads=2, _dispatcher=dispatcher
    )
    port = int(http_server.effective_port)  # type: ignore[union-attr]
    thread = threading.Thread(target=http_server.run, daemon=True)
    thread.start()
    try:
        yield port, release
    finally:
        release.set()
        http_server.close()
        dispatcher.shutdown()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[Any, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers={"Accept": "text/html"})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response, content


def test_the_shed_path_answers_503_with_retry_after_under_a_held_queue(
    held_server: tuple[int, threading.Event], filled: Warehouse
) -> None:
    port, release = held_server
    answers: dict[str, tuple[Any, bytes]] = {}

    def ask(name: str, method: str, path: str, body: bytes | None = None) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: answers.__setitem__(name, request(port, method, path, body))
        )
        thread.start()
        return thread

    holders = [ask(f"held{i}", "GET", "/held-for-test") for i in range(2)]
    time.sleep(0.3)  # both threads held
    queued = []
    for name, method, path, body in (
        ("first", "GET", "/api/v1/coverage?level=province", None),  # 0 ahead: served
        ("second", "GET", "/?lang=en", None),  # 1 ahead: served
        ("page", "GET", "/", None),  # 2 ahead: past the bound
        ("api", "GET", "/api/v1/coverage", None),
        ("health", "GET", "/healthz", None),  # always served
        ("lookup", "POST", "/api/v1/certificate/code", b"{}"),
    ):
        queued.append(ask(name, method, path, body))
        time.sleep(0.1)  # queued in this order
    release.set()
    for thread in holders + queued:
        thread.join(30)
    page, busy = answers["page"]
    assert page.status == 503 and page.getheader("Retry-After") == "5"
    assert "quá tải".encode() in busy and b"try again" in busy
    assert page.getheader("Cache-Control") == "no-store"
    assert answers["api"][0].status == 503
    assert answers["first"][0].status == 200 and answers["second"][0].status == 200
    assert answers["health"][0].status in (200, 503)  # answered by the app: its own verdict
    assert answers["health"][0].getheader("Retry-After") is None
    assert b"busy" not in answers["lookup"][1]  # the lookup's own answer, not turned away
    # with the queue drained, the page is served again
    served, _ = request(port, "GET", "/")
    assert served.status == 200
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    health = json.loads(connection.getresponse().read())
    assert health["web"]["admission"]["shed"] >= 2
