"""The corrections queue at ``/internal/corrections``: officials work the citizens' requests
(`registry.corrections` holds the rules and writes the changes).

* The queue: the requests of the official's province (a national official: every province),
  oldest first, filtered by state and kind. The scope is the logged-in user's, a condition
  of the registry query (``registry.corrections.queue``/``get_request``): a request of
  another province is "not found", whether asked by URL, a forged callback or a forged form.
* A request (``?request=<id>``): the claimed change, the citizen's current record (identity,
  every dose with its state), the audit trail, and — while it is open — the two actions.
* The actions are POST forms to ``/internal/corrections/act`` with the session's form token:
  approve (the form names the record as it was shown, ``seen``; if it changed since, the
  approval is refused and the page shows the record again) or reject (a reason is required:
  the citizen reads it). The result comes back as a message code in the URL, never data.

Reads go to the registry live (not the warehouse, not a cache): an official sees a request
the moment it is filed and their own action at once. Answers are ``no-store``.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qs, urlencode

import flask
from dash import dcc, html
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from dashboards import auth
from dashboards.i18n import text
from dashboards.names import province_names
from registry import corrections
from web.formatting import Lang
from web.layout import attrs

PATH: Final = "/internal/corrections"
ACT_PATH: Final = f"{PATH}/act"
STATES: Final = ("open", "approved", "rejected")
#: message codes an action returns to the page with (?done=…)
DONE: Final = ("approved", "rejected", "changed", "resolved", "not_found", "invalid", "token")


def _href(lang: Lang, **query: str) -> str:
    values = {k: v for k, v in query.items() if v}
    if lang == "en":
        values["lang"] = "en"
    return f"{PATH}?{urlencode(values)}" if values else PATH


def _kind(kind: str, lang: Lang) -> str:
    return text(f"corrections.kind.{kind}", lang)


def _claim(request: corrections.Request, lang: Lang) -> str:
    claim = request.claim
    if request.kind == "missing_dose":
        lot = claim.get("lot_number") or "—"
        return (
            f"{text('corrections.claim.day', lang)} {claim['day']} · "
            f"{text('corrections.claim.site', lang)} {claim['site_id']} · "
            f"{claim['vaccine_code']} · {text('corrections.claim.lot', lang)} {lot}"
        )
    if request.kind == "not_mine":
        return f"{text('corrections.claim.dose', lang)} {request.dose_id}"
    return " · ".join(f"{text(f'corrections.field.{k}', lang)}: {v}" for k, v in claim.items())


def _queue_view(connection: Any, scope: str, lang: Lang, state: str, kind: str) -> list[Any]:
    requests = corrections.queue(
        connection, scope, state if state in STATES else None, kind or None
    )
    names = province_names(lang)
    filters = html.Nav(
        [
            dcc.Link(
                text(f"corrections.state.{s}", lang) if s else text("corrections.all", lang),
                href=_href(lang, state=s or "all", kind=kind),
                className="nav-link current" if (state or "open") == (s or "all") else "nav-link",
            )
            for s in (*STATES, "")
        ],
        className="filters",
        id="corrections-filters",
    )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(f"#{r.request_id}", href=_href(lang, request=str(r.request_id)))),
                html.Td(_kind(r.kind, lang)),
                html.Td(names.get(r.province_code, r.province_code)),
                html.Td(r.filed_at.astimezone(corrections.LOCAL).date().isoformat()),
                html.Td(f"{r.age_days:.0f}", className="number"),
                html.Td(text(f"corrections.state.{r.status}", lang)),
            ],
            **attrs(data_request=str(r.request_id)),
        )
        for r in requests
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th(text(f"corrections.col.{c}", lang), scope="col")
                for c in ("request", "kind", "province", "filed", "age", "state")
            ]
        )
    )
    body = (
        html.Table([head, html.Tbody(rows)], id="corrections-queue")
        if rows
        else html.P(text("corrections.empty", lang), id="corrections-queue")
    )
    return [filters, body]


def _record_view(record: corrections.Record, lang: Lang) -> list[Any]:
    identity = record.identity
    cccd = identity.get("citizen_id", "")
    facts = html.P(
        f"{identity.get('full_name', '')} · {text('corrections.field.date_of_birth', lang)} "
        f"{identity.get('date_of_birth', '')} · {text('corrections.field.sex', lang)} "
        f"{identity.get('sex', '')} · CCCD …{cccd[-4:]}",
        id="corrections-identity",
    )
    rows = [
        html.Tr(
            [
                html.Td(d["dose_id"]),
                html.Td(str(d["dose_number"])),
                html.Td(str(d["administered_at"])[:10]),
                html.Td(d["vaccine_code"]),
                html.Td(d["lot_number"]),
                html.Td(d["site_id"]),
                html.Td(text(f"corrections.dose.{d['status']}", lang)),
            ]
        )
        for d in record.doses
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th(text(f"corrections.dcol.{c}", lang), scope="col")
                for c in ("dose", "number", "day", "product", "lot", "site", "state")
            ]
        )
    )
    return [
        html.H2(text("corrections.record", lang)),
        facts,
        html.Table([head, html.Tbody(rows)], id="corrections-doses"),
    ]


def _actions(request: corrections.Request, record: corrections.Record, lang: Lang) -> Any:
    token = auth.csrf_token()
    action = ACT_PATH + ("?lang=en" if lang == "en" else "")
    hidden = [
        dcc.Input(type="hidden", name="csrf", value=token),
        dcc.Input(type="hidden", name="request", value=str(request.request_id)),
    ]
    return html.Div(
        [
            html.Form(
                [
                    *hidden,
                    dcc.Input(type="hidden", name="seen", value=str(record.seq)),
                    html.Button(
                        text("corrections.approve", lang),
                        type="submit",
                        name="action",
                        value="approve",
                        id="corrections-approve",
                    ),
                ],
                method="POST",
                action=action,
            ),
            html.Form(
                [
                    *hidden,
                    html.Label(text("corrections.reason", lang), htmlFor="corrections-reason"),
                    dcc.Textarea(id="corrections-reason", name="reason", maxLength=500, rows=3),
                    html.Button(
                        text("corrections.reject", lang),
                        type="submit",
                        name="action",
                        value="reject",
                        id="corrections-reject",
                    ),
                ],
                method="POST",
                action=action,
            ),
        ],
        className="corrections-actions",
    )


def _request_view(connection: Any, scope: str, lang: Lang, request_id: str) -> list[Any]:
    request = (
        corrections.get_request(connection, int(request_id), scope)
        if request_id.isdigit()
        else None
    )
    back = dcc.Link(text("corrections.back", lang), href=_href(lang), id="corrections-back")
    if request is None:
        return [back, html.P(text("corrections.done.not_found", lang), id="corrections-missing")]
    record = corrections.citizen_record(connection, request.citizen_id)
    names = province_names(lang)
    summary = html.Dl(
        [
            html.Dt(text("corrections.col.kind", lang)),
            html.Dd(_kind(request.kind, lang)),
            html.Dt(text("corrections.claimed", lang)),
            html.Dd(_claim(request, lang), id="corrections-claim"),
            html.Dt(text("corrections.col.province", lang)),
            html.Dd(names.get(request.province_code, request.province_code)),
            html.Dt(text("corrections.col.filed", lang)),
            html.Dd(request.filed_at.astimezone(corrections.LOCAL).isoformat(" ", "minutes")),
            html.Dt(text("corrections.col.state", lang)),
            html.Dd(text(f"corrections.state.{request.status}", lang), id="corrections-state"),
            *(
                [html.Dt(text("corrections.reason", lang)), html.Dd(request.reason)]
                if request.reason
                else []
            ),
        ],
        className="facts",
    )
    trail = html.Table(
        html.Tbody(
            [
                html.Tr(
                    [
                        html.Td(a.at.astimezone(corrections.LOCAL).isoformat(" ", "seconds")),
                        html.Td(text(f"corrections.action.{a.action}", lang)),
                        html.Td(a.actor),
                    ]
                )
                for a in corrections.audit_trail(connection, request.request_id)
            ]
        ),
        id="corrections-audit",
    )
    parts = [
        back,
        html.H2(f"#{request.request_id}"),
        summary,
        *_record_view(record, lang),
        html.H2(text("corrections.audit", lang)),
        trail,
    ]
    if request.status == "open":
        parts.append(_actions(request, record, lang))
    return parts


def main(search: str | None, lang: Lang) -> html.Main:
    """The page for the logged-in official (their scope, from the session)."""
    query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
    scope = auth.scope()
    done = query.get("done", "")
    notice = (
        [html.P(text(f"corrections.done.{done}", lang), className="banner", role="status",
                id="corrections-done")]
        if done in DONE
        else []
    )  # fmt: skip
    try:
        with auth.registry_engine().connect() as connection:
            if query.get("request"):
                body = _request_view(connection, scope, lang, query["request"])
            else:
                body = _queue_view(
                    connection, scope, lang, query.get("state", "open"), query.get("kind", "")
                )
    except SQLAlchemyError:
        body = [html.P(text("unavailable", lang), className="banner")]
    return html.Main(
        [html.H1(text("nav.corrections", lang)), *notice, *body],
        id="main",
        **attrs(data_province=scope),
    )


def act() -> Response:
    """``POST /internal/corrections/act``: approve or reject, then back to the request."""
    form = flask.request.form
    lang: Lang = "en" if flask.request.args.get("lang") == "en" else "vi"
    request_id = form.get("request", "")

    def back(done: str) -> Response:
        return flask.redirect(_href(lang, request=request_id, done=done), code=303)

    expected = flask.session.get("internal_csrf", "")
    if not expected or form.get("csrf", "") != expected:
        return back("token")
    user = auth.logged_in()
    if user is None or not request_id.isdigit():
        return back("not_found")
    try:
        with auth.registry_engine().begin() as connection:
            if form.get("action") == "approve":
                seen = form.get("seen", "")
                corrections.approve(
                    connection, int(request_id), user.scope, user.name,
                    int(seen) if seen.isdigit() else -1,
                )  # fmt: skip
                done = "approved"
            elif form.get("action") == "reject":
                corrections.reject(
                    connection, int(request_id), user.scope, user.name, form.get("reason", "")
                )
                done = "rejected"
            else:
                done = "invalid"
    except corrections.CorrectionError as error:
        done = error.code if error.code in DONE else "invalid"
    return back(done)
