"""Build the portal Dash app on the platform's Flask server.

Everything is served from the server's own origin (Dash serves its JavaScript and CSS
locally by default; no CDN, no web fonts): see DESIGN.md, "Offline by construction".
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def create_portal(server: flask.Flask) -> dash.Dash:
    app = dash.Dash(
        "portal",
        server=server,  # type: ignore[arg-type]  # Dash annotates only bool | callable
        url_base_pathname="/",
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        serve_locally=True,
        title="VaxViet",
        update_title=None,  # type: ignore[arg-type]  # None is documented: no "Updating…"
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = dash.html.Div(
        [
            dash.html.Header(
                dash.html.A("VaxViet", href="/", className="brand"), className="site-header"
            ),
            dash.html.Main(dash.page_container, id="main"),
        ],
        lang="vi",
    )
    return app
