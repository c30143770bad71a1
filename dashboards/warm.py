"""Warm the dashboards' cache on every new data version, so that an official's view after
an ETL commit does not pay the page's queries.

Every page is memoized on the data version (:mod:`dashboards.data`, :mod:`dashboards.memo`):
after each commit — every few seconds in live mode — the first view of each scope would
run the page's queries and build it (docs/benchmarks.md, "Internal dashboards").
:class:`DashboardWarmer` is a daemon thread that checks the newest data version every
`interval` seconds and, when it has changed (at most once every :data:`MIN_PERIOD_SECONDS`),
builds every page, scope and language an official drew within the last
:data:`RECENT_SECONDS` (at most :data:`MAX_SCOPES` of them, the most recent first) and then
**publishes** that version to the dashboards (:func:`web.cache.publish`): officials go on
seeing the version before until its pages are built, so the pages someone is watching are
never drawn cold. Nobody watching, no work. After a dose commit the stock figures and the
site register come from the cache (:func:`dashboards.data.memoize_tables`), so warming costs
the dose queries and the pages' pandas work. A scope nobody watched is built when asked,
off the request path (:mod:`dashboards.background`). ``python -m vaxviet serve`` starts the
warmer beside the portal's; tests that build a server themselves do not, so they keep full
control of the cache.
"""

from __future__ import annotations

import logging
import time
from typing import Final

import flask

from dashboards.auth import PREFIX
from dashboards.context import page_context
from dashboards.memo import AUDIENCE, body
from web.cache import newest_data_version, newest_version, use_audience
from web.formatting import Lang
from web.warm import VersionWarmer

log = logging.getLogger("vaxviet.dashboards")

#: scopes drawn within this many seconds are kept warm
RECENT_SECONDS: Final = 900
#: at most this many scopes
MAX_SCOPES: Final = 9
#: how often the data version is checked (the version itself is cached for 5 s)
INTERVAL_SECONDS: Final = 1.0
#: at least this long between two warm passes: a source committing every second costs one
#: pass per this many seconds (the pages' auto-refresh asks every 30 s)
MIN_PERIOD_SECONDS: Final = 10.0

Scope = tuple[str, str, Lang]  # (page, province, language)
#: server extension: (page, province, language) → when it was last drawn (monotonic seconds)
RECENT_KEY: Final = "vaxviet.dashboards.recent"


def remember(name: str, province: str, lang: Lang) -> None:
    """Note that page `name` was drawn for this scope and language just now (the scopes
    :func:`warm` keeps warm)."""
    recent = flask.current_app.extensions.setdefault(RECENT_KEY, {})
    recent[(name, province, lang)] = time.monotonic()


def scopes(server: flask.Flask, now: float) -> list[Scope]:
    """The scopes drawn within :data:`RECENT_SECONDS` of `now`, the most recent first."""
    recent: dict[Scope, float] = server.extensions.get(RECENT_KEY, {})
    seen = [(when, scope) for scope, when in list(recent.items()) if now - when <= RECENT_SECONDS]
    return [scope for _, scope in sorted(seen, reverse=True)][:MAX_SCOPES]


def warm(server: flask.Flask) -> str:
    """Build the pages of :func:`scopes` for the newest data version (filling `server`'s
    cache); returns that data version."""
    with server.test_request_context(f"{PREFIX}/"), newest_version():
        use_audience(AUDIENCE)
        version = newest_data_version()
        for name, province, lang in scopes(server, time.monotonic()):
            body(name, page_context(province, lang))
    return version


class DashboardWarmer(VersionWarmer):
    """The internal dashboards' warmer: the pages of :func:`scopes`, whenever the data
    version visitors see changes."""

    label = "dashboards"
    log = log
    min_period = MIN_PERIOD_SECONDS
    audience = AUDIENCE  # officials move to a version once its watched pages are built

    def __init__(self, server: flask.Flask, interval: float = INTERVAL_SECONDS):
        super().__init__(server, interval)

    def warm(self) -> str:
        return warm(self.server)
