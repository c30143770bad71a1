"""The status page (/status) in a real headless Chromium: it renders, and nothing leaves the
origin. The portal's own pages have their browser tests in test_portal_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
