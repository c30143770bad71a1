"""The warmer's loop both apps run: a thread that, on each new data version, fills the cache
with the pages their visitors open first and then publishes that version to them
(:func:`web.cache.publish`), so no visitor pays the cold queries. :mod:`portal.warm` and
:mod:`dashboards.warm` say which pages and for which audience.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Self

import flask

from web.cache import PORTAL_AUDIENCE, VERSION_SECONDS, newest_data_version, publish

log = logging.getLogger("vaxviet.web")


class VersionWarmer:
    """A daemon thread that, whenever the newest data version changes (and once at
    start-up), calls :meth:`warm` to fill `server`'s cache, then, on every pass, publishes
    the version warmed to its :attr:`audience` (:meth:`after_pass`): that audience moves to
    a version once its pages are built. The portal's and the internal dashboards' warmers
    are this loop with their own pages and audiences."""

    label = "cache"  # in the log lines: "<label> warm for data version …"
    log = log
    #: whose publication (:func:`web.cache.publish`) the warmed version becomes
    audience: str = PORTAL_AUDIENCE

    #: at least this many seconds between the starts of two warm passes (0: none), so a
    #: source committing every second does not keep a core busy warming
    min_period: float = 0.0

    def __init__(self, server: flask.Flask, interval: float = VERSION_SECONDS):
        self.server = server
        self.interval = interval
        self.warmed = ""  # the data version last warmed
        self._last_started = -float("inf")
        self._stop = threading.Event()
        name = f"{self.label.replace(' ', '-')}-warmer"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def current_version(self) -> str:
        """The version to warm: the newest (its audience sees it once published)."""
        with self.server.app_context():
            return newest_data_version()

    def warm(self) -> str:
        """Fill the cache for the current version; returns the version warmed."""
        raise NotImplementedError

    def after_pass(self) -> None:
        """After each pass, warm or not: publish the version warmed to :attr:`audience`
        (renewed every pass, so the publication lapses only if the warmer stops)."""
        if self.warmed:
            with self.server.app_context():
                publish(self.warmed, to=self.audience)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due = time.monotonic() - self._last_started >= self.min_period
                if due and self.current_version() != self.warmed:
                    started = self._last_started = time.monotonic()
                    self.warmed = self.warm()
                    self.log.info(
                        "%s warm for data version %s in %.0f ms",
                        self.label,
                        self.warmed,
                        (time.monotonic() - started) * 1000,
                    )
                self.after_pass()
            except Exception as error:  # the warehouse may be away: try again later
                self.log.warning("%s warming failed: %s", self.label, error)
            self._stop.wait(self.interval)
