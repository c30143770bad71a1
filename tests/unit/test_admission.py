"""Which requests are never turned away under a crowd (web.admission.is_priority), the rule
the in-process admission and the front (vaxviet/front.py) both apply."""

from __future__ import annotations

import pytest

from web.admission import is_priority


@pytest.mark.parametrize(
    ("path", "referer", "expected"),
    [
        ("/healthz", "", True),
        ("/api/v1/certificate/code", "", True),
        ("/api/v1/trust-list", "", True),
        ("/certificate", "", True),
        ("/_dash-update-component", "https://vaxviet.example/certificate", True),
        ("/_dash-layout", "http://127.0.0.1:8050/certificate?lang=en", True),
        ("/_dash-component-suites/x.js", "https://vaxviet.example/certificate#top", True),
        ("/", "", False),
        ("/_dash-update-component", "https://vaxviet.example/", False),
        ("/_dash-update-component", "https://vaxviet.example/certificates-fake", False),
        ("/_dash-update-component", "https://vaxviet.example/x/certificate", False),
        ("/api/v1/coverage", "", False),
        ("/certificate/../internal", "", False),
    ],
)
def test_priority(path: str, referer: str, expected: bool) -> None:
    assert is_priority(path, referer) is expected
