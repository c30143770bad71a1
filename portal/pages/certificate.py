"""The citizen's own certificate: CCCD, full name, date of birth and phone → a one-time code
by SMS → the certificate card (colour, masked identity, doses, QR, PNG and PDF download).

The browser talks to the lookup API (``POST /api/v1/certificate/code`` and ``/confirm``,
`certificates.web`) directly, so the typed details and the card never pass through a Dash
callback, a URL or a cache: they travel in POST bodies of answers marked ``no-store``, and
the rate limits answer 429 with ``Retry-After``. The PDF comes from
``POST /api/v1/certificate/pdf`` with the certificate's HC1 text, kept only in the page's
memory (a ``dcc.Store``) between the card and the click. Every callback of the page runs in
the browser: the server sees only the API's requests.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from certificates import rules

dash.register_page(
    __name__,
    path="/certificate",
    title="VaxViet — giấy chứng nhận tiêm chủng / vaccination certificate",
    name="Certificate",
)

CCCD_ID = "certificate-cccd"
NAME_ID = "certificate-name"
DOB_ID = "certificate-dob"
PHONE_ID = "certificate-phone"
SEND_ID = "certificate-send"
REQUEST_ID = "certificate-request"
MESSAGE_ID = "certificate-message"
CODE_ID = "certificate-code"
CONFIRM_ID = "certificate-confirm"
CONFIRM_MESSAGE_ID = "certificate-confirm-message"
CARD_ID = "certificate-card"
STATUS_ID = "certificate-status"
HOLDER_ID = "certificate-holder"
DOSES_ID = "certificate-doses"
QR_ID = "certificate-qr"
DOWNLOAD_ID = "certificate-download"
HC1_ID = "certificate-hc1"
PDF_ID = "certificate-pdf"
PDF_MESSAGE_ID = "certificate-pdf-message"
FILING_ID = "certificate-filing"
REPORT_ID = "certificate-report"
KIND_ID = "report-kind"
MISSING_GROUP_ID = "report-missing"
NOT_MINE_GROUP_ID = "report-not-mine"
IDENTITY_GROUP_ID = "report-identity"
DAY_ID = "report-day"
SITE_ID = "report-site"
VACCINE_ID = "report-vaccine"
LOT_ID = "report-lot"
DOSE_ID = "report-dose"
NEW_NAME_ID = "report-name"
NEW_DOB_ID = "report-dob"
NEW_SEX_ID = "report-sex"
FILE_ID = "report-file"
FILED_ID = "report-filed"

FIELD_LABELS = {
    "citizen_id": "Số CCCD phải có 12 chữ số / The CCCD number has 12 digits",
    "full_name": "Hãy nhập họ tên / Enter the full name",
    "date_of_birth": "Ngày sinh không hợp lệ / Invalid date of birth",
    "phone": "Số điện thoại không hợp lệ / Invalid phone number",
}


#: what the page says to the API's answer to a code request (the script below picks one)
REQUEST_MESSAGES = {
    "sent": "Nếu thông tin khớp với hồ sơ, mã xác nhận đã được gửi tới điện thoại (hiệu lực 5 "
    "phút). / If the details match our records, a code was sent to the phone (valid 5 minutes).",
    "invalid": "Thông tin không hợp lệ / Invalid",
    "too_many": "Quá nhiều yêu cầu, thử lại sau {wait} giây / Too many requests, retry in {wait} s",
    "unavailable": "Dịch vụ tạm thời không khả dụng / The service is unavailable",
    "fields": FIELD_LABELS,
}

# The browser posts the form to the API and says what the answer means: a code request costs
# the server that one request (no Dash callback), so the lookup holds its rate beside a crowd.
dash.clientside_callback(
    """
    async function(clicks, cccd, name, dob, phone) {
        const none = window.dash_clientside.no_update;
        if (!clicks) { return [none, none, none]; }
        const said = MESSAGES;
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/code', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({citizen_id: cccd || '', full_name: name || '',
                                      date_of_birth: dob || '', phone: phone || ''})
            });
        } catch (e) {
            return [null, said.unavailable, true];
        }
        let body = {};
        try { body = await answer.json(); } catch (e) {}
        if (answer.status === 202) {
            return [{request: body.request || null, at: Date.now()}, said.sent, false];
        }
        if (answer.status === 400) {
            return [null, said.fields[body.field] || said.invalid, true];
        }
        if (answer.status === 429) {
            const wait = answer.headers.get('Retry-After') || '?';
            return [null, said.too_many.split('{wait}').join(wait), true];
        }
        return [null, said.unavailable, true];
    }
    """.replace("MESSAGES", json.dumps(REQUEST_MESSAGES, ensure_ascii=False)),
    Output(REQUEST_ID, "data"),
    Output(MESSAGE_ID, "children"),
    Output(CONFIRM_ID, "disabled"),
    Input(SEND_ID, "n_clicks"),
    State(CCCD_ID, "value"),
    State(NAME_ID, "value"),
    State(DOB_ID, "value"),
    State(PHONE_ID, "value"),
    prevent_initial_call=True,
)


# The card is drawn in the browser from the API's answer: it never comes back to Python.
dash.clientside_callback(
    """
    async function(clicks, state, code) {
        const none = window.dash_clientside.no_update;
        if (!clicks || !state || !state.request) { return [none, none, none, none, none, none, none, none, none, none]; }
        const answer = await fetch('/api/v1/certificate/confirm', {
            method: 'POST', credentials: 'same-origin', cache: 'no-store',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({request: state.request, code: code || ''})
        });
        if (answer.status !== 200) {
            const text = answer.status === 429
                ? 'Quá nhiều lần thử, thử lại sau / Too many attempts, retry in ' + (answer.headers.get('Retry-After') || '?') + ' s'
                : 'Mã không đúng hoặc đã hết hạn / The code is wrong or has expired';
            return [text, {display: 'none'}, none, none, none, none, none, none, null, null];
        }
        const card = await answer.json();
        const cell = (text) => ({type: 'Td', namespace: 'dash_html_components', props: {children: String(text)}});
        const rows = card.doses.map((d, i) => ({type: 'Tr', namespace: 'dash_html_components',
            props: {children: [cell(i + 1), cell(d.date), cell(d.product), cell(d.lot), cell(d.province)]}}));
        const status = card.status === 'green'
            ? 'Xanh — đã tiêm đủ liều cơ bản / Green — primary series complete'
              + (card.boosters ? ' (+' + card.boosters + ' mũi nhắc / boosters)' : '')
            : 'Vàng — đã bắt đầu tiêm / Yellow — primary series started';
        const png = 'data:image/png;base64,' + card.png;
        return ['', {display: 'block'}, 'certificate-card certificate-' + card.status, status,
                card.name + ' — ' + card.birth_year, rows, png, png, card.hc1,
                {filing: card.filing, doses: card.doses}];
    }
    """,
    Output(CONFIRM_MESSAGE_ID, "children"),
    Output(CARD_ID, "style"),
    Output(CARD_ID, "className"),
    Output(STATUS_ID, "children"),
    Output(HOLDER_ID, "children"),
    Output(DOSES_ID, "children"),
    Output(QR_ID, "src"),
    Output(DOWNLOAD_ID, "href"),
    Output(HC1_ID, "data"),
    Output(FILING_ID, "data"),
    Input(CONFIRM_ID, "n_clicks"),
    State(REQUEST_ID, "data"),
    State(CODE_ID, "value"),
    prevent_initial_call=True,
)


# The PDF is fetched with the certificate's own text and saved from a blob: nothing personal
# goes into a URL (the object URL is local to the page and revoked at once).
dash.clientside_callback(
    """
    async function(clicks, hc1) {
        if (!clicks || !hc1) { return window.dash_clientside.no_update; }
        const answer = await fetch('/api/v1/certificate/pdf', {
            method: 'POST', credentials: 'same-origin', cache: 'no-store',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({hc1: hc1})
        });
        if (answer.status !== 200) {
            return answer.status === 429
                ? 'Quá nhiều lần tải, thử lại sau / Too many downloads, retry in ' + (answer.headers.get('Retry-After') || '?') + ' s'
                : 'Không tạo được PDF / The PDF could not be made (' + answer.status + ')';
        }
        const link = document.createElement('a');
        link.href = URL.createObjectURL(await answer.blob());
        link.download = 'vaxviet-certificate.pdf';
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
        return 'PDF đã tải / PDF downloaded';
    }
    """,
    Output(PDF_MESSAGE_ID, "children"),
    Input(PDF_ID, "n_clicks"),
    State(HC1_ID, "data"),
    prevent_initial_call=True,
)


# "Report a problem": the kind chosen shows its fields; the doses to choose from are the
# card's own (in the page's memory, like the card)
dash.clientside_callback(
    """
    function(kind, filing) {
        const show = (k) => ({display: kind === k ? 'block' : 'none'});
        const doses = (filing && filing.doses) || [];
        const options = doses.map((d, i) => ({label: (i + 1) + ' — ' + d.date + ' — ' + d.product,
                                              value: d.id}));
        return [show('missing_dose'), show('not_mine'), show('identity'), options];
    }
    """,
    Output(MISSING_GROUP_ID, "style"),
    Output(NOT_MINE_GROUP_ID, "style"),
    Output(IDENTITY_GROUP_ID, "style"),
    Output(DOSE_ID, "options"),
    Input(KIND_ID, "value"),
    Input(FILING_ID, "data"),
)


# Filing goes to the API from the browser (POST body, no-store), like the lookup itself; the
# reference is shown once here and sent by SMS to the phone on record
dash.clientside_callback(
    """
    async function(clicks, filing, cccd, kind, day, site, vaccine, lot, dose, name, dob, sex) {
        if (!clicks) { return window.dash_clientside.no_update; }
        if (!filing || !filing.filing) {
            return 'Hãy tra cứu giấy chứng nhận trước / Look your certificate up first';
        }
        const claims = {
            missing_dose: {day: day || '', site_id: site || '', vaccine_code: vaccine || '',
                           lot_number: lot || ''},
            not_mine: {dose_id: dose || ''},
            identity: {full_name: name || '', date_of_birth: dob || '', sex: sex || ''},
        };
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/corrections', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({filing: filing.filing, citizen_id: cccd || '',
                                      kind: kind || '', claim: claims[kind] || {}})
            });
        } catch (e) {
            return 'Dịch vụ tạm thời không khả dụng / The service is unavailable';
        }
        let body = {};
        try { body = await answer.json(); } catch (e) {}
        if (answer.status === 201) {
            return 'Đã nhận yêu cầu. Mã yêu cầu / Request received. Reference: ' + body.reference
                + ' — hãy ghi lại; mã cũng được gửi qua SMS. Theo dõi tại /certificate/request. '
                + '/ Keep it; it was also sent by SMS. Follow it at /certificate/request.';
        }
        if (answer.status === 429) {
            return 'Quá nhiều yêu cầu, thử lại sau / Too many requests, retry in '
                + (answer.headers.get('Retry-After') || '?') + ' s';
        }
        return body.message || ('Không gửi được / Could not be filed (' + answer.status + ')');
    }
    """,
    Output(FILED_ID, "children"),
    Input(FILE_ID, "n_clicks"),
    State(FILING_ID, "data"),
    State(CCCD_ID, "value"),
    State(KIND_ID, "value"),
    State(DAY_ID, "value"),
    State(SITE_ID, "value"),
    State(VACCINE_ID, "value"),
    State(LOT_ID, "value"),
    State(DOSE_ID, "value"),
    State(NEW_NAME_ID, "value"),
    State(NEW_DOB_ID, "value"),
    State(NEW_SEX_ID, "value"),
    prevent_initial_call=True,
)


def _report() -> html.Details:
    """The card's "Report a problem" form (its fields per kind)."""
    products = sorted(rules.products().values(), key=lambda p: p.display)
    return html.Details(
        [
            html.Summary("Báo sai sót trong hồ sơ / Report a problem with your record"),
            dcc.RadioItems(
                id=KIND_ID,
                options=[
                    {"label": "Thiếu một mũi tiêm / A dose is missing", "value": "missing_dose"},
                    {"label": "Có mũi tiêm không phải của tôi / A dose is not mine",
                     "value": "not_mine"},
                    {"label": "Sai họ tên, ngày sinh hoặc giới tính / Wrong name, date of birth "
                     "or sex", "value": "identity"},
                ],
                value="missing_dose",
                className="radio",
                inputClassName="radio-input",
            ),
            html.Div(
                [
                    _field("Ngày tiêm (năm-tháng-ngày) / Day of the dose (year-month-day)",
                           dcc.Input(id=DAY_ID, type="text", placeholder="YYYY-MM-DD")),
                    _field("Mã điểm tiêm (trên phiếu tiêm) / Site code (on your vaccination slip)",
                           dcc.Input(id=SITE_ID, type="text", autoComplete="off")),
                    _field("Vắc xin / Vaccine", dcc.Dropdown(
                        id=VACCINE_ID,
                        options=[{"label": p.display, "value": p.code} for p in products],
                    )),
                    _field("Số lô (nếu biết) / Lot number (if known)",
                           dcc.Input(id=LOT_ID, type="text", autoComplete="off")),
                ],
                id=MISSING_GROUP_ID,
            ),
            html.Div(
                _field("Mũi tiêm không phải của tôi / The dose that is not mine",
                       dcc.Dropdown(id=DOSE_ID, options=[])),
                id=NOT_MINE_GROUP_ID,
                style={"display": "none"},
            ),
            html.Div(
                [
                    _field("Họ và tên đúng / Correct full name",
                           dcc.Input(id=NEW_NAME_ID, type="text", autoComplete="off")),
                    _field("Ngày sinh đúng (năm-tháng-ngày) / Correct date of birth",
                           dcc.Input(id=NEW_DOB_ID, type="text", placeholder="YYYY-MM-DD")),
                    _field("Giới tính đúng / Correct sex", dcc.Dropdown(
                        id=NEW_SEX_ID,
                        options=[{"label": "Nam / Male", "value": "M"},
                                 {"label": "Nữ / Female", "value": "F"},
                                 {"label": "Khác / Other", "value": "O"}],
                    )),
                ],
                id=IDENTITY_GROUP_ID,
                style={"display": "none"},
            ),
            html.Button("Gửi yêu cầu / File the request", id=FILE_ID, n_clicks=0),
            html.P(id=FILED_ID, role="status"),
            dcc.Store(id=FILING_ID, storage_type="memory"),
        ],
        id=REPORT_ID,
        className="report",
    )  # fmt: skip


def _field(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component.id), component], className="field")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Giấy chứng nhận tiêm chủng / Vaccination certificate"),
            html.P(
                "Nhập thông tin như trong hồ sơ tiêm chủng. Mã xác nhận sẽ gửi tới số điện "
                "thoại đã đăng ký. / Enter your details as recorded; a one-time code goes to "
                "the phone on record."
            ),
            _field(
                "Số CCCD / Citizen ID (CCCD)",
                dcc.Input(id=CCCD_ID, type="text", inputMode="numeric", autoComplete="off"),
            ),
            _field("Họ và tên / Full name", dcc.Input(id=NAME_ID, type="text", autoComplete="off")),
            _field(
                "Ngày sinh (năm-tháng-ngày) / Date of birth (year-month-day)",
                dcc.Input(id=DOB_ID, type="text", placeholder="YYYY-MM-DD", autoComplete="off"),
            ),
            _field(
                "Số điện thoại / Phone",
                dcc.Input(id=PHONE_ID, type="tel", autoComplete="off"),
            ),
            html.Button("Gửi mã / Send code", id=SEND_ID, n_clicks=0),
            dcc.Store(id=REQUEST_ID, storage_type="memory"),
            html.P(id=MESSAGE_ID, role="status"),
            _field(
                "Mã xác nhận / One-time code",
                dcc.Input(
                    id=CODE_ID, type="text", inputMode="numeric", autoComplete="one-time-code"
                ),
            ),
            html.Button("Xem giấy chứng nhận / Show certificate", id=CONFIRM_ID, disabled=True),
            html.P(id=CONFIRM_MESSAGE_ID, role="alert"),
            html.Section(
                [
                    html.H2(id=STATUS_ID),
                    html.P(id=HOLDER_ID),
                    html.Table(
                        [
                            html.Thead(
                                html.Tr(
                                    [
                                        html.Th("#"),
                                        html.Th("Ngày / Date"),
                                        html.Th("Vắc xin / Vaccine"),
                                        html.Th("Lô / Lot"),
                                        html.Th("Tỉnh / Province"),
                                    ]
                                )
                            ),
                            html.Tbody(id=DOSES_ID),
                        ]
                    ),
                    html.Img(id=QR_ID, alt="QR", style={"maxWidth": "100%"}),
                    html.A(
                        "Tải PNG / Download PNG",
                        id=DOWNLOAD_ID,
                        download="vaxviet-certificate.png",
                    ),
                    html.Button("Tải PDF / Download PDF", id=PDF_ID, n_clicks=0),
                    dcc.Store(id=HC1_ID, storage_type="memory"),
                    html.P(id=PDF_MESSAGE_ID, role="status"),
                    _report(),
                ],
                id=CARD_ID,
                style={"display": "none"},
            ),
        ],
        className="page-certificate",
    )
