"""Helpers for the tests that drive a headless Chromium (test_browser.py and the portal's,
dashboards', certificates' and live demo's browser tests): start it, wait for a page, list
what it requested."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require


def start_chromium(
    profile: Path,
    size: str = "390,844",
    downloads: Path | None = None,
    arguments: Sequence[str] = (),
) -> object:
    """Headless Chromium through chromedriver (never fetched: SE_OFFLINE), logging every
    network request; `size` is the window (default: a phone); files the page downloads go
    to `downloads` when given; `arguments`: more switches (a fake camera, say)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    require(bool(chromium and driver_path), "Chromium and chromedriver (make test installs them)")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={size}",
        *arguments,
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    if downloads is not None:
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
    if downloads is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    driver.set_page_load_timeout(60)
    return driver


def wait_for(condition: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # the element may not exist yet
            value = None
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("the page did not reach the expected state in time")


#: true once Dash has rendered the page itself and prerendered.js has removed the server's copy
DASH_MOUNTED = """
var content = document.querySelector('#react-entry-point #_pages_content');
return !document.getElementById('portal-prerendered') && !!content && content.children.length > 0;
"""


def open_mounted(browser: Any, url: str, seconds: float = 60) -> None:
    """Open a portal page and wait until Dash has taken it over. Until then the elements
    found are the server-rendered copy's, which goes stale the moment Dash replaces it."""
    browser.get(url)
    wait_for(lambda: browser.execute_script(DASH_MOUNTED), seconds)


def requested_urls(driver: object) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def csp_violations(driver: object) -> list[str]:
    """What the browser's console said about the pages' Content-Security-Policy since the
    last call (each message once): every browser test expects none."""
    return [
        str(entry["message"])
        for entry in driver.get_log("browser")  # type: ignore[attr-defined]
        if "Content Security Policy" in str(entry.get("message", ""))
    ]


def type_into(browser: Any, element_id: str, text: str) -> None:
    """Type into an input once the page has settled: a server-rendered first paint is
    replaced when Dash mounts, which leaves an element found earlier stale."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def typed() -> bool:
        try:
            box = browser.find_element(By.ID, element_id)
            box.send_keys(Keys.CONTROL + "a", Keys.DELETE)  # as a person would: React sees it
            box.send_keys(text)
            return bool(box.get_attribute("value") == text)
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    wait_for(typed, 60)


#: axe-core, installed from npm by `make test` (package.json); injected into the page by the
#: test, never served by the platform
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: what the accessibility checks hold every page to: WCAG 2.1, levels A and AA
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: phone and desktop: every page is checked at both
SIZES = ((390, 844), (1280, 1000))
RUN_AXE = """
var tags = arguments[0], done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(function (result) {
    done(result.violations.map(function (v) {
      return v.id + ' (' + v.impact + '): ' + v.nodes.map(function (n) {
        return n.target.join(' ');
      }).join(', ');
    }));
  })
  .catch(function (error) { done(['axe failed: ' + error]); });
"""


def axe_violations(browser: Any) -> list[str]:
    """The WCAG 2.1 A and AA violations axe-core finds in the page as it is now (each rule
    with the elements that break it)."""
    require(AXE.is_file(), "axe-core (make test installs it with npm: package.json)")
    if not browser.execute_script("return typeof axe !== 'undefined'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[str] = browser.execute_async_script(RUN_AXE, list(WCAG_TAGS))
    return found


@contextmanager
def serve_files(files: Mapping[str, tuple[bytes, str]]) -> Iterator[str]:
    """`files` (path → body, content type) on 127.0.0.1, a secure context for WebCrypto,
    for as long as the block runs; yields the base URL (ending in ``/``)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = files.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
