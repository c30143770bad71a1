"""The internal dashboards: a second Dash app on the platform's Flask server, at ``/internal/``.
:func:`create_dashboards` puts it together; each part has its module:

* login and the guard of every ``/internal`` path, Dash's JSON included: :mod:`dashboards.auth`;
* the frame and the auto-refresh: :mod:`dashboards.frame`; the header: :mod:`dashboards.header`;
* the page callback (URL → page, in the user's scope): :mod:`dashboards.routes`, over the
  pages of :mod:`dashboards.pages`, memoized by :mod:`dashboards.memo` and built off the
  request path by :mod:`dashboards.background`;
* the CSV exports: :mod:`dashboards.export`; the officials' summary: :mod:`dashboards.summary`.

Offline: Dash serves its own scripts; styles are the portal's stylesheet (same origin) plus
this app's own; the login page is plain HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import dash
import flask
from dash import Input, Output, State

from dashboards import auth, corrections, summary
from dashboards.background import BUILDS_KEY, Builds
from dashboards.export import export
from dashboards.frame import (
    INTERVAL_ID,
    PAGE_ID,
    PENDING_ID,
    URL_ID,
    VERSION_ID,
    check_version,
    frame,
)
from dashboards.memo import AUDIENCE
from dashboards.routes import render
from web.cache import use_audience
from web.formatting import lang_of

ASSETS_DIR: Final = Path(__file__).resolve().parent / "assets"


class DashboardsDash(dash.Dash):
    """Dash whose page says its language (``<html lang>``): the one the URL asks for
    (``?lang=en``; Vietnamese otherwise), as every internal page's texts follow it."""

    def interpolate_index(self, **kwargs: Any) -> Any:  # type: ignore[override]
        lang = lang_of(flask.request.args.get("lang", "vi"))
        index = str(super().interpolate_index(**kwargs))
        return index.replace("<html>", f'<html lang="{lang}">', 1)


def create_dashboards(server: flask.Flask) -> dash.Dash:
    """Login, the Dash app at ``/internal/`` and the CSV exports, on `server` (whose
    services are attached and whose cache is initialised)."""
    from registry.db import make_engine

    settings = current_services_of(server).settings
    auth.init_auth(server, make_engine(settings.source_dsn), settings.internal_session_minutes)
    app = DashboardsDash(
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
    server.add_url_rule(
        corrections.ACT_PATH, "internal_corrections_act", corrections.act, methods=["POST"]
    )
    return app


def _dashboards_audience() -> None:
    """Requests under ``/internal`` read the data version the dashboards' warmer published."""
    if flask.request.path.startswith(auth.PREFIX):
        use_audience(AUDIENCE)


def current_services_of(server: flask.Flask) -> Any:
    from vaxviet.services import EXTENSION_KEY

    return server.extensions[EXTENSION_KEY]
