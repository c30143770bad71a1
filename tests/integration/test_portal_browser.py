"""The portal in a real headless Chromium, served by `python -m vaxviet serve` as `make run`
starts it, on a registry seeded with a small simulated campaign that the server's own ETL
worker loads. One server and one browser for the whole module.

What the page shows is compared with the open-data API of the same server (whose figures
test_portal_api.py checks against direct SQL on the warehouse).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from registry.simulator import SeedOptions
from tests.integration.browser import (
    SIZES,
    axe_violations,
    open_mounted,
    requested_urls,
    wait_for,
)
from tests.integration.conftest import get, serve_process
from tests.integration.registry_helpers import BackgroundSeeds

pytestmark = pytest.mark.integration

UNTIL = date(2021, 9, 30)
MAP_DATA = "return document.querySelector('#home-map .js-plotly-plot').data[0];"


OPTIONS = SeedOptions(scale=0.0003, until=UNTIL, seed=3, error_rate=0.0)
#: seeded in the background while the suite's earlier tests run (conftest's `background_seeds`)
BACKGROUND_SEEDS = [("sqlite", OPTIONS)]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, background_seeds: BackgroundSeeds
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("portal-site")
    (directory / "var").mkdir()
    background_seeds.sqlite_file(OPTIONS, directory / "var" / "registry.sqlite").dispose()
    with serve_process(directory) as (base, _):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the worker streams the registry by itself
            document = json.loads(get(f"{base}/api/v1/coverage")[1])
            if document["meta"]["data_until"] == UNTIL.isoformat():
                break
            time.sleep(0.5)
        else:
            pytest.fail("the ETL worker did not load the seeded registry within 120 s")
        time.sleep(6)  # past the cached data version, so pages see the fully loaded data
        yield base


def api(base: str, query: str) -> list[dict[str, Any]]:
    status, body = get(f"{base}/api/v1/{query}")
    assert status == 200
    rows: list[dict[str, Any]] = json.loads(body)["data"]
    return rows


def map_values(browser: Any) -> dict[str, float]:
    trace = browser.execute_script(MAP_DATA)
    return dict(zip(trace["locations"], trace["z"], strict=True))


def expected_values(base: str, query: str, metric: str) -> dict[str, float]:
    return {row["area_code"]: row[metric] for row in api(base, query)}


def open_home(browser: Any, base: str, path: str = "/") -> None:
    browser.get_log("performance")  # drop what earlier tests logged
    open_mounted(browser, base + path)
    wait_for(lambda: browser.execute_script(MAP_DATA))


def assert_on_origin(browser: Any, base: str) -> None:
    urls = requested_urls(browser)
    network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
    foreign = [u for u in network if not u.startswith(base + "/")]
    assert network and foreign == [], f"requests left the origin: {foreign}"


MARK_TRACE = "document.querySelector('#home-map .js-plotly-plot').data[0].vaxvietMark = 1;"
TRACE_MARKED = (
    "return document.querySelector('#home-map .js-plotly-plot').data[0].vaxvietMark === 1;"
)


def test_home_renders_63_provinces_with_the_published_values(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    open_home(browser, site)
    values = map_values(browser)
    assert len(values) == 63
    assert values == expected_values(site, "coverage?level=province", "pct_dose1")
    assert sum(1 for v in values.values() if v > 0) == 63
    assert browser.find_elements(By.CSS_SELECTOR, "#home-map canvas")  # drawn by MapLibre
    national = api(site, "coverage")[0]
    shown = browser.find_element(By.CSS_SELECTOR, "#headline-dose1 .figure")
    assert shown.get_attribute("data-value") == str(national["dose1"])
    assert shown.text == f"{national['dose1']:,}".replace(",", ".")  # Vietnamese grouping
    rows = browser.find_elements(By.CSS_SELECTOR, "#home-table-body tr")
    assert len(rows) == 63
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tiêm chủng COVID-19 tại Việt Nam"
    assert UNTIL.strftime("%Y") in browser.find_element(By.CLASS_NAME, "stamp").text
    # Dash has taken over: the server-rendered copy is gone, each ID is there once
    assert not browser.find_elements(By.ID, "portal-prerendered")
    assert len(browser.find_elements(By.ID, "headline-dose1")) == 1
    assert_on_origin(browser, site)


def test_content_is_in_the_page_without_the_dash_bundles(browser: Any, site: str) -> None:
    """The headline figures, the as-of stamp and the ranking come with the HTML itself: a
    reader whose scripts never load (blocked here) sees them, as real text."""
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_dash-component-suites/*"]})
    try:
        browser.get(site + "/?lang=en")
        national = api(site, "coverage")[0]
        shown = browser.find_element(By.CSS_SELECTOR, "#headline-dose1 .figure")
        assert shown.text == f"{national['dose1']:,}"
        assert browser.find_element(By.TAG_NAME, "h1").text == "COVID-19 vaccination in Viet Nam"
        assert UNTIL.strftime("%Y") in browser.find_element(By.CLASS_NAME, "stamp").text
        rows = browser.find_elements(By.CSS_SELECTOR, "#home-table-body tr")
        assert len(rows) == 63 and rows[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        assert browser.find_element(By.ID, "portal-prerendered").is_displayed()
        assert not browser.find_element(By.ID, "react-entry-point").is_displayed()
        assert not browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")  # no Dash ran
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_metric_date_and_boundaries_update_the_map(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    open_home(browser, site)
    browser.execute_script(MARK_TRACE)  # a whole new figure would come without the mark
    browser.find_element(By.CSS_SELECTOR, "#home-metric input[value='pct_full']").click()
    latest = expected_values(site, "coverage?level=province", "pct_full")
    wait_for(lambda: map_values(browser) == latest)
    browser.find_element(By.ID, "home-snapshot").click()
    snapshot = expected_values(site, "coverage?level=province&date=2021-08-04", "pct_full")
    wait_for(lambda: map_values(browser) == snapshot)
    assert snapshot != latest
    assert browser.find_element(By.ID, "home-date").get_attribute("value") == "04/08/2021"
    assert browser.execute_script(TRACE_MARKED)  # patched: the figure was not resent
    # the boundaries are a file of their own, fetched (at most) once for all of this
    boundaries = [u for u in requested_urls(browser) if "/geo/provinces-63." in u]
    assert len(boundaries) <= 1
    assert browser.execute_script(MAP_DATA)["geojson"].startswith("/geo/provinces-63.")
    browser.find_element(By.CSS_SELECTOR, "#home-geography input[value='34']").click()
    merged = expected_values(site, "coverage?level=province2025&date=2021-08-04", "pct_full")
    wait_for(lambda: map_values(browser) == merged)
    assert len(merged) == 34 and not browser.execute_script(TRACE_MARKED)  # new boundaries
    assert browser.execute_script(MAP_DATA)["geojson"].startswith("/geo/provinces-34.")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#home-map canvas")) > 0)
    health = json.loads(get(f"{site}/healthz")[1])
    assert health["web"]["stored_answers"]["hits"] > 0  # the views were served stored answers
    assert_on_origin(browser, site)


def test_province_page_from_the_ranking(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    open_home(browser, site)
    browser.find_element(By.CSS_SELECTOR, "#home-table-body tr[data-code='01'] a").click()
    facts = wait_for(lambda: browser.find_element(By.ID, "province-facts"))
    assert browser.current_url.endswith("/province/01")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Hà Nội"
    hanoi = api(site, "coverage?level=province&area=01")[0]
    assert f"{hanoi['doses']:,}".replace(",", ".") in facts.text
    assert "Đồng bằng sông Hồng" in facts.text
    sites = browser.find_element(By.ID, "province-sites").text
    assert int(sites.replace(".", "")) > 0
    for graph in ("province-trend", "province-daily", "province-split", "province-mix"):
        wait_for(lambda g=graph: browser.find_elements(By.CSS_SELECTOR, f"#{g} .main-svg"))
    assert_on_origin(browser, site)


CLICK = "window.dash_clientside.set_props('home-map', {clickData: arguments[0]});"


def callback_outputs(browser: Any) -> list[str]:
    """The outputs of the Dash callbacks the page asked the server for since the last look."""
    outputs = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        request = message.get("params", {}).get("request", {})
        if message["method"] == "Network.requestWillBeSent" and request.get("url", "").endswith(
            "/_dash-update-component"
        ):
            outputs.append(json.loads(request.get("postData") or "{}").get("output", ""))
    return outputs


def test_a_click_on_the_map_opens_the_province_in_the_browser(browser: Any, site: str) -> None:
    """A click on a province (as Plotly reports it) opens its page without asking the
    server, and the map's own empty click as it mounts costs no request either."""
    from selenium.webdriver.common.by import By

    open_home(browser, site + "/?lang=en")
    loaded = callback_outputs(browser)
    assert loaded and not [o for o in loaded if "url.href" in o], loaded
    browser.execute_script(CLICK, {"points": [{"location": "79"}]})
    wait_for(lambda: browser.current_url.endswith("/province/79?lang=en"))
    # the province page replaces the home page's heading once it has drawn
    wait_for(lambda: browser.find_element(By.TAG_NAME, "h1").text == "Ho Chi Minh City")
    assert not [o for o in callback_outputs(browser) if "url.href" in o]
    open_home(browser, site)
    browser.find_element(By.CSS_SELECTOR, "#home-geography input[value='34']").click()
    wait_for(lambda: len(map_values(browser)) == 34)
    browser.execute_script(CLICK, {"points": [{"location": "79"}]})  # 34 areas: no page
    time.sleep(1)
    assert browser.current_url == site + "/"


def test_english_toggle(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    open_home(browser, site)
    browser.find_element(By.ID, "lang-link").click()
    wait_for(
        lambda: browser.find_element(By.TAG_NAME, "h1").text == "COVID-19 vaccination in Viet Nam"
    )
    assert browser.current_url.endswith("/?lang=en")
    wait_for(lambda: browser.find_element(By.ID, "portal-root").get_attribute("lang") == "en")
    national = api(site, "coverage")[0]
    shown = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "#headline-dose1 .figure"))
    assert shown.text == f"{national['dose1']:,}"
    assert browser.find_element(By.ID, "lang-link").text == "Tiếng Việt"
    trace = wait_for(lambda: browser.execute_script(MAP_DATA))
    assert trace["customdata"][0][0] == "Hanoi"


def test_phone_sized_page(browser: Any, site: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    try:
        open_home(browser, site)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390-px phone"
        graph = browser.find_element(By.ID, "home-map")
        assert graph.size["width"] <= 390 and graph.size["height"] >= 300
        shot = tmp_path / "phone.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
        # keyboard: the first Tab lands on the skip link, which leads to the main content
        from selenium.webdriver.common.keys import Keys

        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        assert focused.get_attribute("class") == "skip-link"
    finally:
        browser.set_window_size(1280, 1000)


SUPPLY_TABLE = """
return Array.from(document.querySelectorAll('#supply-table-body tr')).map(function (row) {
    var cells = {};
    row.querySelectorAll('td[data-column]').forEach(function (cell) {
        cells[cell.dataset.column] = cell.dataset.value;
    });
    return [row.dataset.code, cells];
});
"""
SUPPLY_COLUMNS = ("delivered", "on_hand", "days_of_supply", "pending", "doses")
SET_DATE = "window.dash_clientside.set_props('supply-date', {date: arguments[0]});"


def supply_expected(base: str, day: str) -> list[Any]:
    """The API's figures of every province on `day`, as the page's cells carry them."""
    rows = api(base, f"supply?from={day}&to={day}")
    shown = {
        row["area_code"]: {c: "" if row[c] is None else str(row[c]) for c in SUPPLY_COLUMNS}
        for row in rows
    }
    return [[code, shown[code]] for code in sorted(shown)]


def test_supply_table_shows_the_api_figures(browser: Any, site: str) -> None:
    """/supply: the table of the 63 provinces equals /api/v1/supply for the day shown, the
    latest first and then a day picked; a province's name opens its chart."""
    from selenium.webdriver.common.by import By

    latest = api(site, "supply?area=01")[-1]["date"]
    open_mounted(browser, site + "/supply")
    wait_for(lambda: browser.execute_script(SUPPLY_TABLE) == supply_expected(site, latest))
    table = browser.execute_script(SUPPLY_TABLE)
    assert len(table) == 63
    # the seeded registry has stock, registrations and doses: the page shows them
    assert sum(int(cells["on_hand"]) for _, cells in table) > 0
    assert any(int(cells["doses"]) > 0 for _, cells in table)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#supply-chart-01 .main-svg"))
    browser.execute_script(SET_DATE, "2021-08-04")
    wait_for(lambda: browser.execute_script(SUPPLY_TABLE) == supply_expected(site, "2021-08-04"))
    assert "2021" in browser.find_element(By.ID, "supply-table-day").text
    assert any(int(cells["pending"]) > 0 for _, cells in browser.execute_script(SUPPLY_TABLE))
    browser.find_element(By.CSS_SELECTOR, "#supply-table-body tr[data-code='79'] a").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#supply-chart-79 .main-svg"))
    assert "province=79" in browser.current_url and "date=2021-08-04" in browser.current_url
    assert not browser.find_elements(By.ID, "supply-chart-01")
    assert_on_origin(browser, site)


#: every public page, in both languages where the page has texts of its own
PUBLIC_PAGES = (
    "/", "/?lang=en", "/province/79", "/province/79?lang=en", "/api", "/status", "/corrections",
    "/certificate", "/certificate?lang=en", "/certificate/request", "/verify", "/verify?lang=en",
    "/supply", "/supply?lang=en",
)  # fmt: skip


def test_every_public_page_is_accessible(browser: Any, site: str) -> None:
    """No WCAG 2.1 A or AA violation axe-core can find, on any public page, at phone and
    desktop size, once the page has rendered with its data."""
    found: dict[str, list[str]] = {}
    try:
        for width, height in SIZES:
            browser.set_window_size(width, height)
            for path in PUBLIC_PAGES:
                if path.startswith("/verify"):
                    browser.get(site + path)
                    wait_for(lambda: browser.execute_script(
                        "return document.getElementById('trust-status').dataset.state"
                        " === 'fresh'"
                    ))  # fmt: skip
                elif path.startswith("/?") or path == "/":
                    open_home(browser, site, path)
                else:
                    open_mounted(browser, site + path)
                time.sleep(0.5)  # the page's first callbacks answered and drawn
                violations = axe_violations(browser)
                if violations:
                    found[f"{path} at {width}x{height}"] = violations
    finally:
        browser.set_window_size(1280, 1000)
    assert found == {}
