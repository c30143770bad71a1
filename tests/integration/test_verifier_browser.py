"""The desk's verifier page (/verify, portal/verifier.py) in a real headless Chromium against
`python -m vaxviet serve`: the camera (a fake device playing a video of the platform's own
QR coming into view) gives each verdict; paste and upload; the page in both languages; and
offline after the first load, with the trust list's age shown and warned about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from certificates import keys, qr
from tests.integration.browser import axe_violations, csp_violations, start_chromium, wait_for
from tests.integration.camera import HOLDER, camera_arguments, desk_certificates, write_video
from tests.integration.conftest import serve_process
from vaxviet.settings import Settings

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC)

#: the verdict region's state (the contract the desk's tests and tools rely on)
VERDICT = """
var box = document.getElementById('verify-verdict');
return box && box.dataset.status ? {status: box.dataset.status, stage: box.dataset.stage || '',
                                    text: box.innerText} : null;
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running platform and the certificates a desk meets (signed by its key, and not)."""
    directory = tmp_path_factory.mktemp("desk")
    with serve_process(directory, {"VAX_ETL_WORKER": "off"}) as (base, _env):
        signing = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(directory / "var")}))
        other = tmp_path_factory.mktemp("foreign")
        foreign = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(other)}))
        yield {
            "base": base,
            "directory": directory,
            "certificates": desk_certificates(signing, foreign, NOW),
        }


def _browser(profile: Path, video: Path | None = None) -> Any:
    return start_chromium(profile, arguments=camera_arguments(video) if video else ())


def _verdict(browser: Any, seconds: float = 20) -> dict[str, str]:
    found: dict[str, str] = wait_for(lambda: browser.execute_script(VERDICT), seconds)
    return found


def _trust_state(browser: Any) -> str:
    return str(
        browser.execute_script("return document.getElementById('trust-status').dataset.state")
    )


def _click(browser: Any, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, element_id).click()


@pytest.mark.parametrize(
    "name", ["green", "yellow", "booster", "expired", "tampered", "foreign", "no_qr"]
)
def test_the_camera_gives_each_verdict(desk: dict[str, Any], tmp_path: Path, name: str) -> None:
    text, status, stage = desk["certificates"].get(name, (None, "", ""))
    video = write_video(tmp_path / "camera.y4m", text, empty_seconds=0.5, qr_seconds=2.0)
    browser = _browser(tmp_path / "chromium", video)
    try:
        browser.get(desk["base"] + "/verify")
        _click(browser, "scan-camera")
        if name == "no_qr":
            # the camera plays (frames reach the page) and nothing is claimed
            wait_for(lambda: browser.execute_script(
                "var v = document.getElementById('scan-video'); return v.currentTime > 2.5;"
            ))  # fmt: skip
            assert browser.execute_script(VERDICT) is None
            assert browser.execute_script(
                "return document.getElementById('scan-status').textContent"
            ) == "Đưa mã QR vào khung"  # fmt: skip
        else:
            verdict = _verdict(browser)
            assert verdict["status"] == status, verdict
            assert verdict["stage"] == stage, verdict
            if status == "invalid":
                assert "Không hợp lệ" in verdict["text"]
                assert {"expiry": "thời hạn", "signature": "chữ ký"}[stage] in verdict["text"]
                assert HOLDER[0] not in verdict["text"]
            else:
                # colour, name and date of birth; never the doses
                assert HOLDER[0] in verdict["text"] and HOLDER[1] in verdict["text"]
                assert "LOT" not in verdict["text"] and "Comirnaty" not in verdict["text"]
                assert ("nhắc lại" in verdict["text"]) == (name == "booster")
        assert csp_violations(browser) == []
    finally:
        browser.quit()


def test_paste_and_upload_in_either_language(desk: dict[str, Any], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    certificates = desk["certificates"]
    browser = _browser(tmp_path / "chromium")
    try:
        browser.get(desk["base"] + "/verify?lang=en")
        assert browser.execute_script("return document.documentElement.lang") == "en"
        box = browser.find_element(By.ID, "verify-text")
        box.send_keys(certificates["green"][0])
        _click(browser, "verify-button")
        verdict = _verdict(browser)
        assert verdict["status"] == "green" and "Valid — green" in verdict["text"]
        assert HOLDER[0] in verdict["text"]
        assert axe_violations(browser) == []  # WCAG 2.1 A and AA, with a verdict shown

        box.clear()
        box.send_keys("HC1:broken!")
        _click(browser, "verify-button")
        wait_for(lambda: browser.execute_script(VERDICT)["status"] == "invalid")
        verdict = _verdict(browser)
        assert verdict["stage"] == "base45" and "Failed step: base45 text" in verdict["text"]
        assert axe_violations(browser) == []

        # a picture of the QR, uploaded: decoded and verified in the browser
        picture = tmp_path / "qr.png"
        picture.write_bytes(qr.qr_png(certificates["yellow"][0]))
        browser.find_element(By.ID, "verify-upload").send_keys(str(picture))
        wait_for(lambda: browser.execute_script(VERDICT)["status"] == "yellow")
        # a picture with no QR in it
        blank = tmp_path / "blank.png"
        Image.new("L", (300, 200), 230).save(blank)
        browser.find_element(By.ID, "verify-upload").send_keys(str(blank))
        wait_for(lambda: browser.execute_script(VERDICT)["stage"] == "qr")
        assert "No QR code found" in browser.execute_script(VERDICT)["text"]

        # the Vietnamese page has no English label
        browser.get(desk["base"] + "/verify")
        body = browser.find_element(By.TAG_NAME, "main").text
        assert "Quét bằng camera" in body and "Scan with" not in body
        assert csp_violations(browser) == []
    finally:
        browser.quit()


#: the device's clock moved on by this many hours, before any script of the page runs
CLOCK_AHEAD = """
(function () {
  var shift = HOURS * 3600000, RealDate = Date;
  function Shifted(...args) {
    if (!new.target) { return new RealDate(RealDate.now() + shift).toString(); }
    return args.length ? new RealDate(...args) : new RealDate(RealDate.now() + shift);
  }
  Shifted.prototype = RealDate.prototype;
  Shifted.now = function () { return RealDate.now() + shift; };
  Shifted.parse = RealDate.parse;
  Shifted.UTC = RealDate.UTC;
  window.Date = Shifted;
})();
"""


def test_offline_after_the_first_load(tmp_path: Path) -> None:
    """The network is cut (the server stopped) after one visit: the page, its scripts, the
    rules and the trust list come from the service worker, and the camera still verifies;
    a day later the page warns that the trust list is ageing, three days later that it is
    out of date."""
    directory = tmp_path / "platform"
    directory.mkdir()
    with serve_process(directory, {"VAX_ETL_WORKER": "off"}) as (base, _env):
        signing = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(directory / "var")}))
        foreign = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "foreign")}))
        text = desk_certificates(signing, foreign, NOW)["green"][0]
        video = write_video(tmp_path / "camera.y4m", text, empty_seconds=0.5, qr_seconds=2.0)
        browser = _browser(tmp_path / "chromium", video)
        try:
            browser.get(base + "/verify")
            # the worker has installed and keeps the page's files
            wait_for(lambda: browser.execute_script(
                "return !!navigator.serviceWorker.controller || "
                "navigator.serviceWorker.ready.then(function () { return true; })"
            ))  # fmt: skip
            wait_for(lambda: browser.execute_script(
                "return document.getElementById('trust-status').dataset.state === 'fresh'"
            ))  # fmt: skip
            kept = wait_for(lambda: browser.execute_async_script(
                "var done = arguments[0]; caches.keys().then(function (names) {"
                " return names.length ? caches.open(names[0]).then(function (c) {"
                " return c.keys(); }) : []; }).then(function (r) { done(r.length); });"
            ))  # fmt: skip
            assert kept >= 6
        except BaseException:
            browser.quit()
            raise
    # the server is gone: nothing answers on its port
    try:
        with pytest.raises(OSError):
            import urllib.request

            urllib.request.urlopen(base + "/verify", timeout=5)
        browser.get(base + "/verify")
        wait_for(lambda: browser.execute_script(
            "return document.getElementById('trust-status').textContent.indexOf('không có mạng') >= 0"
        ))  # fmt: skip
        _click(browser, "scan-camera")
        verdict = _verdict(browser)
        assert verdict["status"] == "green" and HOLDER[0] in verdict["text"]

        for hours, state in ((30, "ageing"), (80, "stale")):
            browser.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument",
                {"source": CLOCK_AHEAD.replace("HOURS", str(hours))},
            )
            browser.get(base + "/verify")
            wait_for(lambda wanted=state: _trust_state(browser) == wanted)
        warning = browser.execute_script(
            "return document.getElementById('trust-status').textContent"
        )
        assert "quá hạn" in warning
        assert csp_violations(browser) == []
    finally:
        browser.quit()
