"""Verify a certificate QR: paste its text or upload a photo or PNG (decoded on the server
with zxing-cpp). Shows valid green / valid yellow / invalid with the failing step, and of
the holder only the name and date of birth. Nothing is stored; the answer is not cached.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from certificates.trust import TrustList
from certificates.verify import Verification, verify_image, verify_text

dash.register_page(
    __name__, path="/verify", title="VaxViet — kiểm tra giấy chứng nhận / verify", name="Verify"
)

TEXT_ID = "verify-text"
UPLOAD_ID = "verify-upload"
BUTTON_ID = "verify-button"
RESULT_ID = "verify-result"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

STAGE_LABELS = {
    "qr": "đọc mã QR / reading the QR code",
    "prefix": "tiền tố HC1: / the HC1: prefix",
    "base45": "mã base45 / base45 text",
    "zlib": "giải nén / decompression",
    "cose": "cấu trúc COSE / COSE structure",
    "cbor": "nội dung CWT / CWT content",
    "signature": "chữ ký / signature",
    "key_usage": "quyền ký của khóa / signing key's usage",
    "expiry": "thời hạn / validity period",
    "schema": "định dạng dữ liệu / data format",
}


def result_view(result: Verification) -> html.Div:
    """The verdict (pure: testable without a server)."""
    if not result.valid:
        failed = result.failed_stage or "prefix"
        return html.Div(
            [
                html.H2("Không hợp lệ / Invalid"),
                html.P(f"Bước không đạt / Failed step: {STAGE_LABELS[failed]}"),
            ],
            className="verdict verdict-invalid",
            role="alert",
        )
    payload = result.payload or {}
    progress = result.progress
    colour = progress.status if progress else "none"
    title = {
        "green": "Hợp lệ — Xanh / Valid — green",
        "yellow": "Hợp lệ — Vàng / Valid — yellow",
    }.get(colour, "Hợp lệ / Valid")
    name = payload.get("nam", {})
    holder = " ".join(str(part) for part in (name.get("fn"), name.get("gn")) if part)
    return html.Div(
        [
            html.H2(title),
            html.Dl(
                [
                    html.Dt("Họ tên / Name"),
                    html.Dd(holder or str(name.get("fnt", "")), id="verify-name"),
                    html.Dt("Ngày sinh / Date of birth"),
                    html.Dd(str(payload.get("dob", "")), id="verify-dob"),
                ]
            ),
        ],
        className=f"verdict verdict-{colour}",
        role="status",
    )


def check(text: str | None, upload: str | None, trust: TrustList, now: dt.datetime) -> Any:
    """Verify pasted text or an uploaded image (a data URL from dcc.Upload)."""
    if upload:
        try:
            image = base64.b64decode(upload.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            image = b""
        if len(image) > MAX_UPLOAD_BYTES:
            return html.P("Tệp quá lớn / File too large (max 5 MB)", role="alert")
        return result_view(verify_image(image, trust, now))
    if text and text.strip():
        return result_view(verify_text(text.strip(), trust, now))
    return html.P("Dán mã hoặc tải ảnh lên / Paste the code or upload an image")


@dash.callback(
    Output(RESULT_ID, "children"),
    Input(BUTTON_ID, "n_clicks"),
    Input(UPLOAD_ID, "contents"),
    State(TEXT_ID, "value"),
    prevent_initial_call=True,
)
def on_verify(_clicks: int | None, upload: str | None, text: str | None) -> Any:
    from certificates.web import NO_STORE, certificate_service

    dash.callback_context.response.set_header("Cache-Control", NO_STORE)
    trigger = dash.callback_context.triggered_id
    return check(
        text if trigger == BUTTON_ID else None,
        upload if trigger == UPLOAD_ID else None,
        certificate_service().trust,
        dt.datetime.now(dt.UTC),
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Kiểm tra giấy chứng nhận tiêm chủng / Verify a vaccination certificate"),
            html.Label("Nội dung mã QR (HC1:…) / QR text (HC1:…)", htmlFor=TEXT_ID),
            dcc.Textarea(id=TEXT_ID, style={"width": "100%", "height": "6em"}, spellCheck=False),
            html.Button("Kiểm tra / Verify", id=BUTTON_ID, n_clicks=0),
            html.P("hoặc / or"),
            dcc.Upload(
                html.Div("Tải ảnh hoặc PNG mã QR lên / Upload a photo or PNG of the QR code"),
                id=UPLOAD_ID,
                accept="image/*",
                max_size=MAX_UPLOAD_BYTES,
                className="upload",
            ),
            html.Div(id=RESULT_ID, role="status"),
        ],
        className="page-verify",
    )
