"""Which of the portal's answers are stored (:mod:`web.stored`) and how browsers may keep them.

Stored per data version, sent with ``Cache-Control: no-cache`` and an ``ETag`` (a returning
browser asks again and gets ``304 Not Modified`` while the data have not changed):

* the public pages' HTML (server-rendered: ``/``, ``/api``, ``/verify``, ``/certificate``,
  ``/corrections``, ``/supply``, a province's page), in either language, with no other
  query parameter;
* Dash's ``/_dash-layout`` and ``/_dash-dependencies``;
* the answers of the public callbacks (:data:`STORED_OUTPUTS`: the home and province
  pages' figures, the page content, the frame's links), keyed by the whole request body —
  the inputs and states the browser sent (the supply page's table too: ``..supply-``).
  Never a certificate page's callback: those answers carry a citizen's data.

Stored once for the life of the process and kept by browsers for a year (``immutable``):
Dash's fingerprinted bundles, the assets Dash links with their modification time (``?m=``),
the map's boundaries (:mod:`portal.geometry`) and the verifier page's scripts and rules
(:mod:`portal.verifier`, under their content hash); compressed once. Dash's chunks without a
fingerprint are kept 10 minutes, then revalidated; other files keep the app's own caching.

The open-data API's answers are stored per data version with the API's own
``Cache-Control`` (five minutes) and validators. ``/status`` (which reports health) and
everything under ``/api/v1/certificate`` and ``/internal`` are never stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Final
from urllib.parse import parse_qs

from dash.fingerprint import check_fingerprint

from geo.provinces import load_provinces
from portal.compress import PUBLIC_OUTPUTS
from web.stored import Rule

#: browsers keep the answer but ask again each time (a 304 while the data are the same)
REVALIDATE: Final = "no-cache"
#: fingerprinted files: the URL changes when the file does
IMMUTABLE: Final = "public, max-age=31536000, immutable"
#: Dash's chunks loaded later (async-graph.js, plotly.min.js, …) have no fingerprint: kept
#: 10 minutes, then revalidated (a 304), so a Dash upgrade reaches every browser that soon
SHORT: Final = "public, max-age=600"
PAGES: Final = frozenset({"/", "/api", "/verify", "/certificate", "/corrections", "/supply"})
PROVINCE_PAGE: Final = re.compile(r"/province/(\d{2})")
DASH_JSON: Final = frozenset({"/_dash-layout", "/_dash-dependencies"})
STATIC_PREFIXES: Final = ("/_dash-component-suites/", "/assets/", "/geo/")
#: the verifier page's scripts and rules, under their content hash (``?v=``)
VERIFIER_FILES: Final = re.compile(r"/verify/[\w.-]+\.(?:js|json)")
API_PREFIX: Final = "/api/v1/"
NEVER: Final = ("/api/v1/certificate", "/api/v1/trust-list", "/internal")
CALLBACK: Final = "/_dash-update-component"
#: the verifier's files asked again each time: the worker, the trust list (when it was issued)
VOLATILE: Final = frozenset({"/verify/sw.js", "/verify/trust.json"})
#: callbacks whose answers are public: the compressed ones and the frame's (language link,
#: navigation, tagline, stale-data banner: all from the URL, and the banner never stored)
STORED_OUTPUTS: Final = (*PUBLIC_OUTPUTS, "..lang-link.href...", "..supply-")
LANGUAGES: Final[tuple[dict[str, list[str]], ...]] = ({}, {"lang": ["en"]}, {"lang": ["vi"]})


def _province_codes() -> frozenset[str]:
    provinces = load_provinces()
    codes = set(provinces["gso_code"].astype(str))
    codes |= set(provinces["new_2025_gso_code"].dropna().astype(str))
    return frozenset(codes)


class PortalRules:
    """``rule_for(method, path, query, body)`` for :class:`web.stored.StoredAnswers`."""

    def __init__(self) -> None:
        self.provinces = _province_codes()

    def _page(self, path: str) -> bool:
        if path in PAGES:
            return True
        match = PROVINCE_PAGE.fullmatch(path)
        return match is not None and match[1] in self.provinces

    def __call__(self, method: str, path: str, query: str, body: bytes) -> Rule | None:
        if path.startswith(NEVER):
            return None
        if method == "GET":
            return self._get(path, query)
        if method == "POST" and path == CALLBACK:
            return self._callback(body)
        return None

    def _get(self, path: str, query: str) -> Rule | None:
        if path.startswith(STATIC_PREFIXES):
            fingerprinted = (path.startswith("/assets/") and query.startswith("m=")) or (
                path.startswith("/_dash-component-suites/") and check_fingerprint(path)[1]
            )
            chunk = path.startswith("/_dash-component-suites/") and not fingerprinted
            return Rule(
                f"static:{path}?{query}",
                static=True,
                cache_control=IMMUTABLE if fingerprinted else SHORT if chunk else None,
            )
        if VERIFIER_FILES.fullmatch(path) and query.startswith("v=") and path not in VOLATILE:
            return Rule(f"static:{path}?{query}", static=True)  # the page's own caching
        if path in DASH_JSON and not query:
            return Rule(f"dash:{path}", cache_control=REVALIDATE)
        if self._page(path) and parse_qs(query) in LANGUAGES:
            return Rule(f"page:{path}?{query}", cache_control=REVALIDATE)
        if path.startswith(API_PREFIX):
            return Rule(f"api:{path}?{query}")
        return None

    @staticmethod
    def _callback(body: bytes) -> Rule | None:
        try:
            asked = json.loads(body)
        except ValueError:
            return None
        if not isinstance(asked, dict) or not str(asked.get("output", "")).startswith(
            STORED_OUTPUTS
        ):
            return None
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        return Rule(f"callback:{digest}", cache_control=REVALIDATE)
