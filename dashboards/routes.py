"""The page callback: the URL → the header and the page (:func:`render`).

The page comes from the memo when it is built at this data version, else from a background
build (:mod:`dashboards.background`): until it is done the page says it is being prepared
and the browser asks again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import dcc, html

from dashboards import auth, corrections, data
from dashboards.background import build_in_background
from dashboards.context import ScopeDeniedError, context_for, requested_lang, requested_province
from dashboards.frame import PREPARING_ID
from dashboards.header import header
from dashboards.i18n import text
from dashboards.memo import ready_body
from dashboards.names import province_names
from dashboards.pages import HOME, PAGES
from dashboards.view import page_href, sample_notice, stamp
from dashboards.warm import remember
from web.cache import DataUnavailableError
from web.formatting import Lang
from web.layout import attrs


def banner(key: str, lang: Lang, **attributes: Any) -> html.P:
    return html.P(text(key, lang), className="banner", role="alert", **attributes)


def render(
    pathname: str | None, search: str | None, _version: object = None, _waited: object = None
) -> tuple[list[Any], bool]:
    """The page at `pathname` + `search` for the logged-in user (the one page callback),
    and whether the "preparing" poll stops (True) or asks again (False: the figures are
    being built, :func:`dashboards.background.build_in_background`)."""
    query = parse_qs((search or "").lstrip("?"))
    lang = requested_lang(query)
    path = pathname or HOME
    entry = PAGES.get(path if path.endswith("/") or path in PAGES else path.rstrip("/"))
    top = header(path, lang, requested_province(query))
    if path.rstrip("/") == corrections.PATH:  # the registry's live queue: never memoised
        return [top, corrections.main(search, lang)], True
    if entry is None:
        return [top, html.Main(html.P("404"), id="main")], True
    key, name = entry
    try:
        context = context_for(query)
        remember(name, context.province, context.lang)
        parts = ready_body(name, context)
        if parts is None:
            parts = build_in_background(name, context)
    except ScopeDeniedError:
        return [top, html.Main(banner("scope.denied", lang, id="dash-denied"), id="main")], True
    except DataUnavailableError:
        return [top, html.Main(banner("unavailable", lang), id="main")], True
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
        top,
        html.Main(
            main,
            id="main",
            **attrs(data_province=context.province, aria_busy="true" if parts is None else "false"),
        ),
    ], parts is not None
