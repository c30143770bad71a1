"""The internal dashboards: a second Dash app on the platform's Flask server, at ``/internal/``.

* Login first (:mod:`dashboards.auth`): every ``/internal`` path, Dash's JSON included, is
  behind the guard.
* One page callback (:func:`render`) draws the page for the URL; the province scope comes
  from the logged-in user (a provincial user can never widen it: a URL or a forged
  callback naming another province gets a refusal and no figures). National users drill
  down with ``?province=<code>``.
* Auto-refresh: an interval asks for the data version (cached for a few seconds by
  :func:`web.cache.data_version`); when it has not changed the callback stops there
  (``PreventUpdate``): no query, no redraw. When it changes, the page is drawn again from
  queries memoized on the new version.
* Not a ``use_pages`` app: Dash's page registry is global to the process and belongs to
  the portal; this app routes its three pages itself.
* Offline: Dash serves its own scripts; styles are the portal's stylesheet (same origin)
  plus this app's own; the login page is plain HTML.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

import dash
import flask
import plotly.utils
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboards import auth, data, summary
from dashboards.background import INLINE_SECONDS, Builds
from dashboards.i18n import text
from dashboards.names import province_names
from dashboards.pages import quality, stock, throughput
from dashboards.throughput import reference_time
from dashboards.view import Context, Page, page_href, sample_notice, stamp
from geo.calendar import LOCAL_ZONE
from vaxviet.services import current_services
from web.cache import (
    DataUnavailableError,
    data_version,
    memoize_derived,
    peek_derived,
    use_audience,
)
from web.formatting import Lang, lang_of
from web.layout import attrs

ASSETS_DIR: Final = Path(__file__).resolve().parent / "assets"
REFRESH_MS: Final = 30_000

URL_ID: Final = "dash-url"
INTERVAL_ID: Final = "dash-interval"
VERSION_ID: Final = "dash-version"
PAGE_ID: Final = "dash-page"
#: server extension: (page, province, language) → when it was last drawn (monotonic seconds)
RECENT_KEY: Final = "vaxviet.dashboards.recent"
#: server extension: the background page builder (:mod:`dashboards.background`)
BUILDS_KEY: Final = "vaxviet.dashboards.builds"
#: polls while a page is being built: ``disabled`` once it is drawn
PENDING_ID: Final = "dash-pending"
PENDING_MS: Final = 300
PREPARING_ID: Final = "dash-preparing"
#: the cache audience of the dashboards (:func:`web.cache.use_audience`): they see the
#: data version their own warmer published (:mod:`dashboards.warm`)
AUDIENCE: Final = "dashboards"

#: path → (nav text key, page name)
PAGES: Final[dict[str, tuple[str, str]]] = {
    throughput.PATH: ("nav.throughput", throughput.NAME),
    stock.PATH: ("nav.stock", stock.NAME),
    quality.PATH: ("nav.quality", quality.NAME),
}
BY_NAME: Final[dict[str, Callable[[Context], Page]]] = {
    throughput.NAME: throughput.build,
    stock.NAME: stock.build,
    quality.NAME: quality.build,
}


class ScopeDeniedError(Exception):
    """A provincial user asked for another province."""


def local_now() -> datetime:
    """The local wall clock to the minute (pages are memoized per minute of it)."""
    return datetime.now(LOCAL_ZONE).replace(tzinfo=None, second=0, microsecond=0)


@memoize_derived
def _built(name: str, context: Context) -> Page:
    return BY_NAME[name](context)


def _keyed(name: str, context: Context) -> Context:
    """Only the quality page reads the wall clock (the ETL lag); the others are keyed
    without it, so a stopped campaign's pages stay cached."""
    return context if name == quality.NAME else dataclasses.replace(context, clock=None)


def built(name: str, context: Context) -> Page:
    """The page `name` for `context` (its tables feed the CSV exports), memoized on the
    data version: a page costs its queries and pandas work once per data version, scope,
    language and "now" (to the minute)."""
    return _built(name, _keyed(name, context))


@memoize_derived
def _body_json(name: str, context: Context) -> str:
    return json.dumps(_built(name, context).body, cls=plotly.utils.PlotlyJSONEncoder)


def body(name: str, context: Context) -> list[Any]:
    """The page's components as Dash's JSON (plain lists and dicts), memoized as one
    string: a cache hit costs a ``json.loads``, not the unpickling of thousands of
    component objects."""
    parts: list[Any] = json.loads(_body_json(name, _keyed(name, context)))
    return parts


def ready_body(name: str, context: Context) -> list[Any] | None:
    """:func:`body` if it is cached at this data version, else None (nothing computed)."""
    boxed = peek_derived(_body_json, name, _keyed(name, context))
    return None if boxed is None else list(json.loads(boxed[0]))


def build_in_background(name: str, context: Context) -> list[Any] | None:
    """:func:`body`, built on the server's background builder (one build per page, scope
    and data version at a time, :mod:`dashboards.background`); None when it takes longer
    than :data:`dashboards.background.INLINE_SECONDS` (the browser asks again)."""
    server = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    builds: Builds = server.extensions[BUILDS_KEY]
    version = data_version()

    def job() -> list[Any]:
        with server.test_request_context(f"{auth.PREFIX}/"):
            use_audience(AUDIENCE)
            return body(name, context)

    future = builds.start((name, _keyed(name, context), version), job)
    try:
        parts: list[Any] = future.result(timeout=INLINE_SECONDS)
    except FutureTimeout:
        return None
    return parts


def remember(name: str, province: str, lang: Lang) -> None:
    """Note that page `name` was drawn for this scope and language just now (the scopes the
    cache warmer keeps warm: :mod:`dashboards.warm`)."""
    recent = flask.current_app.extensions.setdefault(RECENT_KEY, {})
    recent[(name, province, lang)] = time.monotonic()


def requested_province(query: dict[str, list[str]]) -> str:
    code = (query.get("province") or [""])[0]
    return code if code in province_names("vi") else ""


def context_for(query: dict[str, list[str]]) -> Context:
    """The page context for the logged-in user and the URL query. The province is the
    user's own for a provincial user (asking for another raises), the one asked for (or
    the whole country) for a national user."""
    own = auth.scope()
    asked = requested_province(query)
    if own and (query.get("province") or [own])[0] != own:
        raise ScopeDeniedError(asked)
    return page_context(own or asked, lang_of((query.get("lang") or ["vi"])[0]))


def page_context(province: str, lang: Lang) -> Context:
    """The page context of a scope (already checked against the user) and a language, at
    the current minute."""
    from web.data import updated_at

    clock = local_now()
    now, live = reference_time(data.latest_hour(), clock)
    return Context(
        province=province,
        lang=lang,
        now=now,
        live=live,
        silent_hours=current_services().settings.silent_site_hours,
        updated=updated_at(),
        clock=clock,
    )


def _header(path: str, lang: Lang, province: str) -> html.Header:
    user = auth.logged_in()
    assert user is not None
    keep = {"province": province} if province and not user.scope else {}
    names = province_names(lang)
    who = f"{user.name} · " + (
        f"{text('scope.province', lang)} {names[user.scope]}"
        if user.scope
        else text("scope.national", lang)
    )
    other: Lang = "vi" if lang == "en" else "en"
    return html.Header(
        [
            html.A(
                f"VaxViet — {text('app.title', lang)}",
                href=page_href(throughput.PATH, lang),
                className="brand",
            ),
            html.Nav(
                [
                    dcc.Link(
                        text(key, lang),
                        href=page_href(page_path, lang, **keep),
                        className="nav-link current" if page_path == path else "nav-link",
                    )
                    for page_path, (key, _) in PAGES.items()
                ]
            ),
            html.Span(who, className="who", id="dash-user"),
            dcc.Link(
                text("lang.switch", lang),
                href=page_href(
                    path, other, **({"province": province} if province and not user.scope else {})
                ),
                className="lang-link",
                id="dash-lang",
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=auth.csrf_token()),
                    html.Button(text("logout", lang), type="submit", id="dash-logout"),
                ],
                method="POST",
                action=auth.LOGOUT_PATH + ("?lang=en" if lang == "en" else ""),
                className="logout",
            ),
        ],
        className="site-header",
    )


def render(
    pathname: str | None, search: str | None, _version: object = None, _waited: object = None
) -> tuple[list[Any], bool]:
    """The page at `pathname` + `search` for the logged-in user (the one page callback),
    and whether the "preparing" poll stops (True) or asks again (False: the figures are
    being built, :func:`build_in_background`)."""
    query = parse_qs((search or "").lstrip("?"))
    lang: Lang = lang_of((query.get("lang") or ["vi"])[0])
    path = pathname or throughput.PATH
    entry = PAGES.get(path if path.endswith("/") or path in PAGES else path.rstrip("/"))
    header = _header(path, lang, requested_province(query))
    if entry is None:
        return [header, html.Main(html.P("404"), id="main")], True
    key, name = entry
    try:
        context = context_for(query)
        remember(name, context.province, context.lang)
        parts = ready_body(name, context)
        if parts is None:
            parts = build_in_background(name, context)
    except ScopeDeniedError:
        denied = html.P(
            text("scope.denied", lang), className="banner", role="alert", id="dash-denied"
        )
        return [header, html.Main(denied, id="main")], True
    except DataUnavailableError:
        unavailable = html.P(text("unavailable", lang), className="banner", role="alert")
        return [header, html.Main(unavailable, id="main")], True
    title = text(key, lang)
    if context.province:
        title += f" — {province_names(lang)[context.province]}"
    crumbs: list[Any] = []
    if context.province and not auth.scope():
        crumbs = [dcc.Link(text("back_national", lang), href=page_href(path, lang), id="dash-back")]
    if parts is None:
        preparing = html.P(
            text("preparing", lang), className="banner", role="status", id=PREPARING_ID
        )
        main = [*crumbs, html.H1(title), preparing]
    else:
        main = [
            *crumbs,
            html.H1(title),
            *sample_notice(data.sample(), lang),
            stamp(context, data.latest_hour()),
            *parts,
        ]
    return [
        header,
        html.Main(
            main,
            id="main",
            **attrs(data_province=context.province, aria_busy="true" if parts is None else "false"),
        ),
    ], parts is not None


def check_version(_intervals: int, known: str | None) -> str:
    """The data version, or no update at all when it has not changed."""
    try:
        current = data_version()
    except DataUnavailableError:
        raise PreventUpdate from None
    if current == known:
        raise PreventUpdate
    return current


def frame() -> html.Div:
    """The app's layout, built per request (the data version the page starts from)."""
    version: str | None = None
    if flask.has_request_context():  # Dash also calls this once at start-up, to validate it
        try:
            version = data_version()
        except DataUnavailableError:
            version = None
    return html.Div(
        [
            dcc.Location(id=URL_ID),
            dcc.Interval(id=INTERVAL_ID, interval=REFRESH_MS),
            dcc.Store(id=VERSION_ID, data=version),
            dcc.Interval(id=PENDING_ID, interval=PENDING_MS, disabled=True),
            html.Div(id=PAGE_ID),
        ]
    )


def export(page: str, key: str) -> flask.Response:
    """``/internal/export/<page>/<table>.csv``: one table of a page, every row."""
    if page not in BY_NAME:
        flask.abort(404)
    query = {name: flask.request.args.getlist(name) for name in flask.request.args}
    try:
        context = context_for(query)
    except ScopeDeniedError:
        flask.abort(403)
    table = built(page, context).tables.get(key)
    if table is None:
        flask.abort(404)
    name = f"vaxviet-{page}-{key}-{context.province or 'VN'}-{context.now:%Y%m%d-%H%M}.csv"
    response = flask.Response(table.csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def create_dashboards(server: flask.Flask) -> dash.Dash:
    """Login, the Dash app at ``/internal/`` and the CSV exports, on `server` (whose
    services are attached and whose cache is initialised)."""
    from registry.db import make_engine

    settings = current_services_of(server).settings
    auth.init_auth(server, make_engine(settings.source_dsn), settings.internal_session_minutes)
    app = dash.Dash(
        "dashboards",
        server=server,  # type: ignore[arg-type]  # Dash annotates only bool | callable
        url_base_pathname=f"{auth.PREFIX}/",
        serve_locally=True,
        assets_folder=str(ASSETS_DIR),
        external_stylesheets=["/assets/portal.css"],
        title="VaxViet — nội bộ / internal",
        update_title=None,  # type: ignore[arg-type]
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = frame
    app.callback(
        Output(VERSION_ID, "data"),
        Input(INTERVAL_ID, "n_intervals"),
        State(VERSION_ID, "data"),
        prevent_initial_call=True,
    )(check_version)
    app.callback(
        Output(PAGE_ID, "children"),
        Output(PENDING_ID, "disabled"),
        Input(URL_ID, "pathname"),
        Input(URL_ID, "search"),
        Input(VERSION_ID, "data"),
        Input(PENDING_ID, "n_intervals"),
    )(render)
    server.extensions[BUILDS_KEY] = Builds()
    server.before_request(_dashboards_audience)
    server.add_url_rule(
        f"{auth.PREFIX}/export/<page>/<key>.csv", "internal_export", export, methods=["GET"]
    )
    server.add_url_rule(summary.PATH, "internal_summary", summary.view, methods=["GET"])
    return app


def _dashboards_audience() -> None:
    """Requests under ``/internal`` read the data version the dashboards' warmer published."""
    if flask.request.path.startswith(auth.PREFIX):
        use_audience(AUDIENCE)


def current_services_of(server: flask.Flask) -> Any:
    from vaxviet.services import EXTENSION_KEY

    return server.extensions[EXTENSION_KEY]
