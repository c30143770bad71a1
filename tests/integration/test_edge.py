"""The edge (vaxviet/edge.py): a second process that answers the portal's stored answers from
copies, in front of the real server app under waitress on a Unix socket (as `python -m
vaxviet serve` runs it), with the real portal rules. Requests go to the edge's socket as the
front sends them."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.stored import PortalRules
from tests.integration import test_portal_crowd as crowd
from tests.integration.test_portal_crowd import Browser, build, commit
from vaxviet import edge as edge_module
from vaxviet.edge import Edge
from vaxviet.server import STORED_KEY
from warehouse.client import Warehouse
from web.stored import StoredAnswers

pytestmark = pytest.mark.integration
filled = crowd.filled  # a warehouse with a small campaign, committed
quick_versions = crowd.quick_versions


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("edge", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(str(self.path))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def accepting(path: Path) -> bool:
    """The edge listens on `path`: its file appears when it binds, a moment before it listens
    (a connection then is refused)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
    return True


def ask(path: Path, method: str, target: str, body: bytes | None = None, **headers: str) -> Reply:
    connection = UnixConnection(path)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


@dataclass
class Edged:
    edge: Edge
    socket: Path
    origin: Path
    store: StoredAnswers
    browser: Browser


@pytest.fixture
def edged(filled: Warehouse, tmp_path: Path) -> Iterator[Edged]:
    """The server app under waitress on a Unix socket, and the edge in front of it (its
    event loop in a thread)."""
    from waitress.server import create_server

    server = build(filled, tmp_path)
    origin, front_socket = tmp_path / "web.sock", tmp_path / "edge.sock"
    http_server = create_server(
        server, unix_socket=str(origin), unix_socket_perms="600", threads=8,
        clear_untrusted_proxy_headers=False,
    )  # fmt: skip
    threading.Thread(target=http_server.run, daemon=True).start()
    edge = Edge(str(origin), PortalRules())
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        loop.run_until_complete(edge_module.serve(str(front_socket), str(origin), None, stop, edge))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not accepting(front_socket):
        assert time.monotonic() < deadline, "the edge did not start"
        time.sleep(0.02)
    try:
        yield Edged(
            edge, front_socket, origin, server.extensions[STORED_KEY], Browser(server.test_client())
        )
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        http_server.close()


def test_a_stored_page_is_fetched_once_then_answered_by_the_edge(edged: Edged) -> None:
    first = ask(edged.socket, "GET", "/", **{"Accept-Encoding": "gzip"})
    assert first.status == 200 and first.headers["content-encoding"] == "gzip"
    assert "x-vax-stored" not in first.headers  # the mark is for the edge only
    store_before = edged.store.statistics.as_dict()
    again = [ask(edged.socket, "GET", "/", **{"Accept-Encoding": "gzip"}) for _ in range(5)]
    assert {a.body for a in again} == {first.body}
    assert edged.store.statistics.as_dict() == store_before  # the web process saw none
    assert edged.edge.statistics.fetched == 1 and edged.edge.statistics.hits == 5
    # the same bytes as the web process gives, for a client without gzip too
    direct = ask(edged.origin, "GET", "/")
    store_before = edged.store.statistics.as_dict()
    plain = ask(edged.socket, "GET", "/")
    assert plain.body == direct.body == gzip.decompress(first.body)
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain.body)
    # a returning browser: 304 from the edge, and HEAD gives the headers only
    tag = first.headers["etag"]
    assert ask(edged.socket, "GET", "/", **{"If-None-Match": tag}).status == 304
    head = ask(edged.socket, "HEAD", "/", **{"Accept-Encoding": "gzip"})
    assert head.status == 200 and head.body == b"" and head.headers["etag"] == tag
    assert edged.store.statistics.as_dict() == store_before
    # a first visitor without gzip: answered plain, and the copy kept is still the gzip one
    assert ask(edged.socket, "GET", "/api").headers.get("content-encoding") is None
    assert (
        ask(edged.socket, "GET", "/api", **{"Accept-Encoding": "gzip"}).headers["content-encoding"]
        == "gzip"
    )


def test_public_callbacks_are_kept_and_the_certificates_never(edged: Edged) -> None:
    browser = edged.browser
    content = next(o for o in browser.specs if o.startswith(".._pages_content"))
    body = json.dumps(
        browser.body(content, {"_pages_location.pathname": "/", "_pages_location.search": ""}, [])
    ).encode()
    headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
    answers = [
        ask(edged.socket, "POST", "/_dash-update-component", body, **headers) for _ in range(3)
    ]
    assert {a.status for a in answers} == {200} and len({a.body for a in answers}) == 1
    assert edged.edge.statistics.fetched == 1 and edged.edge.statistics.hits == 2
    # a certificate page's callback (none runs on the server now: the rule stands for any)
    private = json.dumps(
        {"output": "certificate-message.children", "outputs": [], "inputs": [],
         "changedPropIds": []}
    ).encode()  # fmt: skip
    for _ in range(2):
        ask(edged.socket, "POST", "/_dash-update-component", private, **headers)
    code = json.dumps({"citizen_id": "001099012345"}).encode()
    ask(edged.socket, "POST", "/api/v1/certificate/code", code, **headers)
    login = ask(edged.socket, "GET", "/internal/")
    assert login.status in (200, 302)
    kept = {target for _, target, _ in edged.edge.answers}
    assert kept == {b"/_dash-update-component"} and len(edged.edge.answers) == 1
    assert edged.edge.statistics.passed == 4  # two private callbacks, the code, the login


def test_a_new_data_version_reaches_the_edge_within_seconds(
    edged: Edged, filled: Warehouse, quick_versions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edged.edge, "fresh_seconds", 0.2)
    first = ask(edged.socket, "GET", "/api/v1/coverage")
    assert first.status == 200
    time.sleep(0.3)
    assert ask(edged.socket, "GET", "/api/v1/coverage").body == first.body
    assert edged.edge.statistics.revalidated == 1  # asked again with its ETag: a 304
    commit(filled, "b")  # a new data version (the ETL's checkpoint)
    deadline = time.monotonic() + 10
    while (
        json.loads(ask(edged.socket, "GET", "/api/v1/coverage").body)["meta"]
        == json.loads(first.body)["meta"]
    ):
        assert time.monotonic() < deadline, "the edge kept the old version"
        time.sleep(0.1)


def test_requests_it_cannot_read_and_bodies_in_chunks(edged: Edged) -> None:
    def raw(data: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(30)
            client.connect(str(edged.socket))
            client.sendall(data)
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    assert raw(b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400")
    too_large = b"POST / HTTP/1.1\r\ncontent-length: %d\r\n\r\n" % (64 * 1024 * 1024)
    assert raw(too_large).startswith(b"HTTP/1.1 413")
    browser = edged.browser
    content = next(o for o in browser.specs if o.startswith(".._pages_content"))
    body = json.dumps(
        browser.body(content, {"_pages_location.pathname": "/", "_pages_location.search": ""}, [])
    ).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = raw(
        b"POST /_dash-update-component HTTP/1.1\r\ncontent-type: application/json\r\n"
        b"transfer-encoding: chunked\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n" + chunked
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")
    assert b"_pages_content" in answer


def test_memory_is_bounded(edged: Edged, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edged.edge, "max_bytes", 1)
    for path in ("/", "/api", "/verify"):
        assert ask(edged.socket, "GET", path).status == 200
    assert len(edged.edge.answers) <= 1


def test_without_its_web_process_it_answers_502(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    where = tmp_path / "edge.sock"
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(
            edge_module.serve(str(where), str(tmp_path / "nobody.sock"), PortalRules(), stop)
        ),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not accepting(where):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        assert ask(where, "GET", "/").status == 502
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    assert not where.exists()
