"""gzip for the portal's responses that are not stored answers.

Stored answers (:mod:`web.stored`: the pages, Dash's JSON, the public callbacks, the script
bundles) are compressed once by the store itself, which computes them without
``Accept-Encoding``, so this hook leaves them alone. What reaches it compressed is what the
store passes by: pages with other query parameters, a province page's template path, the
public callbacks while the data come from fallback copies. Compressed as they are sent,
only for clients that send ``Accept-Encoding: gzip``, only on the portal's paths (not the
internal dashboards under ``/internal/``), and of the callback answers only those of the
public figures (:data:`PUBLIC_OUTPUTS`).
"""

from __future__ import annotations

import gzip
from typing import Final

import flask

#: responses smaller than this go as they are
MIN_BYTES: Final = 1024
LEVEL: Final = 6
COMPRESSIBLE: Final = frozenset(
    {"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
     "text/csv"}
)  # fmt: skip
SKIPPED_PREFIXES: Final = ("/internal",)
#: callback answers compressed: the public figures only. Answers of the certificate pages
#: carry a citizen's data next to what was typed in; compressing secrets beside input an
#: attacker may choose leaks them through the compressed size (BREACH), so they go as they are.
PUBLIC_OUTPUTS: Final = ("..home-", "home-", "..province-", "province-", ".._pages_content.")


class Compressor:
    """An ``after_request`` hook compressing `server`'s portal responses with gzip."""

    def register(self, server: flask.Flask) -> None:
        server.after_request(self)

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
        response.set_data(gzip.compress(body, LEVEL))
        response.headers["Content-Encoding"] = "gzip"
        return response
