"""The citizen's certificate card in real Chromium on a 390×844 phone screen, against
`python -m vaxviet serve` with three citizens loaded by the ETL: green (primary series
complete), yellow (one dose of two) and green with a booster.

Each card is checked as a person sees it, by colour region (the band's dominant colour near
the status's, never a pixel comparison), by its words (the status in text, for colour-blind
readers; one language at a time), and by its QR (≥ 280 px wide on screen, decoded from the
screenshot to a certificate that verifies); the PNG download and the PDF show the same band
colour and decode to the same certificate. Set VAX_CARD_SCREENSHOTS to a directory to keep
the screenshots."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from certificates import card, qr, verify
from certificates.trust import TrustList
from portal.i18n import TEXTS
from tests.certificates_helpers import page_image, png_of
from tests.conftest import ROOT
from tests.integration.browser import (
    axe_violations,
    open_mounted,
    start_chromium,
    type_into,
    wait_for,
)
from tests.integration.conftest import get, serve_process

pytestmark = pytest.mark.integration


class page:  # noqa: N801  (the page's IDs: portal.pages.certificate registers a Dash page)
    CCCD_ID = "certificate-cccd"
    NAME_ID = "certificate-name"
    DOB_ID = "certificate-dob"
    PHONE_ID = "certificate-phone"
    SEND_ID = "certificate-send"
    CODE_ID = "certificate-code"
    CONFIRM_ID = "certificate-confirm"
    RESULT_ID = "certificate-result"
    CARD_ID = "certificate-card"
    STATUS_ID = "certificate-status"
    BOOSTERS_ID = "certificate-boosters"
    HOLDER_ID = "certificate-holder"
    DOSES_ID = "certificate-doses"
    QR_ID = "certificate-qr"
    DOWNLOAD_ID = "certificate-download"
    PDF_ID = "certificate-pdf"
    PDF_MESSAGE_ID = "certificate-pdf-message"


#: (CCCD, full name, date of birth, sex, phone, province, [(vaccine, administered at)])
CITIZENS: dict[str, tuple[str, str, str, str, str, str, list[tuple[str, str]]]] = {
    "green": ("079190000111", "Trần Thị Lan", "1990-03-12", "F", "0901000111", "79",
              [("EU/1/21/1529", "2021-07-01 08:00:00"), ("EU/1/20/1528", "2021-09-01 08:00:00")]),
    "yellow": ("001085000222", "Lê Văn Bình", "1985-11-20", "M", "0901000222", "01",
               [("EU/1/20/1528", "2021-08-15 09:00:00")]),
    "booster": ("048092000333", "Phạm Minh Đức", "1992-06-30", "M", "0901000333", "48",
                [("EU/1/20/1507", "2021-08-01 10:00:00"), ("EU/1/20/1507", "2021-09-01 10:00:00"),
                 ("EU/1/20/1507", "2022-01-15 10:00:00")]),
}  # fmt: skip
#: the largest distance (RGB, Euclidean) of a band's dominant colour from its status colour
NEAR = 30.0
#: Vietnamese letters and tone marks (after NFD): none may be in an English card's labels
VIETNAMESE = re.compile("[ăâđêôơưĂÂĐÊÔƠƯ\u0300\u0301\u0303\u0309\u0323]")


def rows() -> list[dict[str, str]]:
    found = []
    for key, (cccd, name, born, sex, phone, province, doses) in CITIZENS.items():
        for number, (vaccine, at) in enumerate(doses, start=1):
            found.append({
                "dose_id": f"{key}-{number}", "citizen_id": cccd, "full_name": name,
                "date_of_birth": born, "sex": sex, "phone": phone, "province_code": province,
                "site_id": f"{province}-0001", "vaccine_code": vaccine,
                "lot_number": f"LOT-{key.upper()}-{number}", "dose_number": str(number),
                "administered_at": at,
            })  # fmt: skip
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`python -m vaxviet serve` on a var/ where the three citizens were loaded by the ETL."""
    directory = tmp_path_factory.mktemp("card-site")
    var = directory / "var"
    env = {**os.environ, "VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off"}
    drop = directory / "drop.csv"
    pd.DataFrame(rows()).to_csv(drop, index=False)
    subprocess.run(
        [sys.executable, "-m", "etl", "load", str(drop)],
        cwd=ROOT, env=env, capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    with serve_process(directory, {"VAX_ETL_WORKER": "off"}) as served:
        yield served[0], var


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Any]:
    """One headless Chromium with a 390×844 phone window (the name `browser` puts every
    test here under the Content-Security-Policy check of conftest.py)."""
    driver: Any = start_chromium(
        tmp_path_factory.mktemp("chromium"), size="390,844", downloads=downloads
    )
    # a headless window is at least 500 px wide: the phone's screen is emulated
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    yield driver
    driver.quit()


def new_code(var: Path, phone: str, before: int) -> str:
    """The code of the newest message to `phone` after the outbox's first `before` lines."""
    outbox = var / "outbox" / "sms.jsonl"

    def found() -> str | None:
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        for line in reversed(lines[before:]):
            entry = json.loads(line)
            code = re.search(r"tiem chung (\d{6})", entry["message"])
            if entry["to"].endswith(phone[-3:]) and code:
                return code[1]
        return None

    code: str = wait_for(found, 30)
    return code


def look_up(browser: Any, base: str, var: Path, who: str, lang: str) -> Any:
    """Look `who` up on /certificate in `lang` as a citizen does; the card element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    cccd, name, born, _sex, phone, _province, _doses = CITIZENS[who]
    open_mounted(browser, base + ("/certificate?lang=en" if lang == "en" else "/certificate"))
    for element, value in [
        (page.CCCD_ID, cccd),
        (page.NAME_ID, name),
        (page.DOB_ID, born),
        (page.PHONE_ID, phone),
    ]:
        type_into(browser, element, value)
    outbox = var / "outbox" / "sms.jsonl"
    before = len(outbox.read_text(encoding="utf-8").splitlines()) if outbox.exists() else 0
    browser.find_element(By.ID, page.SEND_ID).click()
    WebDriverWait(browser, 30).until(ready.element_to_be_clickable((By.ID, page.CONFIRM_ID)))
    type_into(browser, page.CODE_ID, new_code(var, phone, before))
    browser.find_element(By.ID, page.CONFIRM_ID).click()
    shown = WebDriverWait(browser, 30).until(
        ready.visibility_of_element_located((By.ID, page.CARD_ID))
    )
    # the QR has loaded and been laid out
    wait_for(lambda: browser.execute_script(
        "const q = document.getElementById(arguments[0]);"
        "return q.complete && q.naturalWidth > 0 && q.getBoundingClientRect().width > 0;",
        page.QR_ID,
    ))  # fmt: skip
    return shown


def shot(browser: Any, element: Any) -> Image.Image:
    """A screenshot of the whole element, also where it reaches below the screen (Selenium's
    own stops at the screen's edge)."""
    browser.execute_script("arguments[0].scrollIntoView()", element)  # painted, decoded
    wait_for(lambda: browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
    ))  # fmt: skip
    box = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];",
        element,
    )
    x, y, width, height = box
    taken = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": x, "y": y, "width": width, "height": height, "scale": 1},
        },
    )
    return picture(base64.b64decode(taken["data"]))


def picture(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def dominant(image: Image.Image) -> tuple[int, int, int]:
    """The most common colour of an image."""
    colours = Counter(map(tuple, np.asarray(image.convert("RGB")).reshape(-1, 3).tolist()))
    found: tuple[int, int, int] = colours.most_common(1)[0][0]
    return found


def near(colour: tuple[int, int, int], status: str) -> bool:
    return float(np.linalg.norm(np.subtract(colour, card.COLOURS[status]))) <= NEAR


def band_of_image(image: Image.Image, status: str) -> tuple[int, int, int]:
    """The dominant colour of the top of a drawn card (PNG), inside its border."""
    width = image.width
    top = image.crop((width // 10, 4, width * 9 // 10, width // 5))
    return dominant(top)


def keep(image: Image.Image, name: str) -> None:
    folder = os.environ.get("VAX_CARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        image.save(Path(folder) / f"{name}.png")


def trust_list(base: str) -> TrustList:
    return TrustList.from_json(json.loads(get(base + "/api/v1/trust-list")[1]))


def labels(lang: str) -> list[str]:
    """The fixed labels of the card in `lang` (the texts without a value in them; a word of
    three letters or fewer, "Nam" (male), is also a word of the other language: "Viet Nam")."""
    own = {key: pair for key, pair in TEXTS.items() if key.startswith("certificate.")}
    table = {**card.WORDS, **own}
    index = 1 if lang == "en" else 0
    return [pair[index] for pair in table.values() if "{" not in pair[index]]


CASES = [("green", "vi"), ("green", "en"), ("yellow", "vi"), ("yellow", "en"), ("booster", "vi")]


@pytest.mark.parametrize(("who", "lang"), CASES)
def test_the_card_on_a_phone(
    browser: Any, site: tuple[str, Path], downloads: Path, who: str, lang: str
) -> None:
    from selenium.webdriver.common.by import By

    base, var = site
    status = "yellow" if who == "yellow" else "green"
    shown = look_up(browser, base, var, who, lang)
    assert browser.execute_script("return window.innerWidth") == 390
    keep(shot(browser, shown), f"card-{who}-{lang}")
    if os.environ.get("VAX_CARD_SCREENSHOTS"):  # the phone's screen, the card at its top
        browser.execute_script("arguments[0].scrollIntoView()", shown)
        keep(picture(browser.get_screenshot_as_png()), f"screen-{who}-{lang}")
        keep(shot(browser, browser.find_element(By.ID, page.RESULT_ID)), f"result-{who}-{lang}")
    assert shown.size["width"] <= 390 - 16  # the card fits the phone, with a margin

    # the colour: the band's dominant colour is the status's
    band = browser.find_element(By.CSS_SELECTOR, f"#{page.CARD_ID} .cert-band")
    found = dominant(shot(browser, band))
    assert near(found, status), (found, card.COLOURS[status])
    # ... and the status in words and a shape, so colour is never the only cue
    said = browser.find_element(By.ID, page.STATUS_ID).text
    colour_word = card.word(status, lang)  # type: ignore[arg-type]
    assert colour_word in said, said
    meaning = card.word(f"{status}_meaning", lang, n=1, of=2)  # type: ignore[arg-type]
    assert meaning in said, said
    icon = browser.find_element(By.CSS_SELECTOR, f"#{page.STATUS_ID} .cert-icon")
    assert icon.get_attribute("aria-hidden") == "true" and icon.size["width"] >= 24
    badge = browser.find_element(By.ID, page.BOOSTERS_ID)
    if who == "booster":
        assert badge.is_displayed() and badge.text == card.word("booster", lang, n=1)  # type: ignore[arg-type]
        assert near(dominant(shot(browser, band)), "green")  # no third colour
    else:
        assert not badge.is_displayed()

    # masked identity and the doses, in a list that fits the screen
    cccd, name, born, _sex, _phone, _province, doses = CITIZENS[who]
    text = shown.text
    family, *given = name.split()
    assert f"{family} {' '.join(g[0] + '.' for g in given)}" in text and name not in text
    assert born[:4] in text and born not in text and cccd not in text
    listed = browser.find_elements(By.CSS_SELECTOR, f"#{page.DOSES_ID} li")
    assert len(listed) == len(doses)
    assert all(at[:10] in text for _vaccine, at in doses)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    # the page with its card shown, as accessible as the empty form (WCAG 2.1 A and AA)
    assert axe_violations(browser) == []

    # the QR: at least 280 px wide, and what the screen shows decodes and verifies
    qr_image = browser.find_element(By.ID, page.QR_ID)
    assert qr_image.size["width"] >= 280, qr_image.size
    on_screen = shot(browser, qr_image)
    keep(on_screen, f"qr-{who}-{lang}")
    hc1 = qr.decode_qr(png_of(on_screen))
    result = verify.verify_text(hc1, trust_list(base), dt.datetime.now(dt.UTC))
    assert result.valid and result.progress is not None
    assert result.progress.status == status
    assert result.progress.boosters == (1 if who == "booster" else 0)

    # one language at a time: no label of the other language; English has no Vietnamese
    # letter once the name and the provinces (values, not labels) are taken out
    other = "vi" if lang == "en" else "en"
    whole = browser.find_element(By.ID, page.RESULT_ID).get_attribute("innerText")
    heading = browser.find_element(By.CSS_SELECTOR, ".page-certificate").get_attribute("innerText")
    leaked = [label for label in labels(other) if len(label) > 3 and label in heading]
    assert not leaked, leaked
    if lang == "en":
        values = [span.text for span in shown.find_elements(By.CSS_SELECTOR, ".cert-dose-detail")]
        plain = whole
        for value in [shown.find_element(By.ID, page.HOLDER_ID).text, *values]:
            plain = plain.replace(value, "")
        assert not VIETNAMESE.search(unicodedata.normalize("NFD", plain)), plain

    # the PNG download: the same card drawn on the server, the same colour and certificate
    for old in downloads.glob("*"):
        old.unlink()
    browser.find_element(By.ID, page.DOWNLOAD_ID).click()
    saved_png = wait_for(lambda: next(iter(downloads.glob("*.png")), None))
    drawn = picture(wait_for(lambda: saved_png.read_bytes() or None))
    keep(drawn, f"png-{who}-{lang}")
    assert drawn.width == card.WIDTH * card.UNIT and drawn.height > drawn.width
    assert near(band_of_image(drawn, status), status)
    assert qr.decode_qr(png_of(drawn)) == hc1
    said_png = TEXTS["certificate.say.png_done"][1 if lang == "en" else 0]
    wait_for(lambda: browser.find_element(By.ID, page.PDF_MESSAGE_ID).text == said_png)

    # the PDF: the same card centred on A4, in the page's language
    for old in downloads.glob("*"):
        old.unlink()
    browser.find_element(By.ID, page.PDF_ID).click()
    saved = wait_for(lambda: next(iter(downloads.glob("*.pdf")), None))
    printed = page_image(wait_for(lambda: saved.read_bytes() or None))
    keep(printed, f"pdf-{who}-{lang}")
    assert qr.decode_qr(png_of(printed)) == hc1
    pixels = np.asarray(printed)
    distance = np.linalg.norm(pixels.astype(float) - card.COLOURS[status], axis=2)
    band_rows = np.flatnonzero((distance <= NEAR).sum(axis=1) > printed.width // 3)
    assert band_rows.size > 100  # a band across the card, in the status colour
    top = int(band_rows[0])
    found_pdf = dominant(printed.crop((printed.width // 3, top, printed.width * 2 // 3, top + 60)))
    assert near(found_pdf, status)
    said_pdf = TEXTS["certificate.say.pdf_done"][1 if lang == "en" else 0]
    wait_for(lambda: browser.find_element(By.ID, page.PDF_MESSAGE_ID).text == said_pdf)
