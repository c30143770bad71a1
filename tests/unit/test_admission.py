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


def test_without_the_front_the_admission_marks_and_lets_the_desk_through() -> None:
    """Under a crowd (every request found 1,000 ahead): the desk pages are served and set
    the desk cookie; a request carrying it is served; any other is turned away."""
    from web.admission import Admission

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"ok"]

    admission = Admission(app, lambda environ: 1000, lambda environ: 0.0, bound=256)
    answers: list[tuple[str, list[tuple[str, str]]]] = []

    def call(path: str, cookie: str = "") -> tuple[str, dict[str, str]]:
        environ = {"PATH_INFO": path, "HTTP_COOKIE": cookie, "HTTP_ACCEPT": "text/html"}
        list(admission(environ, lambda status, headers: answers.append((status, headers))))
        status, headers = answers[-1]
        return status, dict(headers)

    status, headers = call("/certificate")
    assert status == "200 OK" and headers["Set-Cookie"] == desk_cookie(secure=False)
    assert call("/verify")[1]["Set-Cookie"].startswith("vax_desk=1;")
    assert call("/_dash-layout", "vax_desk=1")[0] == "200 OK"
    status, headers = call("/_dash-layout", "vax_desk=0")
    assert status.startswith("503") and "Set-Cookie" not in headers
    assert admission.status()["shed"] == 1
