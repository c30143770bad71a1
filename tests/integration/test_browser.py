"""The status page in a real headless Chromium: it renders, and nothing leaves the origin."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.integration


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
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
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=390,844",  # a phone
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def requested_urls(driver: object) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_status_page_renders_and_stays_on_its_origin(
    browser: object, running: tuple[str, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = running
    browser.get(base + "/")  # type: ignore[attr-defined]
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
