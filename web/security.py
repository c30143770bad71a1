"""The headers every answer of the platform carries, set in one place: the outermost WSGI
middleware of the web process (:class:`SecurityHeaders`), so pages, Dash's requests, the
API, exports, stored answers and the answers turned away under load all get them.

Per kind of path (:func:`kind_of`):

* ``Content-Security-Policy``: a page (``text/html``) may run only the platform's own
  scripts and the inline scripts whose SHA-256 the Dash apps list (no ``unsafe-inline``
  scripts, no ``eval``); it loads everything else from its own origin, may not be framed
  (``frame-ancestors 'none'``), embeds no plugins, keeps its ``<base>`` and posts forms only
  to itself. Styles may be inline: Dash and Plotly set them from script. Any other answer
  (JSON, CSV, scripts, images) gets ``default-src 'none'``: opened on its own it runs
  nothing; a service worker's script gets ``default-src 'self'`` (the worker runs under its
  script's policy and fetches the page's files). Violations are reported to
  :data:`REPORT_PATH` (:func:`csp_report`).
* ``X-Frame-Options: DENY`` beside ``frame-ancestors`` (browsers that know only the older
  header), ``X-Content-Type-Options: nosniff``, ``Cross-Origin-Opener-Policy: same-origin``.
* ``Referrer-Policy``: ``no-referrer`` on the certificate lookup, the verifier and the
  internal pages (nothing of them reaches another site, not even their path);
  ``strict-origin-when-cross-origin`` elsewhere.
* ``Permissions-Policy``: camera, microphone, geolocation, payment and USB denied, except the
  camera on the verifier page (the desk scans a certificate with it).
* ``Strict-Transport-Security`` only in production mode, which is served behind TLS; never
  in the embedded demo over plain HTTP.

The headers are computed once per kind (a request costs a path test and a list copy); the
script hashes are known once the Dash apps are built (:meth:`SecurityHeaders.allow_scripts`).
docs/security.md gives each header's reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

log = logging.getLogger("vaxviet.web.security")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Kind = Literal["public", "lookup", "verifier", "internal"]

#: where browsers send the reports of what a page's policy blocked
REPORT_PATH: Final = "/csp-report"
#: the headers this module sets (an app's own value of one is replaced)
SET: Final = frozenset(
    {"content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy",
     "permissions-policy", "cross-origin-opener-policy", "strict-transport-security"}
)  # fmt: skip
HSTS: Final = "max-age=31536000; includeSubDomains"
#: features no page may use; the verifier's page may use the camera
DENIED_FEATURES: Final = ("camera", "microphone", "geolocation", "payment", "usb")
#: what a non-page answer may do when opened on its own: nothing (but the browser's own
#: request for the site's icon, which it makes for any document it shows)
RESOURCE_POLICY: Final = (
    "default-src 'none'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: service workers: a worker runs under the policy of its own script's answer, and the
#: verifier's (:mod:`portal.verifier`) fetches the page's files from its own origin
WORKER_SCRIPTS: Final = frozenset({"/verify/sw.js"})
WORKER_POLICY: Final = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"


def script_hash(script: str) -> str:
    """The CSP source allowing the inline script whose text is `script`."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def kind_of(path: str) -> Kind:
    """Which kind of page or endpoint `path` is."""
    if path == "/internal" or path.startswith("/internal/"):
        return "internal"
    if path == "/verify" or path.startswith("/verify/"):
        return "verifier"
    if path == "/certificate" or path.startswith(("/certificate/", "/api/v1/certificate/")):
        return "lookup"
    return "public"


def page_policy(script_hashes: Sequence[str], production: bool) -> str:
    """The Content-Security-Policy of every page."""
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *sorted(set(script_hashes))]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        # report-uri, not report-to: with report-to, headless Chromium (as the tests run it)
        # delivered no report within 20 s (the Reporting API sends in batches, later);
        # report-uri's arrive at once, from every browser
        f"report-uri {REPORT_PATH}",
    ]
    if production:
        directives.append("upgrade-insecure-requests")
    return "; ".join(directives)


def permissions(kind: Kind) -> str:
    allowed = {"camera"} if kind == "verifier" else set()
    return ", ".join(
        f"{feature}=(self)" if feature in allowed else f"{feature}=()"
        for feature in DENIED_FEATURES
    )


def referrer(kind: Kind) -> str:
    return "strict-origin-when-cross-origin" if kind == "public" else "no-referrer"


@dataclass
class Headers:
    """The headers of each kind, for pages and for other answers."""

    production: bool
    script_hashes: tuple[str, ...] = ()
    pages: dict[Kind, list[tuple[str, str]]] = field(default_factory=dict)
    others: dict[Kind, list[tuple[str, str]]] = field(default_factory=dict)
    workers: dict[Kind, list[tuple[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.build()

    def build(self) -> None:
        policy = page_policy(self.script_hashes, self.production)
        for kind in ("public", "lookup", "verifier", "internal"):
            common = [
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"),
                ("Referrer-Policy", referrer(kind)),
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Permissions-Policy", permissions(kind)),
            ]
            if self.production:
                common.append(("Strict-Transport-Security", HSTS))
            self.pages[kind] = [*common, ("Content-Security-Policy", policy)]
            self.others[kind] = [*common, ("Content-Security-Policy", RESOURCE_POLICY)]
            self.workers[kind] = [*common, ("Content-Security-Policy", WORKER_POLICY)]

    def for_answer(self, path: str, content_type: str) -> list[tuple[str, str]]:
        kind = kind_of(path)
        if content_type.startswith("text/html"):
            return self.pages[kind]
        return self.workers[kind] if path in WORKER_SCRIPTS else self.others[kind]


def plain_headers(production: bool) -> list[tuple[str, str]]:
    """The headers of an answer the platform's other processes write themselves (the
    front's and the edge's "busy" and error answers): no page policy, nothing runs."""
    return list(Headers(production).others["public"])


class SecurityHeaders:
    """WSGI middleware giving every answer of `app` the headers of its kind (see the
    module's text); `production` adds Strict-Transport-Security and upgrades requests."""

    def __init__(self, app: WsgiApp, production: bool) -> None:
        self.app = app
        self.headers = Headers(production)

    def allow_scripts(self, hashes: Iterable[str]) -> None:
        """Let pages run the inline scripts of these CSP hashes (``'sha256-…'``)."""
        self.headers = Headers(
            self.headers.production, tuple(sorted({*self.headers.script_hashes, *hashes}))
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        headers = self.headers

        def start(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> Any:
            if status.startswith("304"):
                # a revalidation: the browser keeps the headers it stored with the answer
                # (a 304's own would replace them, and a 304 has no type to choose them by)
                return start_response(status, response_headers, *exc)
            content_type = ""
            kept = []
            for name, value in response_headers:
                lowered = name.lower()
                if lowered == "content-type":
                    content_type = value
                if lowered not in SET:
                    kept.append((name, value))
            kept.extend(headers.for_answer(path, content_type))
            return start_response(status, kept, *exc)

        return self.app(environ, start)

    def status(self) -> dict[str, Any]:
        return {"script_hashes": len(self.headers.script_hashes), **REPORTS.status()}


# -- violation reports ------------------------------------------------------------------------

#: the largest report body read
MAX_REPORT_BYTES: Final = 32 * 1024
#: reports accepted from one client address per minute (more: 429)
CLIENT_REPORTS_PER_MINUTE: Final = 30
#: log lines per minute for the whole process; the others are counted, not written
LOG_LINES_PER_MINUTE: Final = 60
#: client addresses remembered for the per-client limit
MAX_CLIENTS: Final = 10_000


@dataclass(frozen=True)
class Violation:
    """What a report says, reduced to what an operator needs and nothing of the visitor:
    paths without their query, other origins without their path."""

    directive: str
    blocked: str
    page: str
    source: str
    line: int
    disposition: str

    def describe(self) -> str:
        where = f" at {self.source}:{self.line}" if self.source else ""
        return (
            f"CSP {self.disposition}: {self.directive} blocked {self.blocked or '?'} "
            f"on {self.page or '?'}{where}"
        )


def _place(url: str, page_origin: str) -> str:
    """A URL as the log may show it: a keyword (inline, eval, data, …) as is, a URL of
    the page's own origin as its path, another origin as the origin only."""
    if not url or "/" not in url:
        return url[:40]
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return parts.scheme or "?"
    origin = f"{parts.scheme}://{parts.netloc}"
    return parts.path[:200] if origin == page_origin else origin


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def parse_reports(body: bytes) -> list[Violation]:
    """The violations in a report body: the older ``application/csp-report`` form (one
    ``{"csp-report": {…}}``) or the Reporting API's list. Raises ValueError when the body is
    neither."""
    document = json.loads(body)
    raw: list[dict[str, Any]] = []
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        old = document["csp-report"]
        raw.append(
            {
                "documentURL": old.get("document-uri", ""),
                "blockedURL": old.get("blocked-uri", ""),
                "effectiveDirective": old.get("effective-directive")
                or old.get("violated-directive", ""),
                "sourceFile": old.get("source-file", ""),
                "lineNumber": old.get("line-number", 0),
                "disposition": old.get("disposition", "enforce"),
            }
        )
    elif isinstance(document, list):
        raw.extend(
            report["body"]
            for report in document
            if isinstance(report, dict)
            and report.get("type") == "csp-violation"
            and isinstance(report.get("body"), dict)
        )
    else:
        raise ValueError("not a CSP report")
    violations = []
    for item in raw:
        page_url = str(item.get("documentURL", ""))
        origin = _origin(page_url)
        line = item.get("lineNumber", 0)
        violations.append(
            Violation(
                directive=str(item.get("effectiveDirective", ""))[:40],
                blocked=_place(str(item.get("blockedURL", "")), origin),
                page=urlsplit(page_url).path[:200],
                source=_place(str(item.get("sourceFile", "")), origin),
                line=int(line) if isinstance(line, int) else 0,
                disposition="report" if item.get("disposition") == "report" else "enforce",
            )
        )
    return violations


class Reports:
    """Counts of the reports received, and the limits on them: per client address
    (`CLIENT_REPORTS_PER_MINUTE`) and on log lines (`LOG_LINES_PER_MINUTE`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[float, int]] = {}
        self._log_window = (0.0, 0)
        self.received = 0
        self.violations = 0
        self.logged = 0
        self.limited = 0
        self.bad = 0
        self.recent: list[Violation] = []

    def admit(self, client: str, now: float | None = None) -> bool:
        """Whether `client` may send one more report now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self.received += 1
            start, count = self._clients.get(client, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            if count >= CLIENT_REPORTS_PER_MINUTE:
                self.limited += 1
                return False
            if client not in self._clients and len(self._clients) >= MAX_CLIENTS:
                self._clients.clear()  # a flood of addresses: start counting again
            self._clients[client] = (start, count + 1)
            return True

    def reject(self) -> None:
        with self._lock:
            self.bad += 1

    def record(self, violations: list[Violation], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.violations += len(violations)
            self.recent = (self.recent + violations)[-20:]
            start, count = self._log_window
            if now - start >= 60:
                start, count = now, 0
            shown = violations[: max(0, LOG_LINES_PER_MINUTE - count)]
            self._log_window = (start, count + len(shown))
            self.logged += len(shown)
        for violation in shown:
            log.warning("%s", violation.describe())

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "reports": {
                    "received": self.received,
                    "violations": self.violations,
                    "logged": self.logged,
                    "limited": self.limited,
                    "bad": self.bad,
                }
            }


REPORTS: Final = Reports()


def csp_report() -> Any:
    """``POST /csp-report``: a browser's report of what a page's policy blocked. Logged
    (without the visitor's data) and counted in /healthz; 204, or 400/413/429."""
    import flask

    request = flask.request
    client = hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:16]
    if not REPORTS.admit(client):
        return flask.Response(status=429, headers={"Retry-After": "60"})
    length = request.content_length
    if length is not None and length > MAX_REPORT_BYTES:
        REPORTS.reject()
        return flask.Response("report too large\n", status=413, mimetype="text/plain")
    body = request.stream.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        REPORTS.reject()
        return flask.Response("report too large\n", status=413, mimetype="text/plain")
    try:
        violations = parse_reports(body)
    except (ValueError, TypeError, AttributeError):
        REPORTS.reject()
        return flask.Response("not a CSP report\n", status=400, mimetype="text/plain")
    REPORTS.record(violations)
    response = flask.Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
