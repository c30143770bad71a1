"""gzip for the portal's responses: its pages, Dash's JSON and the script bundles.

A first visit fetches about 6.6 MB, 4.8 MB of it plotly.js; gzip makes that about 1.9 MB,
which is what a phone on a slow network waits for. Dash's own files (``/_dash-component-
suites/``) and the portal's assets never change while the server runs, so each is compressed
once and kept in memory; pages and callback answers are compressed as they are sent (a few
ms for the largest, the home page's 365 kB). Only for clients that send ``Accept-Encoding:
gzip``, only on the portal's paths (not the internal dashboards under ``/internal/``), and of the callback answers only
those of the public figures (:data:`PUBLIC_OUTPUTS`).
"""

from __future__ import annotations

import gzip
import threading
from typing import Final

import flask

#: responses smaller than this go as they are
MIN_BYTES: Final = 1024
LEVEL: Final = 6
COMPRESSIBLE: Final = frozenset(
    {"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
     "text/csv"}
)  # fmt: skip
#: paths whose bytes are fixed for the life of the process: compressed once
STATIC_PREFIXES: Final = ("/_dash-component-suites/", "/assets/")
SKIPPED_PREFIXES: Final = ("/internal",)
#: callback answers compressed: the public figures only. Answers of the certificate pages
#: carry a citizen's data next to what was typed in; compressing secrets beside input an
#: attacker may choose leaks them through the compressed size (BREACH), so they go as they are.
PUBLIC_OUTPUTS: Final = ("..home-", "home-", "..province-", "province-", ".._pages_content.")


class Compressor:
    """An ``after_request`` hook compressing `server`'s portal responses with gzip."""

    def __init__(self) -> None:
        self._static: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def register(self, server: flask.Flask) -> None:
        server.after_request(self)

    def _compressed(self, key: str | None, body: bytes) -> bytes:
        if key is None:
            return gzip.compress(body, LEVEL)
        with self._lock:
            cached = self._static.get(key)
        if cached is None:
            cached = gzip.compress(body, LEVEL)
            with self._lock:
                self._static[key] = cached
        return cached

    def __call__(self, response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            response.status_code != 200
            or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE
            or request.path.startswith(SKIPPED_PREFIXES)
        ):
            return response
        response.vary.add("Accept-Encoding")
        if "gzip" not in request.accept_encodings:
            return response
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        if request.path.endswith("/_dash-update-component"):
            asked = request.get_json(silent=True) or {}
            if not str(asked.get("output", "")).startswith(PUBLIC_OUTPUTS):
                return response
        static = request.path.startswith(STATIC_PREFIXES)
        response.set_data(self._compressed(request.full_path if static else None, body))
        response.headers["Content-Encoding"] = "gzip"
        return response
