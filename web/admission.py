"""Shedding load early and honestly: under more load than the machine can serve, a request
that arrives behind a full queue is answered ``503 Service Unavailable`` with
``Retry-After`` at once, instead of every visitor waiting for time-outs.

The web server (waitress) runs `VAX_WEB_THREADS` requests at once and queues the others
until a thread is free; it notes on each request how many were already waiting when it
was queued (:mod:`vaxviet.serving`). :class:`Admission`, the outermost WSGI middleware,
turns away a request that found more than `bound` requests ahead of it (`VAX_SHED_QUEUE`,
64 by default): such a request costs little, so the queue drains quickly and the requests
that are served wait behind at most `bound` others. The bound only sees requests waitress
has read: past what one process serves, requests wait unread in socket buffers first, and
then nothing is turned away (docs/benchmarks.md, "Portal under a crowd"). A request that found the
queue shorter is served whatever the load. While no more requests are in flight than there
are threads (a closed crowd of 128 visitors on 128 threads, say) the queue stays empty and
nobody is turned away.

Never turned away (:func:`is_priority`): ``/healthz`` (an orchestrator must see the
process alive), the certificate lookup's API (``/api/v1/certificate/…``) and the desk's two
pages, the lookup and the verifier, with every request a browser that opened one of them
makes (a citizen or a health worker at a vaccination desk), which wait their turn like
before. Those requests are known by the desk cookie (:data:`DESK_COOKIE`), which the answer
to a desk page sets (:func:`desk_cookie`): the pages send no ``Referer`` (their policy is
``no-referrer``, :mod:`web.security`), and a cookie says nothing of the visitor — the same
``1`` for everyone who opened a desk page in the last `DESK_SECONDS`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

log = logging.getLogger("vaxviet.web")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: a request queued behind more than this many others is turned away
BOUND: Final = 256
#: what a turned-away client is told to wait before trying again (seconds)
RETRY_AFTER: Final = 5
#: paths served whatever the load
PRIORITY: Final = ("/healthz", "/api/v1/certificate/", "/api/v1/trust-list")
#: the desk's pages (the certificate lookup, the verifier): they and every request their
#: browser makes (Dash's layout and callbacks, the bundles) are served whatever the load
DESK_PAGES: Final = ("/certificate", "/verify")
#: the cookie by which a desk page's browser is known, and how long it lasts (a shift)
DESK_COOKIE: Final = "vax_desk"
DESK_SECONDS: Final = 12 * 3600
_DESK = re.compile(rf"(?:^|;)\s*{DESK_COOKIE}=1(?:;|$)")


def desk_cookie(secure: bool) -> str:
    """The ``Set-Cookie`` value an answer to a desk page carries (``Secure`` in production)."""
    return f"{DESK_COOKIE}=1; Path=/; Max-Age={DESK_SECONDS}; SameSite=Strict; HttpOnly" + (
        "; Secure" if secure else ""
    )


def is_priority(path: str, cookie: str = "") -> bool:
    """Whether a request is never turned away: /healthz, the certificate API, the desk
    pages and what their browser asks for (`cookie`: the request's Cookie header). (A
    cookie can be forged: the front bounds how many such requests are inside at once,
    docs/scaling.md.)"""
    return path.startswith(PRIORITY) or path in DESK_PAGES or bool(cookie and _DESK.search(cookie))


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
    """WSGI middleware turning away requests queued behind more than `bound` others.

    `ahead(environ)` is how many requests were waiting for a thread when this one was
    queued (None when unknown, e.g. under a server that does not note it: then nothing is
    turned away); `waited(environ)`, how long it waited (for the log)."""

    def __init__(
        self,
        app: WsgiApp,
        ahead: Callable[[Environ], int | None],
        waited: Callable[[Environ], float | None],
        bound: int = BOUND,
        retry_after: int = RETRY_AFTER,
        secure: bool = False,
    ) -> None:
        self.app = app
        self.desk = desk_cookie(secure)
        self.ahead = ahead
        self.waited = waited
        self.bound = bound
        self.retry_after = retry_after
        self.shed = 0
        self._lock = threading.Lock()
        self._last_log = 0.0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in DESK_PAGES:
            return self.app(environ, self._marking(start_response))
        if is_priority(path, environ.get("HTTP_COOKIE", "")):
            return self.app(environ, start_response)
        ahead = self.ahead(environ)
        if ahead is None or ahead <= self.bound:
            return self.app(environ, start_response)
        return self._turn_away(environ, start_response, ahead)

    def _marking(self, start_response: StartResponse) -> StartResponse:
        """`start_response` adding the desk cookie to the answer (:func:`desk_cookie`)."""

        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, ("Set-Cookie", self.desk)], *exc)

        return start

    def _turn_away(
        self, environ: Environ, start_response: StartResponse, ahead: int
    ) -> Iterable[bytes]:
        with self._lock:
            self.shed += 1
            now = time.monotonic()
            report = now - self._last_log >= 10
            if report:
                self._last_log = now
        if report:
            waited = self.waited(environ)
            log.warning(
                "overloaded: turning requests away (%d so far; this one found %d ahead "
                "and waited %.0f ms)",
                self.shed,
                ahead,
                (waited or 0.0) * 1000,
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
        return {"bound": self.bound, "shed": self.shed}
