"""The citizen's own certificate: CCCD, full name, date of birth and phone → a one-time code
by SMS → the certificate card (colour, masked identity, doses, QR, PNG and PDF download).

The browser talks to the lookup API (``POST /api/v1/certificate/code`` and ``/confirm``,
`certificates.web`) directly, so the typed details and the card never pass through a Dash
callback, a URL or a cache: they travel in POST bodies of answers marked ``no-store``, and
the rate limits answer 429 with ``Retry-After``. The PDF comes from
``POST /api/v1/certificate/pdf`` with the certificate's HC1 text (and the lookup's seal over
its doses), kept only in the page's memory (a ``dcc.Store``) between the card and the click.
Every callback of the page runs in the browser: the server sees only the API's requests.

**The card** is designed for a 390-px phone: a rounded card whose band has the status's colour
(`certificates.card.COLOURS`), the status also in words and a shape of its own (✓ in a disc,
a half-filled disc), boosters as a badge on the green band, the masked name and birth year,
the QR at least 280 px wide, the doses as a list, "valid until". The PNG download is the same
card drawn on the server (`certificates.card`, ``/api/v1/certificate/pdf`` with ``format:
"png"``), and the PDF's page centres it on A4.

**One language at a time**: the page reads ``?lang=en`` (Vietnamese otherwise) and writes every
text in that language; the page's scripts, global to the app, take the language from a
``dcc.Store`` (`LANG_ID`) and hold both languages' texts (`portal.i18n` keys
"certificate.say.…", `certificates.card.WORDS`).
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from certificates import card, rules
from portal.i18n import TEXTS, text
from portal.layout import href, lang_from
from web.formatting import Lang, pick

dash.register_page(
    __name__,
    path="/certificate",
    title="VaxViet — giấy chứng nhận tiêm chủng / vaccination certificate",
    name="Certificate",
)

LANG_ID = "certificate-lang"
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
RESULT_ID = "certificate-result"
CARD_ID = "certificate-card"
STATUS_ID = "certificate-status"
BOOSTERS_ID = "certificate-boosters"
HOLDER_ID = "certificate-holder"
BORN_ID = "certificate-born"
DOSES_ID = "certificate-doses"
QR_ID = "certificate-qr"
VALID_ID = "certificate-valid"
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

#: the page's own texts are `portal.i18n` keys "certificate.…"; what its scripts say,
#: "certificate.say.…" (both languages embedded in the scripts)
SAYS = "certificate.say."
LANGS: tuple[Lang, ...] = ("vi", "en")


def _messages() -> str:
    """What the scripts say, both languages, as a JSON object {vi: {…}, en: {…}}."""
    keys = [key for key in TEXTS if key.startswith(SAYS)]
    return json.dumps(
        {lang: {k.removeprefix(SAYS): pick(TEXTS[k], lang) for k in keys} for lang in LANGS},
        ensure_ascii=False,
    )


def _card_words() -> str:
    return json.dumps({lang: card.words_of(lang) for lang in LANGS}, ensure_ascii=False)


#: a script's helpers: `fill('… {wait} …', {wait: 5})`, and one language of a server message
#: written "Vietnamese / English"
HELPERS = """
        const fill = (text, values) => Object.keys(values).reduce(
            (done, key) => done.split('{' + key + '}').join(String(values[key])), text);
        const half = (text, lang) => {
            const parts = String(text || '').split(' / ');
            return parts.length > 1 ? (lang === 'en' ? parts.slice(1).join(' / ') : parts[0])
                                    : String(text || '');
        };
"""

# The browser posts the form to the API and says what the answer means: a code request costs
# the server that one request (no Dash callback), so the lookup holds its rate beside a crowd.
dash.clientside_callback(
    """
    async function(clicks, cccd, name, dob, phone, lang) {
        const none = window.dash_clientside.no_update;
        if (!clicks) { return [none, none, none]; }
        HELPERS
        const said = MESSAGES[lang] || MESSAGES.vi;
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
            return [null, said['field.' + body.field] || said.invalid, true];
        }
        if (answer.status === 429) {
            return [null, fill(said.too_many, {wait: answer.headers.get('Retry-After') || '?'}), true];
        }
        return [null, said.unavailable, true];
    }
    """.replace("HELPERS", HELPERS).replace("MESSAGES", _messages()),
    Output(REQUEST_ID, "data"),
    Output(MESSAGE_ID, "children"),
    Output(CONFIRM_ID, "disabled"),
    Input(SEND_ID, "n_clicks"),
    State(CCCD_ID, "value"),
    State(NAME_ID, "value"),
    State(DOB_ID, "value"),
    State(PHONE_ID, "value"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)


# The card is drawn in the browser from the API's answer: it never comes back to Python.
dash.clientside_callback(
    """
    async function(clicks, state, code, lang) {
        const none = window.dash_clientside.no_update;
        if (!clicks || !state || !state.request) { return Array(14).fill(none); }
        HELPERS
        const said = MESSAGES[lang] || MESSAGES.vi;
        const words = WORDS[lang] || WORDS.vi;
        const hidden = {display: 'none'};
        const failed = (text) => [text, hidden, none, none, none, none, none, none, none, none,
                                  none, null, null, none];
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/confirm', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({request: state.request, code: code || '', lang: lang || 'vi'})
            });
        } catch (e) {
            return failed(said.unavailable);
        }
        if (answer.status !== 200) {
            const wait = answer.headers.get('Retry-After') || '?';
            return failed(answer.status === 429 ? fill(said.attempts, {wait: wait})
                          : answer.status === 404 ? said.no_certificate
                          : answer.status === 503 ? said.unavailable : said.rejected);
        }
        const card = await answer.json();
        const node = (type, props) => ({type: type, namespace: 'dash_html_components', props: props});
        const green = card.status === 'green';
        const status = [
            node('Span', {children: green ? '✓' : '◐', className: 'cert-icon', 'aria-hidden': 'true'}),
            node('Span', {children: words[green ? 'green' : 'yellow'], className: 'cert-colour'}),
            node('Span', {className: 'cert-meaning', children: green ? words.green_meaning
                : fill(words.yellow_meaning, {n: card.doses.length, of: card.series})}),
        ];
        const boosters = green && card.boosters
            ? fill(words[card.boosters === 1 ? 'booster' : 'boosters'], {n: card.boosters}) : '';
        const doses = card.doses.map((d, i) => node('Li', {children: [
            node('Span', {children: fill(words.dose, {n: i + 1}), className: 'cert-dose-n'}),
            node('Span', {className: 'cert-dose-facts', children: [
                node('Span', {children: d.date, className: 'cert-dose-date'}),
                node('Span', {children: d.product, className: 'cert-dose-product'}),
                node('Span', {className: 'cert-dose-detail',
                              children: [d.lot ? fill(words.lot, {lot: d.lot}) : '', d.province]
                                        .filter(Boolean).join(' · ')}),
            ]}),
        ]}));
        const qr = 'data:image/png;base64,' + card.png;
        // the QR as large as the card allows (≥ 280 px on a 390-px phone) at a whole number
        // of screen pixels per module, so it stays crisp: its PNG has 4 px a module (quiet
        // zone included), its width is in the PNG's header
        const head = atob(card.png.slice(0, 32));
        const modules = ((head.charCodeAt(16) << 24) | (head.charCodeAt(17) << 16)
                         | (head.charCodeAt(18) << 8) | head.charCodeAt(19)) / 4;
        const room = Math.min(330, document.documentElement.clientWidth - 60);
        const ratio = window.devicePixelRatio || 1;
        let side = Math.floor(room * ratio / modules) * modules / ratio;
        if (!(side >= 280)) { side = room; }
        return ['', {display: 'block'}, 'certificate-card certificate-' + card.status, status,
                boosters ? {} : hidden, boosters, card.name,
                fill(words.born, {year: card.birth_year}), doses, qr,
                {width: side + 'px'},
                {hc1: card.hc1, seal: card.seal || ''}, {filing: card.filing, doses: card.doses},
                fill(words.valid, {date: card.valid_until})];
    }
    """.replace("HELPERS", HELPERS)
    .replace("MESSAGES", _messages())
    .replace("WORDS", _card_words()),
    Output(CONFIRM_MESSAGE_ID, "children"),
    Output(RESULT_ID, "style"),
    Output(CARD_ID, "className"),
    Output(STATUS_ID, "children"),
    Output(BOOSTERS_ID, "style"),
    Output(BOOSTERS_ID, "children"),
    Output(HOLDER_ID, "children"),
    Output(BORN_ID, "children"),
    Output(DOSES_ID, "children"),
    Output(QR_ID, "src"),
    Output(QR_ID, "style"),
    Output(HC1_ID, "data"),
    Output(FILING_ID, "data"),
    Output(VALID_ID, "children"),
    Input(CONFIRM_ID, "n_clicks"),
    State(REQUEST_ID, "data"),
    State(CODE_ID, "value"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)


# The PNG and the PDF are the card drawn on the server (certificates.card) from the
# certificate's own text, which the server verifies first, and the seal over the doses shown;
# saved from a blob: nothing personal goes into a URL (the object URL is local to the page and
# revoked at once). Drawn only when asked for, so a lookup does not pay for it.
dash.clientside_callback(
    """
    async function(png, pdf, held, lang) {
        const trigger = window.dash_clientside.callback_context.triggered_id;
        if (!held || !held.hc1 || !(png || pdf)) { return window.dash_clientside.no_update; }
        HELPERS
        const said = MESSAGES[lang] || MESSAGES.vi;
        const format = trigger === 'DOWNLOAD_ID' ? 'png' : 'pdf';
        let answer = null;
        try {
            answer = await fetch('/api/v1/certificate/pdf', {
                method: 'POST', credentials: 'same-origin', cache: 'no-store',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({hc1: held.hc1, seal: held.seal || '', lang: lang || 'vi',
                                      format: format})
            });
        } catch (e) {
            return said.unavailable;
        }
        if (answer.status !== 200) {
            return answer.status === 429
                ? fill(said.pdf_many, {wait: answer.headers.get('Retry-After') || '?'})
                : fill(said[format + '_failed'], {status: answer.status});
        }
        const link = document.createElement('a');
        link.href = URL.createObjectURL(await answer.blob());
        link.download = 'vaxviet-certificate.' + format;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
        return said[format + '_done'];
    }
    """.replace("HELPERS", HELPERS)
    .replace("MESSAGES", _messages())
    .replace("DOWNLOAD_ID", DOWNLOAD_ID),
    Output(PDF_MESSAGE_ID, "children"),
    Input(DOWNLOAD_ID, "n_clicks"),
    Input(PDF_ID, "n_clicks"),
    State(HC1_ID, "data"),
    State(LANG_ID, "data"),
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
    async function(clicks, filing, cccd, kind, day, site, vaccine, lot, dose, name, dob, sex, lang) {
        if (!clicks) { return window.dash_clientside.no_update; }
        HELPERS
        const said = MESSAGES[lang] || MESSAGES.vi;
        if (!filing || !filing.filing) { return said.look_up_first; }
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
            return said.unavailable;
        }
        let body = {};
        try { body = await answer.json(); } catch (e) {}
        if (answer.status === 201) { return fill(said.filed, {reference: body.reference}); }
        if (answer.status === 429) {
            return fill(said.too_many, {wait: answer.headers.get('Retry-After') || '?'});
        }
        // the API's messages are written "Vietnamese / English": the page's language only
        return body.message ? half(body.message, lang) : fill(said.not_filed, {status: answer.status});
    }
    """.replace("HELPERS", HELPERS).replace("MESSAGES", _messages()),
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
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)


def _report(lang: Lang) -> html.Details:
    """The card's "Report a problem" form (its fields per kind)."""
    products = sorted(rules.products().values(), key=lambda p: p.display)

    def say(key: str) -> str:
        return text(f"certificate.{key}", lang)

    return html.Details(
        [
            html.Summary(say("report")),
            dcc.RadioItems(
                id=KIND_ID,
                options=[
                    {"label": say(f"kind.{kind}"), "value": kind}
                    for kind in ("missing_dose", "not_mine", "identity")
                ],
                value="missing_dose",
                className="radio",
                inputClassName="radio-input",
            ),
            html.Div(
                [
                    _field(say("day"), dcc.Input(id=DAY_ID, type="text", placeholder="YYYY-MM-DD")),
                    _field(say("site"), dcc.Input(id=SITE_ID, type="text", autoComplete="off")),
                    _field(say("vaccine"), dcc.Dropdown(
                        id=VACCINE_ID,
                        options=[{"label": p.display, "value": p.code} for p in products],
                    )),
                    _field(say("lot"), dcc.Input(id=LOT_ID, type="text", autoComplete="off")),
                ],
                id=MISSING_GROUP_ID,
            ),
            html.Div(
                _field(say("dose"), dcc.Dropdown(id=DOSE_ID, options=[])),
                id=NOT_MINE_GROUP_ID,
                style={"display": "none"},
            ),
            html.Div(
                [
                    _field(say("new_name"),
                           dcc.Input(id=NEW_NAME_ID, type="text", autoComplete="off")),
                    _field(say("new_dob"),
                           dcc.Input(id=NEW_DOB_ID, type="text", placeholder="YYYY-MM-DD")),
                    _field(say("new_sex"), dcc.Dropdown(
                        id=NEW_SEX_ID,
                        options=[{"label": say(f"sex.{sex}"), "value": sex} for sex in "MFO"],
                    )),
                ],
                id=IDENTITY_GROUP_ID,
                style={"display": "none"},
            ),
            html.Button(say("file"), id=FILE_ID, n_clicks=0),
            html.P(id=FILED_ID, role="status"),
            html.P(html.A(say("follow"), href=href("/certificate/request", lang))),
            dcc.Store(id=FILING_ID, storage_type="memory"),
        ],
        id=REPORT_ID,
        className="report",
    )  # fmt: skip


def _field(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component.id), component], className="field")


def _card(lang: Lang) -> html.Section:
    """The card, empty until a lookup fills it (the confirm script), its downloads below it
    and the "Report a problem" form."""
    return html.Section(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.P(card.word("title", lang), className="cert-title"),
                            html.H2(id=STATUS_ID),
                            html.P(id=BOOSTERS_ID, className="cert-badge"),
                        ],
                        className="cert-band",
                    ),
                    html.Div(
                        [
                            html.P(id=HOLDER_ID, className="cert-name"),
                            html.P(id=BORN_ID, className="cert-born"),
                            html.Img(id=QR_ID, alt=text("certificate.qr_alt", lang), className="cert-qr"),
                            html.H3(card.word("doses", lang), className="cert-doses-title"),
                            html.Ol(id=DOSES_ID, className="cert-doses"),
                            html.P(id=VALID_ID, className="cert-valid"),
                            html.P(card.word("scan", lang), className="cert-note"),
                            html.P(card.word("issuer", lang), className="cert-note"),
                        ],
                        className="cert-body",
                    ),
                ],
                id=CARD_ID,
                className="certificate-card",
            ),
            html.Div(
                [
                    html.Button(text("certificate.png", lang), id=DOWNLOAD_ID, n_clicks=0,
                                className="cert-action"),
                    html.Button(text("certificate.pdf", lang), id=PDF_ID, n_clicks=0,
                                className="cert-action"),
                ],
                className="cert-actions",
            ),
            dcc.Store(id=HC1_ID, storage_type="memory"),
            html.P(id=PDF_MESSAGE_ID, role="status"),
            _report(lang),
        ],
        id=RESULT_ID,
        className="certificate-result",
        style={"display": "none"},
    )  # fmt: skip


def layout(**query: str) -> html.Div:
    lang = lang_from(query)

    def say(key: str) -> str:
        return text(f"certificate.{key}", lang)

    return html.Div(
        [
            dcc.Store(id=LANG_ID, data=lang),
            html.H1(say("title")),
            html.P(say("intro")),
            _field(
                say("cccd"),
                dcc.Input(id=CCCD_ID, type="text", inputMode="numeric", autoComplete="off"),
            ),
            _field(say("name"), dcc.Input(id=NAME_ID, type="text", autoComplete="off")),
            _field(
                say("dob"),
                dcc.Input(id=DOB_ID, type="text", placeholder="YYYY-MM-DD", autoComplete="off"),
            ),
            _field(say("phone"), dcc.Input(id=PHONE_ID, type="tel", autoComplete="off")),
            html.Button(say("send"), id=SEND_ID, n_clicks=0),
            dcc.Store(id=REQUEST_ID, storage_type="memory"),
            html.P(id=MESSAGE_ID, role="status"),
            _field(
                say("code"),
                dcc.Input(
                    id=CODE_ID, type="text", inputMode="numeric", autoComplete="one-time-code"
                ),
            ),
            html.Button(say("confirm"), id=CONFIRM_ID, disabled=True),
            html.P(id=CONFIRM_MESSAGE_ID, role="alert"),
            _card(lang),
        ],
        className="page-certificate",
        lang=lang,
    )
