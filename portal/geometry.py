"""The map's province boundaries as files the browser keeps: ``/geo/<name>.<digest>.geojson``.

The boundaries (190 kB for the 63 provinces, 156 kB for the 34) never change while the
server runs, so the map figure names them by URL (Plotly fetches a ``geojson`` given as a
string) instead of carrying them: a page view sends the values and hover texts only, and
the geometry travels once per visitor, cached for a year under a name that holds a digest
of its bytes (a new build of the boundaries is a new URL). Served compressed once by
:mod:`web.stored` like the script bundles.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Final

import flask

from geo.provinces import provinces_2025_geojson, provinces_geojson

ROUTE: Final = "/geo/<name>.<digest>.geojson"
#: geography (as the home page names it) → file name
FILES: Final = {"63": "provinces-63", "34": "provinces-34"}
IMMUTABLE: Final = "public, max-age=31536000, immutable"


@functools.cache
def _document(geography: str) -> tuple[bytes, str]:
    """The boundaries of `geography` as compact JSON bytes, and their digest."""
    shapes = provinces_geojson() if geography == "63" else provinces_2025_geojson()
    body = json.dumps(shapes, separators=(",", ":"), ensure_ascii=False).encode()
    return body, hashlib.blake2b(body, digest_size=8).hexdigest()


def url(geography: str) -> str:
    """Where the browser fetches the boundaries of `geography` (``"63"`` or ``"34"``)."""
    _body, digest = _document(geography)
    return f"/geo/{FILES[geography]}.{digest}.geojson"


def serve(name: str, digest: str) -> flask.Response:
    for geography, file in FILES.items():
        body, current = _document(geography)
        if file == name and digest == current:
            response = flask.Response(body, mimetype="application/geo+json")
            response.headers["Cache-Control"] = IMMUTABLE
            return response
    flask.abort(404)


def register(server: flask.Flask) -> None:
    server.add_url_rule(ROUTE, "portal_geometry", serve)
