"""Which requests are never turned away under a crowd (web.admission.is_priority), the rule
the in-process admission and the front (vaxviet/front.py) both apply, and the desk cookie
by which a desk page's browser is known."""

from __future__ import annotations

import pytest

from web.admission import DESK_SECONDS, desk_cookie, is_priority


@pytest.mark.parametrize(
    ("path", "cookie", "expected"),
    [
        ("/healthz", "", True),
        ("/api/v1/certificate/code", "", True),
        ("/api/v1/trust-list", "", True),
        ("/certificate", "", True),
        ("/verify", "", True),
        ("/_dash-update-component", "vax_desk=1", True),
        ("/_dash-layout", "session=abc; vax_desk=1", True),
        ("/_dash-component-suites/x.js", "vax_desk=1; lang=en", True),
        ("/", "", False),
        ("/_dash-update-component", "vaxviet=abc", False),
        ("/_dash-update-component", "vax_desk=0", False),
        ("/_dash-update-component", "not_vax_desk=1", False),
        ("/_dash-update-component", "vax_desk=12", False),
        ("/api/v1/coverage", "", False),
        ("/certificate/../internal", "", False),
        ("/verify/x", "", False),
    ],
)
def test_priority(path: str, cookie: str, expected: bool) -> None:
    assert is_priority(path, cookie) is expected


def test_the_desk_cookie_is_same_site_script_free_and_secure_in_production() -> None:
    plain = desk_cookie(secure=False)
    assert plain.startswith("vax_desk=1;")
    for flag in ("Path=/", f"Max-Age={DESK_SECONDS}", "SameSite=Strict", "HttpOnly"):
        assert flag in plain
    assert "Secure" not in plain
    assert desk_cookie(secure=True).endswith("; Secure")
