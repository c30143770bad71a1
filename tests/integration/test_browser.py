"""The status page (/status) in a real headless Chromium: it renders, and nothing leaves the
origin. The portal's own pages have their browser tests in test_portal_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.browser import open_mounted, requested_urls, start_chromium

pytestmark = pytest.mark.integration


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    driver = start_chromium(tmp_path / "chromium")
    yield driver
    driver.quit()  # type: ignore[attr-defined]


def test_status_page_renders_and_stays_on_its_origin(
    browser: object, running: tuple[str, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = running
    open_mounted(browser, base + "/status")
    table = WebDriverWait(browser, 60).until(
        expected_conditions.presence_of_element_located((By.ID, "status-rows"))
    )
    assert "dose_ledger" in table.text
    facts = browser.find_element(By.ID, "status-table").text  # type: ignore[attr-defined]
    assert "chdb" in facts and "ok" in facts

    urls = requested_urls(browser)
    assert any(url.endswith("/_dash-layout") for url in urls)
    network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
    foreign = [u for u in network if not u.startswith(base + "/")]
    assert foreign == [], f"requests left the origin: {foreign}"


FRAMING_PAGE = """<!doctype html><title>another site</title>
<iframe id="lookup" src="{base}/certificate"></iframe>
<iframe id="login" src="{base}/internal/login"></iframe>
<iframe id="home" src="{base}/"></iframe>"""


@pytest.fixture
def another_site(running: tuple[str, dict[str, str]]) -> Iterator[str]:
    """A page on another origin (another port) that frames the platform's pages."""
    import http.server
    import threading

    from tests.conftest import free_port

    body = FRAMING_PAGE.format(base=running[0]).encode()

    class Framing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Framing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_the_policy_is_enforced_and_reported_and_pages_cannot_be_framed(
    running: tuple[str, dict[str, str]], another_site: str, tmp_path: Path
) -> None:
    """Through the whole serve process (front, edge, web): an inline script injected into
    a page does not run, the browser says so and reports it to /csp-report (counted in
    /healthz); another site's frames of the lookup, the login and the home page stay empty."""
    import json
    import time

    from tests.integration.browser import csp_violations, wait_for
    from tests.integration.conftest import get

    base, _ = running
    driver: Any = start_chromium(tmp_path / "chromium", size="1280,1000")
    try:
        open_mounted(driver, base + "/status")
        assert csp_violations(driver) == []  # the page itself runs under its policy
        injected = driver.execute_script(
            "var s = document.createElement('script');"
            "s.textContent = 'window.injectedRan = true;';"
            "document.body.appendChild(s); return window.injectedRan === true;"
        )
        assert injected is False
        said = wait_for(lambda: csp_violations(driver), 10)
        assert "script-src" in said[0]

        def reported() -> int:
            health = json.loads(get(f"{base}/healthz")[1])
            return int(health["web"]["security"]["reports"]["violations"])

        assert wait_for(reported, 20) >= 1

        driver.get(another_site)
        time.sleep(2)  # the frames have loaded, or been refused
        for frame in ("lookup", "login", "home"):
            driver.switch_to.frame(driver.find_element("id", frame))
            framed = driver.execute_script(
                "return [location.href, !!document.getElementById('react-entry-point'),"
                " !!document.getElementById('login-name'), document.body.innerText.length];"
            )
            driver.switch_to.default_content()
            href, dash_app, login_form, _ = framed
            assert href.startswith("chrome-error://"), (frame, framed)
            assert not dash_app and not login_form, (frame, framed)
        csp_violations(driver)  # the refusals are logged as violations: expected here
    finally:
        driver.quit()
