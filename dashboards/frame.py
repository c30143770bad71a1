"""The app's frame: the components every page sits in (its IDs are the callbacks' inputs
and outputs), and the auto-refresh.

Auto-refresh: an interval asks for the data version (cached for a few seconds by
:func:`web.cache.data_version`); when it has not changed, :func:`check_version` stops there
(``PreventUpdate``): no query, no redraw. When it changes, the page is drawn again
(:func:`dashboards.routes.render`) from pages memoized on the new version.
"""

from __future__ import annotations

from typing import Final

import flask
from dash import dcc, html
from dash.exceptions import PreventUpdate

from web.cache import DataUnavailableError, data_version

#: the URL: which page, its province and language (the page callback's input)
URL_ID: Final = "dash-url"
#: the auto-refresh: asks for the data version every REFRESH_MS
INTERVAL_ID: Final = "dash-interval"
REFRESH_MS: Final = 30_000
#: the data version the page was drawn from (a change redraws it)
VERSION_ID: Final = "dash-version"
#: where the header and the page go
PAGE_ID: Final = "dash-page"
#: polls while a page is being built: ``disabled`` once it is drawn
PENDING_ID: Final = "dash-pending"
PENDING_MS: Final = 300
PREPARING_ID: Final = "dash-preparing"


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
