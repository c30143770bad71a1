"""The /certificate portal page: served by the real server, then the lookup in a real
headless Chromium against `python -m vaxviet serve`, with canary identity values that must
not appear in the server's log, in any URL the browser requested, or in the outbox (the
/verify page: test_verifier_browser.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import flask
import pandas as pd
import pytest

from certificates import qr, verify
from certificates.trust import TrustList
from tests.certificates_helpers import page_image, png_of
from tests.conftest import ROOT
from tests.integration.browser import (
    csp_violations,
    open_mounted,
    requested_urls,
    start_chromium,
    type_into,
    wait_for,
)
from tests.integration.conftest import get, serve_process
from tests.integration.helpers import (
    CANARY_CCCD,
    CANARY_NAME,
    CANARY_PHONE,
    DETAILS,
    canary_dose,
    canary_loaded,  # noqa: F401  (the fixture `loaded`)
)
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC)


def text_of(component: object) -> str:
    return json.dumps(component, default=lambda c: c.to_plotly_json(), ensure_ascii=False)


@pytest.fixture
def server(loaded: Warehouse, tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")})
    return create_server(Services(settings=settings, warehouse=loaded))


def test_pages_are_served(server: flask.Flask) -> None:
    client = server.test_client()
    for path in ("/certificate", "/verify"):
        assert client.get(path).status_code == 200
    from portal.pages import certificate

    with server.app_context():
        assert "certificate-cccd" in text_of(certificate.layout())
        # one language at a time (?lang=en), the card's words included
        vietnamese, english = text_of(certificate.layout()), text_of(certificate.layout(lang="en"))
        assert "Số CCCD" in vietnamese and "Citizen ID" not in vietnamese
        assert "Citizen ID (CCCD)" in english and "Số CCCD" not in english
        assert "Các mũi đã tiêm" in vietnamese and "Doses" in english
        assert "Tải PDF" not in english and "Download PDF" not in vietnamese


# -- both flows in a real browser against the real process -------------------------------------


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`python -m vaxviet serve` on a var/ where the canary citizen was loaded by the ETL."""
    var = tmp_path / "var"
    env = {**os.environ, "VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off", "VAX_LOG_LEVEL": "DEBUG"}
    rows = [canary_dose("B1", 1, "EU/1/21/1529", "LOT-B1", "2021-07-01 08:00:00")]
    drop = tmp_path / "drop.csv"
    pd.DataFrame(rows).to_csv(drop, index=False)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "etl", "load", str(drop)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300,
        )  # fmt: skip
    with serve_process(tmp_path, {"VAX_ETL_WORKER": "off", "VAX_LOG_LEVEL": "DEBUG"}) as served:
        yield served[0], log, var


def test_lookup_and_verify_in_a_browser(serving: tuple[str, Path, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    base, log, var = serving
    downloads = tmp_path / "downloads"
    browser = start_chromium(tmp_path / "chromium", downloads=downloads)
    try:
        wait = WebDriverWait(browser, 60)
        open_mounted(browser, base + "/certificate")
        for element, value in [
            ("certificate-cccd", DETAILS["citizen_id"]),
            ("certificate-name", DETAILS["full_name"]),
            ("certificate-dob", DETAILS["date_of_birth"]),
            ("certificate-phone", DETAILS["phone"]),
        ]:
            type_into(browser, element, "0123" if element == "certificate-cccd" else value)
        # the page says what the API answered, in the browser (no Dash callback on the server)
        browser.find_element(By.ID, "certificate-send").click()  # type: ignore[attr-defined]
        message = (By.ID, "certificate-message")
        wait.until(ready.text_to_be_present_in_element(message, "12 chữ số"))
        assert not browser.find_element(By.ID, "certificate-confirm").is_enabled()  # type: ignore[attr-defined]
        type_into(browser, "certificate-cccd", DETAILS["citizen_id"])
        browser.find_element(By.ID, "certificate-send").click()  # type: ignore[attr-defined]
        wait.until(ready.element_to_be_clickable((By.ID, "certificate-confirm")))
        assert "mã xác nhận đã được gửi" in browser.find_element(*message).text  # type: ignore[attr-defined]

        status, page = get(base + "/certificate/demo-sms")
        assert status == 200
        code = re.search(rb"tiem chung (\d{6})", page)
        assert code is not None
        browser.find_element(By.ID, "certificate-code").send_keys(code[1].decode())  # type: ignore[attr-defined]
        browser.find_element(By.ID, "certificate-confirm").click()  # type: ignore[attr-defined]
        wait.until(ready.visibility_of_element_located((By.ID, "certificate-card")))
        assert "Vàng" in browser.find_element(By.ID, "certificate-status").text  # type: ignore[attr-defined]
        assert "LOT-B1" in browser.find_element(By.ID, "certificate-doses").text  # type: ignore[attr-defined]
        source = browser.find_element(By.ID, "certificate-qr").get_attribute("src")  # type: ignore[attr-defined]
        text = qr.decode_qr(base64.b64decode(source.partition(",")[2]))
        trusted = TrustList.from_json(json.loads(get(base + "/api/v1/trust-list")[1]))
        assert verify.verify_text(text, trusted, dt.datetime.now(dt.UTC)).valid
        # the PDF: fetched with the certificate's text in a POST body, saved by the browser
        browser.find_element(By.ID, "certificate-pdf").click()  # type: ignore[attr-defined]
        saved = wait_for(lambda: next(iter(downloads.glob("*.pdf")), None))
        assert browser.find_element(By.ID, "certificate-pdf-message").text == "Đã tải PDF"  # type: ignore[attr-defined]
        page = page_image(wait_for(lambda: saved.read_bytes() or None))
        assert qr.decode_qr(png_of(page)) == text

        urls = requested_urls(browser)
        # every page above ran under its Content-Security-Policy (web.security)
        assert csp_violations(browser) == []
    finally:
        browser.quit()  # type: ignore[attr-defined]

    web_urls = [url for url in urls if url.startswith(("http:", "https:", "ws:", "wss:"))]
    assert web_urls and all(url.startswith(base) for url in web_urls), web_urls
    written = log.read_text(encoding="utf-8", errors="replace")
    outbox = (var / "outbox" / "sms.jsonl").read_text(encoding="utf-8")
    for canary in (CANARY_CCCD, CANARY_NAME, CANARY_PHONE, "Canary"):
        assert not any(canary in url for url in urls)
        assert canary not in written, canary
        assert canary not in outbox
