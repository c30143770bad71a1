"""A citizen follows their correction request: the reference → a one-time code to the phone
on record → the request's state (received, approved, or rejected with the reason).

Like the lookup (:mod:`portal.pages.certificate`), every callback runs in the browser and
talks to the API (``/api/v1/certificate/request/…``, `certificates.requests`) in POST
bodies: the reference and the code never pass through a Dash callback, a URL or a cache.
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output, State, dcc, html

from web.layout import attrs

dash.register_page(
    __name__,
    path="/certificate/request",
    title="VaxViet — theo dõi yêu cầu sửa thông tin / follow a correction request",
    name="Correction request",
)

REFERENCE_ID = "track-reference"
SEND_ID = "track-send"
CHALLENGE_ID = "track-challenge"
MESSAGE_ID = "track-message"
CODE_ID = "track-code"
SHOW_ID = "track-show"
RESULT_ID = "track-result"

WORDS = {
    "sent": "Nếu mã yêu cầu đúng, mã xác nhận đã được gửi tới số điện thoại trong hồ sơ (hiệu "
    "lực 5 phút). / If the reference is right, a code was sent to the phone on record "
    "(valid 5 minutes).",
    "unavailable": "Dịch vụ tạm thời không khả dụng / The service is unavailable",
    "too_many": "Quá nhiều yêu cầu, thử lại sau {wait} giây / Too many requests, retry in {wait} s",
    "rejected_code": "Mã không đúng hoặc đã hết hạn / The code is wrong or has expired",
    "kind": {
        "missing_dose": "Thiếu mũi tiêm / A missing dose",
        "not_mine": "Mũi tiêm không phải của tôi / A dose that is not mine",
        "identity": "Sửa họ tên, ngày sinh, giới tính / Name, date of birth or sex",
    },
    "status": {
        "open": "Đang chờ xử lý / Waiting to be handled",
        "approved": "Đã chấp thuận: hồ sơ đã được sửa / Approved: the record is corrected",
        "rejected": "Bị từ chối / Rejected",
    },
    "filed": "Ngày gửi / Filed on",
    "resolved": "Ngày xử lý / Resolved on",
    "reason": "Lý do / Reason",
}

dash.clientside_callback(
    """
    async function(clicks, reference) {
        if (!clicks) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        const said = WORDS;
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
    """.replace("WORDS", json.dumps(WORDS, ensure_ascii=False)),
    Output(CHALLENGE_ID, "data"),
    Output(MESSAGE_ID, "children"),
    Input(SEND_ID, "n_clicks"),
    State(REFERENCE_ID, "value"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    """
    async function(clicks, token, code) {
        if (!clicks) { return window.dash_clientside.no_update; }
        const said = WORDS;
        if (!token) { return said.rejected_code; }
        const answer = await fetch('/api/v1/certificate/request/status', {
            method: 'POST', credentials: 'same-origin', cache: 'no-store',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({request: token, code: code || ''})
        });
        if (answer.status !== 200) { return said.rejected_code; }
        const r = await answer.json();
        const line = (text) => ({type: 'P', namespace: 'dash_html_components', props: {children: text}});
        const lines = [
            {type: 'H2', namespace: 'dash_html_components',
             props: {children: said.status[r.status] || r.status, id: 'track-status'}},
            line(r.reference + ' — ' + (said.kind[r.kind] || r.kind)),
            line(said.filed + ': ' + r.filed_on),
        ];
        if (r.resolved_on) { lines.push(line(said.resolved + ': ' + r.resolved_on)); }
        if (r.reason) {
            lines.push({type: 'P', namespace: 'dash_html_components',
                        props: {children: said.reason + ': ' + r.reason, id: 'track-reason'}});
        }
        return lines;
    }
    """.replace("WORDS", json.dumps(WORDS, ensure_ascii=False)),
    Output(RESULT_ID, "children"),
    Input(SHOW_ID, "n_clicks"),
    State(CHALLENGE_ID, "data"),
    State(CODE_ID, "value"),
    prevent_initial_call=True,
)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Theo dõi yêu cầu sửa thông tin / Follow a correction request"),
            html.P(
                "Nhập mã yêu cầu (VX-…) đã nhận khi gửi. Mã xác nhận sẽ gửi tới số điện thoại "
                "trong hồ sơ. / Enter the reference (VX-…) you were given; a one-time code goes "
                "to the phone on record."
            ),
            html.Div(
                [
                    html.Label("Mã yêu cầu / Reference", htmlFor=REFERENCE_ID),
                    dcc.Input(id=REFERENCE_ID, type="text", autoComplete="off"),
                ],
                className="field",
            ),
            html.Button("Gửi mã / Send code", id=SEND_ID, n_clicks=0),
            dcc.Store(id=CHALLENGE_ID, storage_type="memory"),
            html.P(id=MESSAGE_ID, role="status"),
            html.Div(
                [
                    html.Label("Mã xác nhận / One-time code", htmlFor=CODE_ID),
                    dcc.Input(
                        id=CODE_ID, type="text", inputMode="numeric", autoComplete="one-time-code"
                    ),
                ],
                className="field",
            ),
            html.Button("Xem / Show", id=SHOW_ID, n_clicks=0),
            html.Div(id=RESULT_ID, role="status", **attrs(aria_live="polite")),
        ],
        className="page-certificate-request",
    )
