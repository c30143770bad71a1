"""The web surface's security headers, cookies and sessions (web.security,
dashboards.sessions), on the whole platform in-process (real chDB warehouse, SQLite
registry): every page and endpoint carries the headers of its kind, every inline script a
page runs is one its policy names, the officials' cookie carries its flags in both modes,
sessions end on the server, and violation reports are logged without the visitor's data.
(The browser side: test_security_browser.py.)"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest

import dashboards.background
from dashboards.client_requests import log_in, render_body
from tests.dashboards_data import PASSWORD, build, fill
from warehouse.client import Warehouse
from web import security

pytestmark = pytest.mark.integration

#: (path, kind) of every page and endpoint walked; the internal ones after a login
PUBLIC = [
    "/", "/province/01", "/api", "/status", "/corrections", "/supply", "/_dash-layout", "/_dash-dependencies",
    "/api/v1/coverage", "/api/v1/coverage?format=csv", "/api/v1/corrections", "/api/v1/openapi.json",
    "/api/v1/timeseries", "/api/v1/trust-list", "/healthz", "/assets/portal.css", "/no-such-page",
]  # fmt: skip
LOOKUP = ["/certificate", "/certificate/request"]
VERIFIER = ["/verify", "/verify?lang=en", "/verify/trust.json", "/verify/app.js", "/verify/sw.js"]
INTERNAL = [
    "/internal/login", "/internal/", "/internal/stock", "/internal/quality",
    "/internal/_dash-layout", "/internal/export/stock/on_hand.csv", "/internal/api/v1/summary",
]  # fmt: skip
SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.S)


@pytest.fixture
def platform(warehouse: Warehouse, tmp_path: Path) -> Iterator[flask.Flask]:
    fill(warehouse)
    server = build(warehouse, tmp_path)
    yield server
    server.extensions[dashboards.background.BUILDS_KEY].shutdown()


def production(warehouse: Warehouse, tmp_path: Path) -> flask.Flask:
    from certificates import keys
    from vaxviet.settings import Settings

    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "keys")})
    keys.ensure(settings)
    return build(
        warehouse,
        tmp_path,
        VAX_MODE="production",
        VAX_WAREHOUSE_DSN="http://localhost:8123",
        VAX_SOURCE_DSN=f"sqlite:///{tmp_path / 'registry.sqlite'}",
        VAX_SECRET_KEY="a secret for the test",
        VAX_PSEUDONYM_KEY="00" * 32,
        VAX_SIGNING_KEY_PATH=str(settings.signing_key_path),
        VAX_SIGNING_CERT_PATH=str(settings.signing_cert_path),
    )


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def inline_scripts(html: str) -> list[str]:
    """The inline scripts a browser runs in `html` (not data blocks, not IE's comments)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    scripts = []
    for attributes, body in SCRIPT.findall(html):
        kind = re.search(r'type="([^"]+)"', attributes)
        runs = kind is None or kind.group(1) in ("application/javascript", "text/javascript")
        if "src=" not in attributes and runs and body.strip():
            scripts.append(body)
    return scripts


def check(response: Any, path: str, kind: security.Kind, production: bool = False) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path
    assert headers["Referrer-Policy"] == (
        "strict-origin-when-cross-origin" if kind == "public" else "no-referrer"
    ), path
    features = dict(f.split("=") for f in headers["Permissions-Policy"].split(", "))
    assert set(features) >= {"camera", "microphone", "geolocation"}, path
    assert features["camera"] == ("(self)" if kind == "verifier" else "()"), path
    assert features["microphone"] == features["geolocation"] == "()", path
    assert ("Strict-Transport-Security" in headers) is production, path
    policy = directives(headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"], path
    if path in security.WORKER_SCRIPTS:  # a worker fetches from its own origin, nothing else
        assert policy["default-src"] == ["'self'"] and len(policy) == 3, path
        return
    if not response.content_type.startswith("text/html"):
        assert policy["default-src"] == ["'none'"], path
        return
    scripts = policy["script-src"]
    assert "'self'" in scripts and "'unsafe-inline'" not in scripts, path
    assert "'unsafe-eval'" not in scripts and "*" not in " ".join(scripts), path
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"], path
    assert policy["form-action"] == ["'self'"], path
    assert policy["report-uri"] == [security.REPORT_PATH], path
    assert ("upgrade-insecure-requests" in policy) is production, path
    html = response.get_data(as_text=True)
    for script in inline_scripts(html):
        assert security.script_hash(script) in scripts, f"{path}: {script[:80]!r}"


def test_every_page_and_endpoint_carries_the_headers_of_its_kind(platform: flask.Flask) -> None:
    client = platform.test_client()
    walked: list[tuple[str, security.Kind]] = [
        *((p, "public") for p in PUBLIC),
        *((p, "lookup") for p in LOOKUP),
        *((p, "verifier") for p in VERIFIER),
    ]
    html = client.get("/").get_data(as_text=True)
    bundle = re.search(r'src="(/_dash-component-suites/[^"]+)"', html)
    assert bundle is not None
    walked.append((bundle.group(1), "public"))
    pages = 0
    for path, kind in walked:
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        check(response, path, kind)
        pages += response.content_type.startswith("text/html")
    assert pages >= 7  # the pages themselves were among them, with their inline scripts

    # the lookup's API, even when it refuses: a bad request, a refused method
    code = client.post("/api/v1/certificate/code", json={"citizen_id": "x"})
    assert code.status_code in (400, 422)
    check(code, "/api/v1/certificate/code", "lookup")
    check(client.get("/api/v1/certificate/code"), "/api/v1/certificate/code (GET)", "lookup")
    # the callbacks of the portal's pages
    callback = client.post("/_dash-update-component", json=json.loads("{}"))
    check(callback, "/_dash-update-component", "public")

    # anonymous: the internal pages send to the login, the rest answer 401: same headers
    for path in INTERNAL:
        check(client.get(path), path, "internal")
    log_in(client, "nat-official", PASSWORD)
    for path in INTERNAL[1:]:
        response = client.get(path)
        assert response.status_code == 200, path
        check(response, path, "internal")
    drawn = client.post("/internal/_dash-update-component", json=render_body("/internal/", ""))
    assert drawn.status_code == 200
    check(drawn, "/internal/_dash-update-component", "internal")


def test_a_revalidated_page_keeps_the_headers_stored_with_it(platform: flask.Flask) -> None:
    """A 304 carries none of the headers: the browser would replace the page's stored
    policy with the 304's (a 304 has no type to choose the policy by), and a page whose
    policy became a resource's runs no script (found in a full run: the certificate page,
    visited again, stopped working)."""
    client = platform.test_client()
    for path in ("/", "/certificate"):
        first = client.get(path)
        assert first.status_code == 200 and first.headers.get("ETag"), path
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        assert not set(again.headers.keys()) & {
            "Content-Security-Policy", "Permissions-Policy", "Referrer-Policy", "X-Frame-Options"
        }, path  # fmt: skip


def test_production_adds_hsts_and_upgrades_requests(warehouse: Warehouse, tmp_path: Path) -> None:
    fill(warehouse)
    server = production(warehouse, tmp_path)
    try:
        client = server.test_client()
        for path, kind in (("/", "public"), ("/certificate", "lookup"), ("/healthz", "public")):
            check(client.get(path, base_url="https://vaxviet.example"), path, kind, True)
    finally:
        server.extensions[dashboards.background.BUILDS_KEY].shutdown()


def session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "vaxviet=" in c]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return str(cookies[0])


def test_the_session_cookie_carries_its_flags_in_both_modes(
    platform: flask.Flask, warehouse: Warehouse, tmp_path: Path
) -> None:
    embedded = session_cookie(log_in(platform.test_client(), "nat-official", PASSWORD))
    assert embedded.startswith("vaxviet=")
    assert "HttpOnly" in embedded and "SameSite=Strict" in embedded and "Path=/" in embedded
    assert "Secure" not in embedded  # the embedded demo runs over plain HTTP

    server = production(warehouse, tmp_path / "production")
    try:
        client = server.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"  # behind TLS
        cookie = session_cookie(log_in(client, "nat-official", PASSWORD))
        # __Host-: only ever set by this host over TLS, for the whole site, never a domain
        assert cookie.startswith("__Host-vaxviet=")
        for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
            assert flag in cookie
        assert "Domain=" not in cookie
        assert client.get("/internal/export/stock/on_hand.csv").status_code == 200
    finally:
        server.extensions[dashboards.background.BUILDS_KEY].shutdown()


def cookie_value(client: Any) -> str:
    cookie = client.get_cookie("vaxviet")
    assert cookie is not None
    return str(cookie.value)


def with_cookie(platform: flask.Flask, value: str) -> Any:
    client = platform.test_client()
    client.set_cookie("vaxviet", value)
    return client


def test_logout_ends_the_session_on_the_server(platform: flask.Flask) -> None:
    from tests.dashboards_data import csrf_of

    client = platform.test_client()
    log_in(client, "nat-official", PASSWORD)
    copied = cookie_value(client)  # e.g. taken from the browser before logout
    assert (
        with_cookie(platform, copied).get("/internal/export/stock/on_hand.csv").status_code == 200
    )
    drawn = client.post("/internal/_dash-update-component", json=render_body("/internal/", ""))
    out = client.post("/internal/logout", data={"csrf": csrf_of(drawn.get_data(as_text=True))})
    assert out.status_code == 302
    # the copy still carries a valid signature and the user's id: the server refuses it
    assert (
        with_cookie(platform, copied).get("/internal/export/stock/on_hand.csv").status_code == 401
    )
    assert with_cookie(platform, copied).get("/internal/").status_code == 302


def test_login_renews_the_session(platform: flask.Flask) -> None:
    client = platform.test_client()
    client.get("/internal/login")
    before = cookie_value(client)  # the anonymous session (the form's token)
    log_in(client, "nat-official", PASSWORD)
    first = cookie_value(client)
    assert first != before
    assert with_cookie(platform, first).get("/internal/").status_code == 200
    # a second login in the same browser (as another user) replaces the session: the first
    # one's cookie opens nothing any more
    response = client.post(
        "/internal/login",
        data={"csrf": _form_token(client), "name": "hanoi-official", "password": PASSWORD},
    )
    assert response.status_code == 302
    second = cookie_value(client)
    assert second != first
    assert with_cookie(platform, first).get("/internal/export/stock/on_hand.csv").status_code == 401
    rows = client.get("/internal/export/stock/on_hand.csv").get_data(as_text=True)
    assert "79" not in {line.split(",")[0] for line in rows.splitlines()[1:]}


def _form_token(client: Any) -> str:
    """The login form's token as the session holds it (the form itself sends a logged-in
    user on)."""
    with client.session_transaction() as session:
        return str(session["internal_csrf"])


# -- violation reports --------------------------------------------------------------------


OLD_REPORT = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:8050/certificate?cccd=001099012345#x",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "source-file": "http://127.0.0.1:8050/_dash-component-suites/dash/x.js?v=1&who=me",
        "line-number": 12,
        "script-sample": "alert('001099012345')",
        "disposition": "enforce",
    }
}
NEW_REPORTS = [
    {
        "type": "csp-violation",
        "url": "http://127.0.0.1:8050/province/01?lang=en",
        "body": {
            "documentURL": "http://127.0.0.1:8050/province/01?lang=en",
            "blockedURL": "https://tracker.example/pixel.gif?user=abc",
            "effectiveDirective": "img-src",
            "sourceFile": "",
            "lineNumber": 0,
            "disposition": "enforce",
            "sample": "",
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},
]


def test_reports_are_logged_without_the_visitors_data(
    platform: flask.Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = platform.test_client()
    before = security.REPORTS.status()["reports"]
    with caplog.at_level(logging.WARNING, logger="vaxviet.web.security"):
        old = client.post(
            security.REPORT_PATH,
            data=json.dumps(OLD_REPORT),
            content_type="application/csp-report",
            environ_base={"REMOTE_ADDR": "10.9.0.1"},
        )
        new = client.post(
            security.REPORT_PATH,
            data=json.dumps(NEW_REPORTS),
            content_type="application/reports+json",
            environ_base={"REMOTE_ADDR": "10.9.0.1"},
        )
    assert old.status_code == new.status_code == 204
    logged = caplog.text
    assert "script-src-elem blocked inline on /certificate" in logged
    assert "at /_dash-component-suites/dash/x.js:12" in logged
    assert "img-src blocked https://tracker.example on /province/01" in logged
    for private in ("001099012345", "cccd", "who=me", "user=abc", "lang=en", "alert"):
        assert private not in logged
    after = security.REPORTS.status()["reports"]
    assert after["violations"] - before["violations"] == 2
    health = client.get("/healthz").get_json()
    assert health["web"]["security"]["reports"]["violations"] >= 2


def test_bad_and_excessive_reports_get_clear_answers(platform: flask.Flask) -> None:
    client = platform.test_client()
    address = {"REMOTE_ADDR": "10.9.0.2"}
    bad = client.post(security.REPORT_PATH, data=b"{not json", environ_base=address)
    assert bad.status_code == 400 and b"not a CSP report" in bad.data
    large = client.post(
        security.REPORT_PATH, data=b" " * (security.MAX_REPORT_BYTES + 1), environ_base=address
    )
    assert large.status_code == 413
    answers = [
        client.post(
            security.REPORT_PATH,
            data=json.dumps(OLD_REPORT),
            content_type="application/csp-report",
            environ_base=address,
        ).status_code
        for _ in range(security.CLIENT_REPORTS_PER_MINUTE)
    ]
    assert 429 in answers and answers.count(204) == security.CLIENT_REPORTS_PER_MINUTE - 2
    # another client is not limited by this one
    other = client.post(
        security.REPORT_PATH,
        data=json.dumps(OLD_REPORT),
        content_type="application/csp-report",
        environ_base={"REMOTE_ADDR": "10.9.0.3"},
    )
    assert other.status_code == 204
