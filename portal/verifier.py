"""The certificate verifier at the desk (``/verify``): the camera scans, the browser verifies.

A health worker opens ``/verify`` on a phone or a desk computer once; from then on the page
works without the network. It scans a certificate's QR with the camera (the rear camera on
phones; the device's native barcode detector where it has one, else jsQR, which the
platform serves itself), verifies it in the browser (``certificates/browser/verifier.js``:
prefix, base45, zlib, COSE, CBOR, the ES256/PS256 signature against the trust list, key
usage, expiry, schema — the stages of ``python -m certificates verify``) and shows the
verdict: the colour, the holder's name and date of birth, never the doses. Nothing scanned
leaves the device. Pasted text and an uploaded photo go through the same code.

The page is not a Dash page: it is one HTML document with three scripts, so a service
worker (``/verify/sw.js``) can keep it, its scripts, the verification rules and the last
trust list for offline use. The trust list (``/verify/trust.json``, the browser form of
``/api/v1/trust-list``: :func:`certificates.browser.trust_document`) is fetched from the
network whenever there is one; the page shows how old the copy it verifies with is, warns
after :data:`TRUST_WARN_HOURS` and says it is out of date after :data:`TRUST_STALE_HOURS`.

Scripts and rules are served under a content hash (``?v=``) and kept for a year; the page,
the worker and the trust list are asked again each time (``no-cache``). docs/certificates.md
describes the page and how it is tested.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Final

import flask
from dash.development.base_component import Component

from portal import layout, prerender
from web.formatting import Lang, pick

log = logging.getLogger("vaxviet.portal.verifier")

PATH: Final = "/verify"
#: the service worker's URL and the scope it controls (the page and everything under it)
WORKER_PATH: Final = "/verify/sw.js"
TRUST_PATH: Final = "/verify/trust.json"
ROOT: Final = Path(__file__).resolve().parent.parent
STATIC: Final = Path(__file__).resolve().parent / "static" / "verifier"
#: the scripts and data the page loads, by name under /verify/: (file, content type)
FILES: Final[dict[str, tuple[Path, str]]] = {
    "jsqr.js": (ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js", "application/javascript"),
    "verifier.js": (ROOT / "certificates" / "browser" / "verifier.js", "application/javascript"),
    "app.js": (STATIC / "app.js", "application/javascript"),
}
RULES_NAME: Final = "rules.json"
#: a trust list older than this is shown with a warning to connect soon
TRUST_WARN_HOURS: Final = 24
#: and older than this, as out of date (the verdicts still show, marked)
TRUST_STALE_HOURS: Final = 72
#: how long the worker waits for the network before it answers from its copy
NETWORK_WAIT_MS: Final = 4000
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
#: the portal's styles and the page's own, inlined (the first paint waits for no request)
STYLES: Final = (ROOT / "portal" / "assets" / "portal.css", STATIC / "verifier.css")

#: the page's own texts: (Vietnamese, English); the script's texts are the "js." ones
TEXTS: Final[dict[str, tuple[str, str]]] = {
    "title": ("Kiểm tra giấy chứng nhận tiêm chủng", "Verify a vaccination certificate"),
    "lede": (
        "Quét mã QR trên giấy chứng nhận. Việc kiểm tra diễn ra ngay trên thiết bị này, "
        "không gửi dữ liệu đi đâu, và vẫn hoạt động khi mất mạng.",
        "Scan the QR code of a certificate. It is checked on this device, nothing is sent "
        "anywhere, and it keeps working without the network.",
    ),
    "scan": ("Quét bằng camera", "Scan with the camera"),
    "stop": ("Dừng quét", "Stop scanning"),
    "torch": ("Đèn", "Torch"),
    "viewfinder": ("Hình ảnh từ camera", "Camera view"),
    "other": ("Cách khác", "Other ways"),
    "paste_label": ("Nội dung mã QR (HC1:…)", "QR text (HC1:…)"),
    "verify": ("Kiểm tra", "Verify"),
    "upload_label": ("Ảnh chụp hoặc tệp ảnh của mã QR", "A photo or image file of the QR code"),
    "noscript": (
        "Trang này cần JavaScript để quét và kiểm tra mã.",
        "This page needs JavaScript to scan and verify a code.",
    ),
    "js.status.green": ("Hợp lệ — Xanh", "Valid — green"),
    "js.status.yellow": ("Hợp lệ — Vàng", "Valid — yellow"),
    "js.status.none": (
        "Hợp lệ, nhưng không phải chứng nhận tiêm chủng",
        "Valid, but not a vaccination certificate",
    ),
    "js.status.invalid": ("Không hợp lệ", "Not valid"),
    "js.meaning.green": ("Đã tiêm đủ liều cơ bản", "Primary series complete"),
    "js.meaning.yellow": (
        "Đã bắt đầu tiêm, chưa đủ liều cơ bản",
        "Primary series started, not complete",
    ),
    "js.boosters": ("mũi nhắc lại", "booster(s)"),
    "js.name": ("Họ tên", "Name"),
    "js.dob": ("Ngày sinh", "Date of birth"),
    "js.failed": ("Bước không đạt", "Failed step"),
    "js.stage.qr": ("đọc mã QR", "reading the QR code"),
    "js.stage.prefix": ("tiền tố HC1:", "the HC1: prefix"),
    "js.stage.base45": ("mã base45", "base45 text"),
    "js.stage.zlib": ("giải nén", "decompression"),
    "js.stage.cose": ("cấu trúc COSE", "COSE structure"),
    "js.stage.cbor": ("nội dung CWT", "CWT content"),
    "js.stage.signature": ("chữ ký", "signature"),
    "js.stage.key_usage": ("quyền ký của khóa", "the signing key's usage"),
    "js.stage.expiry": ("thời hạn", "validity period"),
    "js.stage.schema": ("định dạng dữ liệu", "data format"),
    "js.no_qr": ("Không tìm thấy mã QR trong ảnh", "No QR code found in the image"),
    "js.empty": ("Hãy dán nội dung mã QR", "Paste the QR text first"),
    "js.camera.starting": ("Đang mở camera…", "Opening the camera…"),
    "js.camera.scanning": ("Đưa mã QR vào khung", "Hold the QR code inside the frame"),
    "js.camera.denied": (
        "Chưa được phép dùng camera: hãy cho phép trong trình duyệt",
        "The camera is not allowed: allow it in the browser",
    ),
    "js.camera.none": (
        "Không có camera hoặc trình duyệt không hỗ trợ",
        "No camera, or the browser cannot use it",
    ),
    "js.camera.stopped": ("Đã dừng quét", "Scanning stopped"),
    "js.no_decoder": (
        "Thiếu bộ đọc mã QR: tải lại trang khi có mạng",
        "The QR decoder is missing: reload the page when online",
    ),
    "js.no_verifier": (
        "Trình duyệt này không kiểm tra được (cần trình duyệt mới hơn)",
        "This browser cannot verify (a newer browser is needed)",
    ),
    "js.trust.loading": ("Đang tải danh sách khóa tin cậy…", "Loading the trust list…"),
    "js.trust.missing": (
        "Chưa có danh sách khóa tin cậy: hãy kết nối mạng và tải lại trang",
        "No trust list yet: connect to the network and reload the page",
    ),
    "js.trust.fresh": (
        "Danh sách khóa tin cậy: {keys} khóa, cập nhật {when} ({ago})",
        "Trust list: {keys} signing key(s), updated {when} ({ago})",
    ),
    "js.trust.ageing": (
        "sắp quá hạn: hãy kết nối mạng trước {stale} để cập nhật",
        "getting old: connect to the network before {stale} to update it",
    ),
    "js.trust.stale": (
        "đã quá hạn: kết quả có thể sai — hãy kết nối mạng để cập nhật",
        "out of date: verdicts may be wrong — connect to the network to update it",
    ),
    "js.trust.offline": (
        "Đang dùng bản lưu trên máy (không có mạng)",
        "Using the copy on this device (offline)",
    ),
    "js.ago": ("{span} trước", "{span} ago"),
    "js.unit.now": ("vừa xong", "just now"),
    "js.unit.minute": ("phút", "min"),
    "js.unit.hour": ("giờ", "h"),
    "js.unit.day": ("ngày", "days"),
}


def t(key: str, lang: Lang) -> str:
    return pick(TEXTS[key], lang)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str

    @functools.cached_property
    def version(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]


class AssetMissingError(RuntimeError):
    """A file the page needs is not installed (jsQR comes from npm: `make run` installs it)."""


@functools.cache
def asset(name: str) -> Asset:
    """A script or the rules, read once per process."""
    if name == RULES_NAME:
        from certificates.browser import rules_document

        body = json.dumps(rules_document(), separators=(",", ":"), sort_keys=True).encode()
        return Asset(body, "application/json")
    path, content_type = FILES[name]
    if not path.is_file():
        raise AssetMissingError(f"{path} is missing: run `make run` (npm ci installs it)")
    return Asset(path.read_bytes(), content_type)


def asset_url(name: str) -> str:
    return f"{PATH}/{name}?v={asset(name).version}"


def _asset_urls() -> dict[str, str]:
    return {name: asset_url(name) for name in (*FILES, RULES_NAME)}


@functools.cache
def _style() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in STYLES)


def _json_script(element_id: str, document: object) -> str:
    """A JSON document inside the page (a data block: browsers do not run it, so the page's
    policy needs no hash for it)."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    body = body.replace("<", "\\u003c")  # no "</script>" can end the block early
    return f'<script type="application/json" id="{element_id}">{body}</script>'


def _body(lang: Lang) -> str:
    def say(key: str) -> str:
        return escape(t(key, lang))

    return f"""<div class="page-verify">
<h1>{say("title")}</h1>
<p class="lede">{say("lede")}</p>
<div id="verify-verdict" class="verdict" data-status="" aria-live="assertive" tabindex="-1"></div>
<section class="scanner" aria-label="{say("scan")}">
<div class="scan-buttons">
<button type="button" id="scan-camera" class="scan-button">{say("scan")}</button>
<button type="button" id="scan-stop" class="button" hidden>{say("stop")}</button>
<button type="button" id="scan-torch" class="button" aria-pressed="false" hidden>{say("torch")}</button>
</div>
<div id="scan-view" class="scan-view" hidden>
<video id="scan-video" muted playsinline aria-label="{say("viewfinder")}"></video>
<div class="scan-frame" aria-hidden="true"></div>
</div>
<p id="scan-status" class="scan-status" role="status"></p>
</section>
<p id="trust-status" class="trust-status" data-state="loading" role="status">{say("js.trust.loading")}</p>
<section class="verify-other">
<h2>{say("other")}</h2>
<label for="verify-text">{say("paste_label")}</label>
<textarea id="verify-text" rows="4" spellcheck="false" autocomplete="off"></textarea>
<button type="button" id="verify-button" class="button">{say("verify")}</button>
<label for="verify-upload" class="upload-label">{say("upload_label")}</label>
<input type="file" id="verify-upload" accept="image/*">
</section>
<noscript><p class="verdict" data-status="invalid">{say("noscript")}</p></noscript>
</div>"""


#: the portal's frame around a page: (language, path, page, banner) → component tree
Frame = Callable[[Lang, str, Any, Any], Component]


@functools.cache
def page_html(lang: Lang, frame: Frame) -> str:
    """The whole page in `lang`: the portal's `frame` (header, navigation, language link,
    footer) around the verifier, its texts and settings, its three scripts (built once per
    process and language: nothing in it depends on the data)."""
    marker = "\x00page\x00"
    outside = prerender.to_html(frame(lang, PATH, marker, None))
    urls = _asset_urls()
    settings = {
        "trust": TRUST_PATH,
        "rules": urls[RULES_NAME],
        "worker": WORKER_PATH,
        "scope": PATH,
        "warnHours": TRUST_WARN_HOURS,
        "staleHours": TRUST_STALE_HOURS,
        "lang": lang,
    }
    texts = {key[3:]: t(key, lang) for key in TEXTS if key.startswith("js.")}
    scripts = "".join(
        f'<script src="{escape(urls[name])}" defer></script>'
        for name in ("jsqr.js", "verifier.js", "app.js")
    )
    title = escape(f"VaxViet — {t('title', lang)}")
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="theme-color" content="#0b4f6c"><title>{title}</title>'
        f"<style>{_style()}</style></head><body>"
        + outside.replace(escape(marker, quote=False), _body(lang), 1)
        + _json_script("verify-texts", texts)
        + _json_script("verify-settings", settings)
        + scripts
        + "</body></html>"
    )


@functools.cache
def worker_script() -> str:
    """The service worker, with this build's cache name and the files it keeps (read and
    filled once per process, like the scripts it names)."""
    urls = _asset_urls()
    version = hashlib.sha256("".join(sorted(urls.values())).encode()).hexdigest()[:16]
    keep = [PATH, layout.href(PATH, "en"), TRUST_PATH, *urls.values()]
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    return (
        source.replace("__VERSION__", json.dumps(version))
        .replace("__KEEP__", json.dumps(keep))
        .replace("__FRESH__", json.dumps([PATH, TRUST_PATH]))
        .replace("__NETWORK_WAIT_MS__", str(NETWORK_WAIT_MS))
    )


# -- routes ------------------------------------------------------------------------------------


def _page(frame: Frame) -> Callable[[], flask.Response]:
    def page() -> flask.Response:
        lang = layout.lang_from(flask.request.args)
        response = flask.Response(page_html(lang, frame), mimetype="text/html")
        response.headers["Cache-Control"] = REVALIDATE
        return response

    return page


def file(name: str) -> flask.Response:
    if name not in FILES and name != RULES_NAME:
        flask.abort(404)
    try:
        found = asset(name)
    except AssetMissingError as error:
        log.error("verifier page: %s", error)
        return flask.Response(str(error), status=503, mimetype="text/plain")
    response = flask.Response(found.body, mimetype=found.content_type)
    current = flask.request.args.get("v") == found.version
    response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
    return response


def worker() -> flask.Response:
    response = flask.Response(worker_script(), mimetype="application/javascript")
    response.headers["Cache-Control"] = REVALIDATE
    # the worker lives under /verify/ but controls /verify itself
    response.headers["Service-Worker-Allowed"] = PATH
    return response


def trust() -> flask.Response:
    from certificates.browser import trust_document
    from certificates.web import certificate_service

    document = trust_document(certificate_service().trust, dt.datetime.now(dt.UTC))
    response = flask.jsonify(document)
    response.headers["Cache-Control"] = REVALIDATE
    return response


def register(server: flask.Flask, frame: Frame) -> None:
    """The page (in the portal's `frame`) and its files on `server` (Flask prefers these
    rules to Dash's catch-all page route)."""
    server.add_url_rule(PATH, "verifier_page", _page(frame))
    server.add_url_rule(WORKER_PATH, "verifier_worker", worker)
    server.add_url_rule(TRUST_PATH, "verifier_trust", trust)
    server.add_url_rule(f"{PATH}/<name>", "verifier_file", file)
