"""web.stored (the store in front of the server) on a small WSGI app, and portal.stored's
rules (which requests qualify)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from werkzeug.test import Client

from portal.stored import IMMUTABLE, REVALIDATE, SHORT, PortalRules
from web.stored import Replay, Rule, StoredAnswers


class Origin:
    """A WSGI app counting its calls; answers depend on the path and a version."""

    def __init__(self) -> None:
        self.calls = 0
        self.version = "v1"
        self.delay = 0.0
        self.headers: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        time.sleep(self.delay)
        body = json.dumps(
            {"path": environ["PATH_INFO"], "version": self.version, "pad": "x" * 2000}
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), *self.headers])
        return [body]


def rule(method: str, path: str, query: str, body: bytes) -> Rule | None:
    if path.startswith("/static/"):
        return Rule(f"static:{path}", static=True, cache_control="public, max-age=60")
    if path.startswith("/public/"):
        return Rule(f"page:{path}?{query}", cache_control="no-cache")
    return None


@pytest.fixture
def origin() -> Origin:
    return Origin()


def store_for(origin: Origin, max_bytes: int = 10_000_000, stale: bool = False) -> StoredAnswers:
    store = StoredAnswers(origin, rule, lambda: (origin.version, stale), max_bytes=max_bytes)
    store.forget_version()
    return store


def test_a_stored_answer_is_computed_once_and_served_compressed_with_a_validator(
    origin: Origin,
) -> None:
    store = store_for(origin)
    client = Client(store)
    first = client.get("/public/a")
    second = client.get("/public/a", headers={"Accept-Encoding": "gzip"})
    assert origin.calls == 1
    assert (
        second.headers["Content-Encoding"] == "gzip" and second.headers["Vary"] == "Accept-Encoding"
    )
    assert gzip.decompress(second.data) == first.data
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get("/public/a", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b"" and origin.calls == 1
    head = client.head("/public/a")
    assert head.status_code == 200 and head.data == b"" and origin.calls == 1
    client.get("/private/a")
    client.get("/private/a")
    assert origin.calls == 3  # no rule: the app each time


def test_a_head_first_does_not_store_an_empty_page() -> None:
    """A HEAD on a miss is computed as the GET it stands for: the app (Flask) drops the body
    of a HEAD, and that empty answer must not become every visitor's page."""
    import flask

    app = flask.Flask("head")
    app.add_url_rule("/public/page", "page", lambda: "the page " * 300)
    store = StoredAnswers(app.wsgi_app, rule, lambda: ("v1", False))
    client = Client(store)
    head = client.head("/public/page")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len("the page " * 300))
    assert client.get("/public/page").data == ("the page " * 300).encode()


def test_a_new_version_drops_the_old_answers_and_static_ones_stay(
    origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.stored.VERSION_TTL", 0.0)
    store = store_for(origin)
    client = Client(store)
    client.get("/public/a")
    client.get("/static/s.js")
    origin.version = "v2"
    answer = client.get("/public/a")
    assert json.loads(answer.data)["version"] == "v2" and origin.calls == 3
    client.get("/static/s.js")
    assert origin.calls == 3  # static: kept across versions
    assert client.get("/static/s.js").headers["Cache-Control"] == "public, max-age=60"


def test_nothing_is_stored_from_fallback_copies_or_with_cookies(origin: Origin) -> None:
    stale = store_for(origin, stale=True)
    Client(stale).get("/public/a")
    Client(stale).get("/public/a")
    assert origin.calls == 2 and stale.statistics.bypassed == 2
    origin.headers = [("Set-Cookie", "session=1")]
    cookies = store_for(origin)
    Client(cookies).get("/public/b")
    Client(cookies).get("/public/b")
    assert origin.calls == 4 and cookies.statistics.stored == 0
    origin.headers = [("Cache-Control", "no-store")]
    Client(cookies).get("/public/c")
    assert cookies.statistics.stored == 0


def test_memory_is_bounded_least_recently_used_out(origin: Origin) -> None:
    store = store_for(origin, max_bytes=12_000)  # room for a few answers of ~2 kB (+gzip)
    client = Client(store)
    for name in range(20):
        client.get(f"/public/{name}")
    assert store.stored_bytes <= 12_000
    assert store.status()["answers"] < 20
    calls = origin.calls
    client.get("/public/19")  # the most recent is still there
    assert origin.calls == calls
    client.get("/public/0")  # the oldest went
    assert origin.calls == calls + 1


def test_requests_asking_the_same_missing_answer_compute_it_once(origin: Origin) -> None:
    origin.delay = 0.3
    store = store_for(origin)
    answers: list[bytes] = []

    def ask() -> None:
        answers.append(Client(store).get("/public/slow").data)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert origin.calls == 1 and len(set(answers)) == 1 and len(answers) == 8


def test_the_warmer_refills_the_most_asked_for_the_next_version(origin: Origin) -> None:
    store = store_for(origin)
    client = Client(store)
    for _ in range(3):
        client.get("/public/popular")
    client.get("/public/rare")
    popular = store.popular(1)
    assert [replay.path for replay in popular] == ["/public/popular"]
    origin.version = "v2"
    assert store.refill("v2", popular, {"wsgi.input": None}) == 1
    store.adopt("v2")
    calls = origin.calls
    answer = client.get("/public/popular")
    assert json.loads(answer.data)["version"] == "v2" and origin.calls == calls
    assert isinstance(popular[0], Replay)
    # a version nobody visits keeps the popular answers for the next one
    assert store.refill("v3", store.popular(), {"wsgi.input": None}) == 1
    store.adopt("v3")
    assert [replay.path for replay in store.popular()] == ["/public/popular"]
    assert store.refill("v4", store.popular(), {"wsgi.input": None}) == 1


RULES = PortalRules()


def callback(output: str) -> bytes:
    return json.dumps({"output": output, "inputs": [], "state": []}).encode()


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "kind"),
    [
        ("GET", "/", "", b"", "page"),
        ("GET", "/", "lang=en", b"", "page"),
        ("GET", "/", "lang=en&x=1", b"", None),  # made-up parameters: computed, not stored
        ("GET", "/province/01", "", b"", "page"),
        ("GET", "/province/99", "", b"", None),
        ("GET", "/status", "", b"", None),
        ("GET", "/_dash-layout", "", b"", "dash"),
        ("GET", "/_dash-dependencies", "", b"", "dash"),
        ("GET", "/api/v1/coverage", "level=province", b"", "api"),
        ("GET", "/api/v1/trust-list", "", b"", None),
        ("POST", "/api/v1/certificate/code", "", b"{}", None),
        ("GET", "/internal/", "", b"", None),
        ("POST", "/_dash-update-component", "", callback("home-map.figure"), "callback"),
        (
            "POST",
            "/_dash-update-component",
            "",
            callback(".._pages_content.children.."),
            "callback",
        ),
        ("POST", "/_dash-update-component", "", callback("..lang-link.href...x.y.."), "callback"),
        ("POST", "/_dash-update-component", "", callback("..certificate-message.children.."), None),
        ("POST", "/_dash-update-component", "", callback("verify-result.children"), None),
        ("POST", "/_dash-update-component", "", b"not json", None),
        ("GET", "/geo/provinces-63.0123456789abcdef.geojson", "", b"", "static"),
        ("GET", "/verify", "", b"", "page"),
        ("GET", "/verify/app.js", "v=0123456789abcdef", b"", "static"),
        ("GET", "/verify/rules.json", "v=0123456789abcdef", b"", "static"),
        ("GET", "/verify/app.js", "", b"", None),  # no version: the page's own caching
        ("GET", "/verify/trust.json", "v=1", b"", None),  # says when it was issued: never
        ("GET", "/verify/sw.js", "v=1", b"", None),
    ],
)
def test_portal_rules(method: str, path: str, query: str, body: bytes, kind: str | None) -> None:
    found = RULES(method, path, query, body)
    if kind is None:
        assert found is None
        return
    assert found is not None and found.key.startswith(f"{kind}:")
    if kind in ("page", "dash", "callback"):
        assert found.cache_control == REVALIDATE and not found.static


def test_fingerprinted_files_are_kept_a_year() -> None:
    bundle = RULES(
        "GET", "/_dash-component-suites/dash/deps/react@18.v4_4_1m1796616973.3.1.min.js", "", b""
    )
    asset = RULES("GET", "/assets/prerendered.js", "m=1796616973.41", b"")
    plain = RULES("GET", "/_dash-component-suites/dash/dcc/async-graph.js", "", b"")
    assert bundle is not None and bundle.static and bundle.cache_control == IMMUTABLE
    assert asset is not None and asset.cache_control == IMMUTABLE
    assert plain is not None and plain.static and plain.cache_control == SHORT
    keys = {
        RULES("POST", "/_dash-update-component", "", callback(f"home-map.figure{n}")) for n in "ab"
    }
    assert len({k.key for k in keys if k}) == 2  # different bodies, different answers
