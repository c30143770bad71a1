"""A citizen follows their correction request: the reference → a one-time code to the phone
on record → the request's state (received, approved, or rejected with the reason).

Like the lookup (:mod:`portal.pages.certificate`), every callback runs in the browser and
talks to the API (``/api/v1/certificate/request/…``, `certificates.requests`) in POST
bodies: the reference and the code never pass through a Dash callback, a URL or a cache.
One language at a time, the page's (``?lang=en``, else Vietnamese): its scripts hold both
languages' texts (`WORDS`) and take the language from a store (`LANG_ID`).
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output, State, dcc, html

from portal.layout import lang_from
from web.formatting import Lang, pick
from web.layout import attrs

dash.register_page(
    __name__,
    path="/certificate/request",
    title="VaxViet — theo dõi yêu cầu sửa thông tin / follow a correction request",
    name="Correction request",
)

LANG_ID = "track-lang"
REFERENCE_ID = "track-reference"
SEND_ID = "track-send"
CHALLENGE_ID = "track-challenge"
MESSAGE_ID = "track-message"
CODE_ID = "track-code"
SHOW_ID = "track-show"
RESULT_ID = "track-result"

#: the page's texts, (Vietnamese, English); "said.…" are its scripts'
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Theo dõi yêu cầu sửa thông tin", "Follow a correction request"),
    "intro": (
        "Nhập mã yêu cầu (VX-…) đã nhận khi gửi. Mã xác nhận sẽ gửi tới số điện thoại trong hồ sơ.",
        "Enter the reference (VX-…) you were given; a one-time code goes to the phone on record.",
    ),
    "reference": ("Mã yêu cầu", "Reference"),
    "send": ("Gửi mã", "Send code"),
    "code": ("Mã xác nhận", "One-time code"),
    "show": ("Xem", "Show"),
    "said.sent": (
        "Nếu mã yêu cầu đúng, mã xác nhận đã được gửi tới số điện thoại trong hồ sơ (hiệu lực "
        "5 phút).",
        "If the reference is right, a code was sent to the phone on record (valid 5 minutes).",
    ),
    "said.unavailable": ("Dịch vụ tạm thời không khả dụng", "The service is unavailable"),
    "said.too_many": (
        "Quá nhiều yêu cầu, thử lại sau {wait} giây",
        "Too many requests, retry in {wait} s",
    ),
    "said.rejected_code": ("Mã không đúng hoặc đã hết hạn", "The code is wrong or has expired"),
    "said.kind.missing_dose": ("Thiếu mũi tiêm", "A missing dose"),
    "said.kind.not_mine": ("Mũi tiêm không phải của tôi", "A dose that is not mine"),
    "said.kind.identity": ("Sửa họ tên, ngày sinh, giới tính", "Name, date of birth or sex"),
    "said.status.open": ("Đang chờ xử lý", "Waiting to be handled"),
    "said.status.approved": (
        "Đã chấp thuận: hồ sơ đã được sửa",
        "Approved: the record is corrected",
    ),
    "said.status.rejected": ("Bị từ chối", "Rejected"),
    "said.filed": ("Ngày gửi", "Filed on"),
    "said.resolved": ("Ngày xử lý", "Resolved on"),
    "said.reason": ("Lý do", "Reason"),
}


def _said() -> str:
    """What the scripts say, {vi: {…}, en: {…}} (keys without "said.")."""
    return json.dumps(
        {
            lang: {
                k.removeprefix("said."): pick(v, lang)
                for k, v in WORDS.items()
                if k.startswith("said.")
            }
            for lang in ("vi", "en")
        },
        ensure_ascii=False,
    )


dash.clientside_callback(
    """
    async function(clicks, reference, lang) {
        if (!clicks) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        const said = WORDS[lang] || WORDS.vi;
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/request/code', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({reference: reference || ''})
            });
        } catch (e) { return [null, said.unavailable]; }
        let body = {};
        try { body = await answer.json(); } catch (e) {}
        if (answer.status === 202) { return [body.request || null, said.sent]; }
        if (answer.status === 429) {
            return [null, said.too_many.split('{wait}').join(answer.headers.get('Retry-After') || '?')];
        }
        return [null, said.unavailable];
    }
    """.replace("WORDS", _said()),
    Output(CHALLENGE_ID, "data"),
    Output(MESSAGE_ID, "children"),
    Input(SEND_ID, "n_clicks"),
    State(REFERENCE_ID, "value"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    """
    async function(clicks, token, code, lang) {
        if (!clicks) { return window.dash_clientside.no_update; }
        const said = WORDS[lang] || WORDS.vi;
        if (!token) { return said.rejected_code; }
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/request/status', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({request: token, code: code || ''})
            });
        } catch (e) { return said.unavailable; }
        if (answer.status !== 200) { return said.rejected_code; }
        const r = await answer.json();
        const line = (text) => ({type: 'P', namespace: 'dash_html_components', props: {children: text}});
        const lines = [
            {type: 'H2', namespace: 'dash_html_components',
             props: {children: said['status.' + r.status] || r.status, id: 'track-status'}},
            line(r.reference + ' — ' + (said['kind.' + r.kind] || r.kind)),
            line(said.filed + ': ' + r.filed_on),
        ];
        if (r.resolved_on) { lines.push(line(said.resolved + ': ' + r.resolved_on)); }
        if (r.reason) {
            lines.push({type: 'P', namespace: 'dash_html_components',
                        props: {children: said.reason + ': ' + r.reason, id: 'track-reason'}});
        }
        return lines;
    }
    """.replace("WORDS", _said()),
    Output(RESULT_ID, "children"),
    Input(SHOW_ID, "n_clicks"),
    State(CHALLENGE_ID, "data"),
    State(CODE_ID, "value"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)


def layout(**query: str) -> html.Div:
    lang: Lang = lang_from(query)

    def say(key: str) -> str:
        return pick(WORDS[key], lang)

    return html.Div(
        [
            dcc.Store(id=LANG_ID, data=lang),
            html.H1(say("title")),
            html.P(say("intro")),
            html.Div(
                [
                    html.Label(say("reference"), htmlFor=REFERENCE_ID),
                    dcc.Input(id=REFERENCE_ID, type="text", autoComplete="off"),
                ],
                className="field",
            ),
            html.Button(say("send"), id=SEND_ID, n_clicks=0),
            dcc.Store(id=CHALLENGE_ID, storage_type="memory"),
            html.P(id=MESSAGE_ID, role="status"),
            html.Div(
                [
                    html.Label(say("code"), htmlFor=CODE_ID),
                    dcc.Input(
                        id=CODE_ID, type="text", inputMode="numeric", autoComplete="one-time-code"
                    ),
                ],
                className="field",
            ),
            html.Button(say("show"), id=SHOW_ID, n_clicks=0),
            html.Div(id=RESULT_ID, role="status", **attrs(aria_live="polite")),
        ],
        className="page-certificate-request",
        lang=lang,
    )
