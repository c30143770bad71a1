"""Warm the portal's cache when the data changes, so that no visitor pays the cold queries.

Every memoized value is keyed on the data version (:mod:`web.cache`): after each ETL
commit the first request for a page would read doses per province and day again (about
0.6 s at 50 M doses) and build the page. :class:`CacheWarmer` is a thread that checks the
data version as often as the cache re-reads it and, when it has changed (and once at
start-up), renders the pages most visitors open first — the server-rendered home page in
both languages — which fills the data functions every other page and the open-data API
read too, and then publishes that version: visitors see a new version only once it is warm
(:func:`web.cache.publish`); once, after the first warm-up, it also has the script bundles compressed
(:func:`warm_bundles`). ``python -m vaxviet serve`` starts it; tests that build a server themselves do
not, so they keep full control of the cache.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Final

import flask
from werkzeug.test import EnvironBuilder

from web import stored
from web.cache import VERSION_SECONDS, newest_data_version, newest_version
from web.warm import VersionWarmer

log = logging.getLogger("vaxviet.portal")

#: what Dash fetches after its bundles on a page with a date field and a graph
LATER_CHUNKS: Final = (
    "/_dash-component-suites/dash/dcc/async-datepicker.js",
    "/_dash-component-suites/dash/dcc/async-graph.js",
    "/_dash-component-suites/plotly/package_data/plotly.min.js",
)
#: (path, query) of the pages rendered on every new data version
WARM_PAGES: Final[tuple[tuple[str, dict[str, str]], ...]] = (("/", {}), ("/", {"lang": "en"}))


def warm_bundles(server: flask.Flask) -> int:
    """Fetch the home page's script bundles and the chunks Dash loads after them once, as a
    browser accepting gzip would, so that the stored answers (:mod:`web.stored`) hold them
    compressed before the first visitor asks (plotly.js takes ~0.13 s to compress). Returns
    how many."""
    client = server.test_client()
    html = client.get("/").get_data()
    paths = {m.decode() for m in re.findall(rb'src="(/_dash-component-suites/[^"]+)"', html)}
    paths |= set(LATER_CHUNKS)
    for path in paths:
        client.get(path, headers={"Accept-Encoding": "gzip"})
    return len(paths)


def warm(server: flask.Flask) -> str:
    """Render :data:`WARM_PAGES` on `server` (filling its cache), then compute for the new
    version the answers visitors asked most at the current one (:mod:`web.stored`); returns
    the data version."""
    from portal.app import prerendered

    version = ""
    with newest_version():
        for path, query in WARM_PAGES:
            with server.test_request_context(path, query_string=query):
                version = newest_data_version()
                prerendered(path, query)
        store = server.extensions.get(stored.EXTENSION_KEY)
        if store is not None and version:
            started = time.monotonic()
            count = store.refill(version, store.popular(), EnvironBuilder("/").get_environ())
            log.info(
                "stored answers: %d computed for data version %s in %.0f ms",
                count,
                version,
                (time.monotonic() - started) * 1000,
            )
    return version


class CacheWarmer(VersionWarmer):
    """The portal's warmer: the home page at the newest version, then that version
    published to visitors; the script bundles compressed once."""

    label = "portal cache"
    log = log

    def __init__(self, server: flask.Flask, interval: float = VERSION_SECONDS):
        super().__init__(server, interval)
        self._bundles_warm = False

    def warm(self) -> str:
        return warm(self.server)

    def after_pass(self) -> None:
        super().after_pass()  # visitors move to the warmed version now
        store = self.server.extensions.get(stored.EXTENSION_KEY)
        if store is not None and self.warmed:
            store.adopt(self.warmed)  # with the answers computed for it
        if not self._bundles_warm:
            started = time.monotonic()
            count = warm_bundles(self.server)
            self._bundles_warm = True
            log.info(
                "portal bundles compressed: %d in %.0f ms",
                count,
                (time.monotonic() - started) * 1000,
            )
