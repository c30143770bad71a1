"""Correction requests end to end in Chromium, through `python -m vaxviet serve` (front,
edge, ETL worker): a citizen with a missing dose files a request from their card, the Hà Nội
official approves it, and within 10 s of the approval the citizen's card shows the dose and
is green; a rejected request shows its reason at /certificate/request; an official of
another province sees nothing of either."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from certificates import rules
from dashboards import users
from tests.integration.browser import open_mounted, type_into, wait_for
from tests.integration.conftest import get, serve_process
from tests.integration.registry_helpers import CITIZEN, VACCINE, correction_registry

pytestmark = pytest.mark.integration

PASSWORD = "a long password for the test"
DETAILS = {
    "certificate-cccd": CITIZEN,
    "certificate-name": "Nguyen Van An",
    "certificate-dob": "1990-05-01",
    "certificate-phone": "0912345678",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("corrections-site")
    (directory / "var").mkdir()
    registry = correction_registry(f"sqlite:///{directory / 'var' / 'registry.sqlite'}")
    users.ensure_table(registry)
    users.add_user(registry, "hanoi-official", PASSWORD, "province", "01")
    users.add_user(registry, "hcm-official", PASSWORD, "province", "79")
    registry.dispose()
    with serve_process(directory) as (base, _):
        wait_for(lambda: loaded(base), 120)  # the ETL worker streamed the registry
        yield base


def loaded(base: str) -> bool:
    document = json.loads(get(f"{base}/api/v1/coverage")[1])
    return bool(document["data"] and document["data"][0]["dose1"] == 1)


def latest_code(base: str, pattern: str) -> str:
    """The newest one-time code of `pattern` in the demo SMS outbox."""
    status, page = get(base + "/certificate/demo-sms")
    assert status == 200
    found = re.search(pattern.encode(), page)
    assert found is not None
    return found[1].decode()


def show_card(browser: Any, base: str) -> str:
    """Look the certificate up as the citizen does; returns the card's status line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    open_mounted(browser, base + "/certificate")
    for element, value in DETAILS.items():
        type_into(browser, element, value)
    browser.find_element(By.ID, "certificate-send").click()
    WebDriverWait(browser, 30).until(ready.element_to_be_clickable((By.ID, "certificate-confirm")))
    type_into(browser, "certificate-code", latest_code(base, r"tiem chung (\d{6})"))
    browser.find_element(By.ID, "certificate-confirm").click()
    WebDriverWait(browser, 30).until(
        ready.visibility_of_element_located((By.ID, "certificate-card"))
    )
    return str(browser.find_element(By.ID, "certificate-status").text)


def file_from_card(browser: Any, kind: str, fields: dict[str, str]) -> str:
    """Open "Report a problem", choose `kind`, fill `fields`, file; returns the reference."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.find_element(By.CSS_SELECTOR, "#certificate-report summary").click()
    browser.find_element(By.CSS_SELECTOR, f"#report-kind input[value='{kind}']").click()
    for element, value in fields.items():
        if element == "report-vaccine":  # Dash's dropdown: open it, click the option
            browser.find_element(By.ID, element).click()
            option = wait_for(lambda label=value: labelled(browser, label), 30)
            option.click()
            browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        else:
            type_into(browser, element, value)
    browser.find_element(By.ID, "report-file").click()
    said = wait_for(lambda: browser.find_element(By.ID, "report-filed").text, 30)
    reference = re.search(r"VX-[0-9A-Z]{10}", said)
    assert reference is not None, said
    return reference[0]


def labelled(browser: Any, label: str) -> Any:
    """The open dropdown's option reading `label` (StopIteration until it shows)."""
    from selenium.webdriver.common.by import By

    options = browser.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
    return next(o for o in options if o.text.strip() == label)


def log_in(browser: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(base + "/internal/login")
    browser.find_element(By.ID, "login-name").send_keys(name)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_for(lambda: browser.find_elements(By.ID, "dash-user"), 60)


def open_request(browser: Any, base: str, reference_row: int) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/internal/corrections?request={reference_row}")
    wait_for(lambda: browser.find_elements(By.ID, "corrections-state"), 60)


def test_a_missing_dose_is_approved_and_a_rejection_explained(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    base = site
    assert "Vàng" in show_card(browser, base)  # one dose of two: yellow
    product = rules.products()[VACCINE].display
    reference = file_from_card(
        browser,
        "missing_dose",
        {"report-day": "2021-09-01", "report-site": "01-0001", "report-vaccine": product},
    )
    # Hà Nội's official finds it in the queue and approves it
    log_in(browser, base, "hanoi-official")
    browser.get(base + "/internal/corrections")
    row = wait_for(
        lambda: browser.find_element(By.CSS_SELECTOR, "#corrections-queue tr[data-request]"), 60
    )
    request_id = row.get_attribute("data-request")
    open_request(browser, base, int(request_id))
    assert "2021-09-01" in browser.find_element(By.ID, "corrections-claim").text
    browser.find_element(By.ID, "corrections-approve").click()
    approved_at = time.monotonic()
    wait_for(
        lambda: (
            "approved" in browser.current_url or browser.find_elements(By.ID, "corrections-done")
        ),
        30,
    )

    # the citizen looks again: the dose is on the card and it is green within 10 s
    browser.delete_all_cookies()

    def green() -> bool:
        return "Xanh" in show_card(browser, base)

    wait_for(green, 30)
    assert time.monotonic() - approved_at <= 10, time.monotonic() - approved_at
    doses = browser.find_element(By.ID, "certificate-doses").text
    assert "2021-09-01" in doses and doses.count("\n") >= 1

    # an identity correction, rejected with a reason the citizen reads
    rejected = file_from_card(browser, "identity", {"report-name": "Nguyễn Văn Ân"})
    log_in(browser, base, "hanoi-official")
    browser.get(base + "/internal/corrections")
    rows = wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#corrections-queue tr[data-request]"), 60
    )
    open_request(browser, base, int(rows[-1].get_attribute("data-request")))
    browser.find_element(By.ID, "corrections-reason").send_keys("Tên trên CCCD là Nguyễn Văn An")
    browser.find_element(By.ID, "corrections-reject").click()
    wait_for(lambda: browser.find_elements(By.ID, "corrections-done"), 30)

    # Hồ Chí Minh City's official sees neither (the queue, and the request by its number)
    log_in(browser, base, "hcm-official")
    browser.get(base + "/internal/corrections?state=all")
    queue = wait_for(lambda: browser.find_element(By.ID, "corrections-queue"), 60)
    assert "#" not in queue.text
    browser.get(f"{base}/internal/corrections?request={request_id}")
    wait_for(lambda: browser.find_elements(By.ID, "corrections-missing"), 60)
    assert "2021-09-01" not in browser.find_element(By.ID, "main").text

    # the citizen follows the rejected request by its reference
    browser.delete_all_cookies()
    open_mounted(browser, base + "/certificate/request?lang=en")  # one language at a time
    type_into(browser, "track-reference", rejected)
    browser.find_element(By.ID, "track-send").click()
    wait_for(lambda: "code" in browser.find_element(By.ID, "track-message").text, 30)
    type_into(browser, "track-code", latest_code(base, r"ma tra cuu yeu cau (\d{6})"))
    browser.find_element(By.ID, "track-show").click()
    reason = wait_for(lambda: browser.find_element(By.ID, "track-reason").text, 30)
    assert "Nguyễn Văn An" in reason
    assert "Rejected" in browser.find_element(By.ID, "track-status").text
    assert reference != rejected
