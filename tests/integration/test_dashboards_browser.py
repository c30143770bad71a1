"""The internal dashboards in a real headless Chromium, served by `python -m vaxviet serve`
on a warehouse filled with the hand-made data of :mod:`tests.dashboards_data` (one server
and one browser for the module): login, each page renders with its data, a provincial user
cannot see another province (by URL or by a callback posted from the page), logout; nothing
leaves the origin."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.client_requests import render_body
from dashboards.frame import PENDING_ID, PENDING_MS
from tests.conftest import ROOT
from tests.dashboards_data import PASSWORD
from tests.integration.browser import SIZES, axe_violations, requested_urls, wait_for
from tests.integration.conftest import free_port, serve_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("dashboards-site")
    var = directory / "var"
    var.mkdir()
    env = {"VAX_VAR_DIR": str(var), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "-m", "tests.dashboards_data", str(var / "warehouse")],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    for name, role in (("nat-official", "national"), ("hanoi-official", "province:01")):
        subprocess.run(
            [sys.executable, "-m", "dashboards", "users", "add", name, "--role", role, "--password-stdin"],
            cwd=ROOT, env=env, input=PASSWORD + "\n", text=True, check=True, timeout=60, capture_output=True,
        )  # fmt: skip
    # no ETL worker: the warehouse holds exactly the hand-made rows
    with serve_process(directory, {"VAX_ETL_WORKER": "off"}) as (base, _):
        yield base


def figure(browser: Any, card_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(
        browser.find_element(By.CSS_SELECTOR, f"#{card_id} .figure").get_attribute("data-value")
    )


def log_in(browser: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(base + "/internal/")
    wait_for(lambda: "/internal/login" in browser.current_url)
    browser.find_element(By.ID, "login-name").send_keys(name)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_for(lambda: browser.find_element(By.ID, "tp-doses-today"))


def post_callback(browser: Any, path: str, search: str) -> tuple[int, str]:
    """A callback forged in the page: the same JSON Dash posts, asking for `search`."""
    script = """
        const done = arguments[arguments.length - 1];
        fetch('/internal/_dash-update-component', {method: 'POST',
              headers: {'Content-Type': 'application/json'}, body: arguments[0]})
          .then(r => r.text().then(t => done([r.status, t])));
    """
    for waited in range(60):  # as the page does: ask again while the figures are prepared
        request = json.dumps(render_body(path, search, waited or None))
        status, body = browser.execute_async_script(script, request)
        if '"dash-pending":{"disabled":false}' not in body:
            break
        time.sleep(PENDING_MS / 1000)
    return int(status), str(body)


def test_login_and_every_page_renders_with_its_data(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get_log("performance")
    log_in(browser, site, "nat-official")
    wait_for(lambda: figure(browser, "tp-doses-today") == "6")
    assert figure(browser, "tp-silent") == "1"
    hourly = "return document.querySelector('#tp-hourly .js-plotly-plot').data[0].y.length"
    assert wait_for(lambda: browser.execute_script(hourly)) == 2  # two provinces' rows
    provinces = browser.find_elements(By.CSS_SELECTOR, "#throughput-provinces-table tbody tr")
    assert len(provinces) == 2
    assert "2021" in browser.find_element(By.ID, "dash-stamp").text
    browser.find_element(By.LINK_TEXT, "Kho vắc xin").click()
    wait_for(lambda: figure(browser, "st-total") == str(1000 + 200 - 5 - 5 - 3 - 1 - 3 - 1))
    assert figure(browser, "st-expiring") == "3"
    browser.find_element(By.LINK_TEXT, "Chất lượng dữ liệu").click()
    wait_for(lambda: figure(browser, "dq-rejects") == "2")
    assert browser.find_element(By.ID, "dq-reconcile").text
    browser.find_element(By.ID, "dash-lang").click()
    wait_for(lambda: browser.find_element(By.TAG_NAME, "h1").text.startswith("Data quality"))
    urls = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "wss:"))]
    assert urls and [u for u in urls if not u.startswith(site + "/")] == []


def test_drill_down_from_the_country_to_a_province(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, site, "nat-official")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#throughput-provinces-table a"))
    link = browser.find_element(
        By.CSS_SELECTOR, "#throughput-provinces-table a[href*='province=79']"
    )
    # follow the drill-down link's own target (a click raced the page's first render once)
    browser.get(link.get_attribute("href"))
    wait_for(lambda: figure(browser, "tp-doses-today") == "2", seconds=60)
    rows = browser.find_elements(By.CSS_SELECTOR, "#throughput-sites-table tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text for row in rows] == ["S79-A"]


def test_a_provincial_user_cannot_see_another_province_then_logs_out(
    browser: Any, site: str
) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, site, "hanoi-official")
    wait_for(lambda: figure(browser, "tp-doses-today") == "4")
    assert "S79" not in browser.page_source
    browser.get(site + "/internal/stock?province=79")
    wait_for(lambda: browser.find_element(By.ID, "dash-denied"))
    assert "S79" not in browser.page_source and "LOT-79" not in browser.page_source
    status, body = post_callback(browser, "/internal/stock", "?province=79")
    assert status == 200 and "dash-denied" in body and "LOT-79" not in body and "S79" not in body
    status, body = post_callback(browser, "/internal/stock", "")
    assert status == 200 and "LOT-N" in body and "LOT-79" not in body
    browser.get(site + "/internal/")
    wait_for(lambda: browser.find_element(By.ID, "dash-logout")).click()
    wait_for(lambda: "/internal/login" in browser.current_url)
    status, body = post_callback(browser, "/internal/", "")
    assert status == 401 and "S01" not in body


def test_an_ended_session_sends_the_page_to_the_login(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, site, "nat-official")
    browser.delete_all_cookies()  # as when the session expires
    browser.find_element(By.LINK_TEXT, "Kho vắc xin").click()  # the page's callback gets 401
    wait_for(lambda: "/internal/login" in browser.current_url)
    assert "next=%2Finternal%2Fstock" in browser.current_url


@pytest.fixture
def slow_site(warehouse: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The dashboards served in this process (a thread), where no page is ever waited for:
    every page not built yet is first answered with "preparing" (dashboards.background), as
    a page too dear to build within the callback's wait is. Yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    import dashboards.background
    from tests.dashboards_data import build, fill

    monkeypatch.setattr(dashboards.background, "INLINE_SECONDS", 0.0)
    fill(warehouse)
    server = build(warehouse, tmp_path)
    polls: list[str] = []

    def count_polls() -> None:
        from flask import request

        body = request.get_json(silent=True) or {}
        if f"{PENDING_ID}.n_intervals" in body.get("changedPropIds", []):
            polls.append(request.path)

    server.before_request(count_polls)
    http = make_server("127.0.0.1", free_port(), server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    server.extensions[dashboards.background.BUILDS_KEY].shutdown()
    assert polls, "no page was ever drawn through the 'preparing' poll"


def test_a_page_answered_preparing_is_drawn_by_the_poll(browser: Any, slow_site: str) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, slow_site, "nat-official")  # waits for the throughput figures
    wait_for(lambda: figure(browser, "tp-doses-today") == "6")
    assert not browser.find_elements(By.ID, "dash-preparing")  # the notice is gone
    browser.find_element(By.LINK_TEXT, "Kho vắc xin").click()
    wait_for(lambda: figure(browser, "st-total") == str(1000 + 200 - 5 - 5 - 3 - 1 - 3 - 1))
    main = browser.find_element(By.ID, "main")
    assert main.get_attribute("aria-busy") == "false"


#: every internal page (the login first, then as a national official)
INTERNAL_PAGES = ("/internal/", "/internal/stock", "/internal/quality", "/internal/corrections")


def test_every_internal_page_is_accessible(browser: Any, site: str) -> None:
    """No WCAG 2.1 A or AA violation axe-core can find, on the login and every internal page,
    in both languages, at phone and desktop size, once the page has rendered its data."""
    found: dict[str, list[str]] = {}
    try:
        for width, height in SIZES:
            browser.set_window_size(width, height)
            browser.delete_all_cookies()
            for lang in ("", "?lang=en"):
                browser.get(site + "/internal/login" + lang)
                wait_for(
                    lambda: browser.execute_script("return !!document.getElementById('login-name')")
                )
                if violations := axe_violations(browser):
                    found[f"/internal/login{lang} at {width}x{height}"] = violations
            log_in(browser, site, "nat-official")
            for path in INTERNAL_PAGES:
                for lang in ("", "?lang=en"):
                    browser.get(site + path + lang)
                    wait_for(lambda: browser.execute_script(
                        "return document.querySelector('main h1, h1') !== null"
                    ))  # fmt: skip
                    time.sleep(1.0)  # the page's callbacks answered and drawn
                    if violations := axe_violations(browser):
                        found[f"{path}{lang} at {width}x{height}"] = violations
    finally:
        browser.set_window_size(1280, 1000)
    assert found == {}
