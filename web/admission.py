"""Shedding load early and honestly: under more load than the machine can serve, a request
that has waited too long for a thread is answered ``503 Service Unavailable`` with
``Retry-After`` at once, instead of every visitor waiting for time-outs.

The web server (waitress) queues each request until one of its threads is free; the server
stamps the time it queued it (:func:`vaxviet.serving` does). :class:`Admission`, the
outermost WSGI middleware, reads how long the request waited: past `max_wait` seconds the
machine is behind by that much, and the request is turned away in microseconds, which
drains the queue quickly and keeps the wait of the requests it does serve near the bound.
A request that has waited less is served whatever the load.

Never turned away: ``/healthz`` (an orchestrator must see the process alive) and the
certificate lookup (``/api/v1/certificate/…``, a citizen at a vaccination desk), which
wait their turn like before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

log = logging.getLogger("vaxviet.web")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: a request that waited longer than this for a thread is turned away (seconds)
MAX_WAIT: Final = 0.05
#: what a turned-away client is told to wait before trying again (seconds)
RETRY_AFTER: Final = 5
#: paths served whatever the load
PRIORITY: Final = ("/healthz", "/api/v1/certificate/", "/api/v1/trust-list")
BUSY_HTML: Final = (
    '<!doctype html><html lang="vi"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>VaxViet — quá tải / busy</title>"
    "<p>Cổng thông tin đang quá tải. Vui lòng thử lại sau vài giây.</p>"
    '<p lang="en">The portal is very busy. Please try again in a few seconds.</p></html>'
).encode()
BUSY_JSON: Final = (
    b'{"error": "busy", "message": "The portal is very busy: retry after a few seconds."}'
)


class Admission:
    """WSGI middleware turning away requests that waited over `max_wait` seconds.

    `waited(environ)` is how long the request waited for a thread (None when unknown, e.g.
    under a server that does not stamp requests: then nothing is turned away)."""

    def __init__(
        self,
        app: WsgiApp,
        waited: Callable[[Environ], float | None],
        max_wait: float = MAX_WAIT,
        retry_after: int = RETRY_AFTER,
    ) -> None:
        self.app = app
        self.waited = waited
        self.max_wait = max_wait
        self.retry_after = retry_after
        self.shed = 0
        self._lock = threading.Lock()
        self._last_log = 0.0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PRIORITY):
            return self.app(environ, start_response)
        waited = self.waited(environ)
        if waited is None or waited <= self.max_wait:
            return self.app(environ, start_response)
        return self._turn_away(environ, start_response, waited)

    def _turn_away(
        self, environ: Environ, start_response: StartResponse, waited: float
    ) -> Iterable[bytes]:
        with self._lock:
            self.shed += 1
            now = time.monotonic()
            report = now - self._last_log >= 10
            if report:
                self._last_log = now
        if report:
            log.warning(
                "overloaded: turning requests away (%d so far; this one waited %.0f ms)",
                self.shed,
                waited * 1000,
            )
        wants_html = "text/html" in environ.get("HTTP_ACCEPT", "")
        body = BUSY_HTML if wants_html else BUSY_JSON
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/html; charset=utf-8" if wants_html else "application/json"),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(self.retry_after)),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def status(self) -> dict[str, Any]:
        return {"max_wait_ms": round(self.max_wait * 1000), "shed": self.shed}
