"""Build the portal Dash app on the platform's Flask server.

Everything is served from the server's own origin (Dash serves its JavaScript and CSS
locally; no CDN, no web fonts, maps on local geometry): see DESIGN.md, "Offline by
construction". The frame around every page (header, navigation, language link, the
stale-data banner, footer) lives here; see :mod:`portal.layout` for what pages use.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any, Final

import dash
import flask
from dash import Input, Output, dcc, html

from portal import geometry, layout, prerender, verifier
from portal.compress import Compressor
from portal.i18n import text
from web.cache import DataUnavailableError, data_version, is_stale, memoize_derived
from web.formatting import Lang
from web.layout import attrs

log = logging.getLogger("vaxviet.portal")

PAGES_DIR = Path(__file__).resolve().parent / "pages"
#: the server-rendered copy of the page, removed by assets/prerendered.js once Dash has
#: rendered the page itself
PRERENDERED_ID: Final = "portal-prerendered"


def frame(lang: Lang = "vi", path: str = "/", page: Any = None, banner: Any = None) -> html.Div:
    """The layout around every page: `page` in ``<main>`` (Dash's page container when None).

    Dash gets it in Vietnamese and :func:`frame_for` switches its texts to the URL's
    language; the server-rendered copy (:func:`prerendered`) is built in the right one."""
    other: Lang = "vi" if lang == "en" else "en"
    return html.Div(
        [
            dcc.Location(id=layout.URL_ID, refresh="callback-nav"),
            html.A(text("nav.skip", lang), href="#main", className="skip-link"),
            html.Header(
                [
                    html.Div(
                        [
                            html.A("VaxViet", href="/", className="brand"),
                            html.Span(
                                text("site.tagline", lang),
                                id=layout.TAGLINE_ID,
                                className="tagline",
                            ),
                        ],
                        className="brand-block",
                    ),
                    html.Nav(
                        layout.nav(lang, path),
                        id=layout.NAV_ID,
                        **attrs(aria_label="VaxViet"),
                    ),
                    dcc.Link(
                        text("lang.switch", lang),
                        href=layout.href(path, other),
                        id=layout.LANG_LINK_ID,
                        className="lang-link",
                        title=text("lang.switch_label", lang),
                    ),
                ],
                className="site-header",
            ),
            html.Div(banner, id=layout.BANNER_ID, role="status"),
            html.Main(dash.page_container if page is None else page, id="main", tabIndex="-1"),
            html.Footer(
                html.P(text("footer.licence", lang), id="site-licence"), className="site-footer"
            ),
        ],
        id=layout.ROOT_ID,
        lang=lang,
    )


def _banner(lang: Lang) -> html.Div | None:
    """The stale-data banner when this request's figures came from fallback copies."""
    try:
        data_version()
        stale = is_stale()
    except DataUnavailableError:
        stale = True
    return html.Div(text("banner.stale", lang), className="banner", role="alert") if stale else None


def frame_for(pathname: str | None, search: str | None) -> tuple[object, ...]:
    """The frame's texts and links for the page at `pathname` + `search`, and the banner
    when the figures come from the cache because the warehouse is unreachable."""
    lang = layout.lang_of_search(search)
    other: Lang = "vi" if lang == "en" else "en"
    path = pathname or "/"
    return (
        layout.href(path, other),
        text("lang.switch", lang),
        text("lang.switch_label", lang),
        layout.nav(lang, path),
        text("site.tagline", lang),
        _banner(lang),
        lang,
        text("footer.licence", lang),
    )


def _page_for(path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The registered page serving `path` and the variables of its path template."""
    asked = path.split("/")
    for page in dash.page_registry.values():
        if page.get("path") == path:
            return page, {}
        template = str(page.get("path_template") or "").split("/")
        if len(template) != len(asked):
            continue
        variables = {}
        for want, got in zip(template, asked, strict=True):
            if want.startswith("<") and want.endswith(">") and got:
                variables[want[1:-1]] = got
            elif want != got:
                break
        else:
            return page, variables
    return None


@memoize_derived
def _page_html(path: str, lang: Lang) -> tuple[str, str] | None:
    return _render_page(path, {"lang": lang} if lang == "en" else {})


def _render_page(path: str, query: dict[str, str]) -> tuple[str, str] | None:
    """(title, HTML) of the page at `path` with `query`, as Dash would show it."""
    found = _page_for(path)
    if found is None:
        return None
    page, variables = found
    content = page["layout"](**variables, **query) if callable(page["layout"]) else page["layout"]
    title = page["title"](**variables) if callable(page["title"]) else page["title"]
    return str(title), prerender.to_html(content)


def prerendered(path: str, query: Mapping[str, str]) -> tuple[str, str, Lang] | None:
    """(title, HTML of frame and page, language) of the page a visitor asked for; None when
    no page serves `path`. Pages whose query holds only the language are cached on the data
    version if their path is a page's own (not a template's, like ``/province/<code>``);
    others are rendered for their request only, so made-up URLs add no cache entries."""
    lang = layout.lang_from(query)
    fixed = any(page.get("path") == path for page in dash.page_registry.values())
    cached = fixed and set(query) <= {"lang"}
    page = _page_html(path, lang) if cached else _render_page(path, dict(query))
    if page is None:
        return None
    title, body = page
    marker = "\x00page\x00"
    whole = prerender.to_html(frame(lang, path, marker, _banner(lang)))
    return title, whole.replace(escape(marker, quote=False), body, 1), lang


#: a script tag as Dash writes them
SCRIPT: Final = re.compile(r'<script src="([^"]+)"></script>')
PARKED: Final = "text/x-vaxviet-after-paint"
#: runs the parked scripts in order once a frame of the page has been painted (or after
#: 300 ms, e.g. in a background tab, which paints no frame), then starts Dash's renderer
AFTER_PAINT: Final = """var renderer;
(function () {
  var parked = document.querySelectorAll('script[type="PARKED"]'), started = false;
  function start() {
    if (started) { return; }
    started = true;
    Array.prototype.forEach.call(parked, function (old, i) {
      var script = document.createElement("script");
      script.src = old.src;
      script.async = false;
      if (i === parked.length - 1) {
        script.onload = function () { renderer = new DashRenderer(); };
      }
      document.body.appendChild(script);
    });
  }
  requestAnimationFrame(function () { setTimeout(start, 0); });
  setTimeout(start, 300);
})();""".replace("PARKED", PARKED)
#: the link Dash writes for a stylesheet of the assets folder
STYLESHEET: Final = re.compile(r'<link rel="stylesheet" href="/assets/([\w.-]+\.css)\?m=[\d.]+">')


class PortalDash(dash.Dash):
    """Dash whose HTML carries the requested page, rendered on the server (see
    :mod:`portal.prerender`): readable before, and without, the scripts. The portal's own
    styles (4 kB) come inside it too, so the first paint waits for no other request."""

    @functools.cache  # noqa: B019 (one app per process; the assets do not change)
    def _style(self, name: str) -> str:
        return (Path(self.config.assets_folder) / name).read_text(encoding="utf-8")

    def _inline_style(self, link: re.Match[str]) -> str:
        return f"<style>{self._style(link[1])}</style>"

    def _config(self) -> dict[str, Any]:
        """Dash's front-end configuration without the per-page-load ``end_id``: it binds
        background callbacks (the portal has none) to a page load, and it would make every
        copy of a page differ, so that web processes sharing one data version could not give
        a browser the same page (and ``ETag``) — :mod:`portal.stored`."""
        config: dict[str, Any] = super()._config()
        config.pop("end_id", None)
        return config

    def csp_hashes(self, hash_algorithm: str = "sha256") -> list[str]:
        """Dash's inline scripts, and the one that starts the parked scripts after paint
        (it replaces Dash's renderer script in a server-rendered page): the page policy
        allows exactly these (:mod:`web.security`)."""
        from web.security import script_hash

        return [*super().csp_hashes(hash_algorithm), script_hash(AFTER_PAINT)]

    def interpolate_index(self, **kwargs: Any) -> Any:  # type: ignore[override]
        """Dash's HTML with the server-rendered page before the app's entry point, the
        page's title and ``<html lang>``."""
        path = flask.request.path
        try:
            rendered = prerendered(path, flask.request.args.to_dict())
        except Exception:  # the page still works: Dash renders it itself
            log.exception("server rendering of %s failed", path)
            rendered = None
        if rendered is None:
            return super().interpolate_index(**kwargs)
        title, body, lang = rendered
        # Dash's scripts (1.2 MB) start downloading at once (preload) but run only after the
        # browser has painted the server-rendered page: parked under a type browsers do not
        # run, then started in order by AFTER_PAINT, which starts the renderer after them
        sources = SCRIPT.findall(kwargs["scripts"])
        kwargs["scripts"] = SCRIPT.sub(
            rf'<script type="{PARKED}" src="\1"></script>', kwargs["scripts"]
        )
        kwargs["renderer"] = kwargs["renderer"].replace(
            "var renderer = new DashRenderer();", AFTER_PAINT
        )
        preloads = "".join(f'<link rel="preload" as="script" href="{s}">' for s in sources)
        kwargs["css"] = STYLESHEET.sub(self._inline_style, kwargs["css"]) + preloads
        kwargs["title"] = escape(title, quote=False)
        kwargs["app_entry"] = f'<div id="{PRERENDERED_ID}">{body}</div>' + kwargs["app_entry"]
        index = str(super().interpolate_index(**kwargs))
        return index.replace("<html>", f'<html lang="{lang}">', 1)


def create_portal(server: flask.Flask) -> dash.Dash:
    app = PortalDash(
        "portal",
        server=server,  # type: ignore[arg-type]  # Dash annotates only bool | callable
        url_base_pathname="/",
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        serve_locally=True,
        title="VaxViet",
        update_title=None,  # type: ignore[arg-type]  # None is documented: no "Updating…"
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        # Dash would otherwise build every page's layout on the first request and send them
        # all (~430 kB) inside every page's HTML for the browser to check callback IDs
        # against; tests/integration/test_portal_app.py checks them instead.
        suppress_callback_exceptions=True,
    )
    app.layout = frame()
    app.callback(
        Output(layout.LANG_LINK_ID, "href"),
        Output(layout.LANG_LINK_ID, "children"),
        Output(layout.LANG_LINK_ID, "title"),
        Output(layout.NAV_ID, "children"),
        Output(layout.TAGLINE_ID, "children"),
        Output(layout.BANNER_ID, "children"),
        Output(layout.ROOT_ID, "lang"),
        Output("site-licence", "children"),
        Input(layout.URL_ID, "pathname"),
        Input(layout.URL_ID, "search"),
    )(frame_for)
    Compressor().register(server)
    geometry.register(server)
    verifier.register(server, frame)
    return app
