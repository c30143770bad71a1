"""The benchmarks' load generator (bench/loadgen/loadgen.c), built from its source with the
system's C compiler and run against a small threaded HTTP server of this module that answers
by path: 200 (length or chunked), 304 to a matching If-None-Match, 503 with Retry-After,
and 200 after a known delay."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.loadgen import Request, write_view
from tests.conftest import ROOT, require

SOURCE = ROOT / "bench" / "loadgen" / "loadgen.c"
ETAG = '"v1"'
CLASSES = ("2xx", "304", "503", "other", "errors", "timeouts")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body go out as two writes
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.hits[parts.path] += 1
        if parts.path == "/ok":
            self.answer(200, b"hello")
        elif parts.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"first piece", b"x" * 5000, b"last"):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif parts.path == "/etag":
            if self.headers.get("If-None-Match") == ETAG:
                self.answer(304, headers={"ETag": ETAG})
            else:
                self.answer(200, b"{}", {"ETag": ETAG})
        elif parts.path == "/busy":
            self.answer(503, b"busy", {"Retry-After": "7"})
        elif parts.path == "/slow":
            time.sleep(int(parse_qs(parts.query)["ms"][0]) / 1000)
            self.answer(200, b"late")
        else:
            self.answer(404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.hits[self.path] += 1
            self.server.bodies.append(body)
        self.answer(200, b"thanks")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.bodies: list[bytes] = []


@pytest.fixture(scope="module")
def loadgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    require(compiler is not None, "a C compiler (cc)")
    assert compiler is not None
    binary = tmp_path_factory.mktemp("loadgen") / "vaxviet-loadgen"
    subprocess.run([compiler, "-O2", "-Wall", "-o", str(binary), str(SOURCE), "-lm"], check=True)
    return binary


@pytest.fixture
def server() -> Iterator[Server]:
    serving = Server()
    thread = threading.Thread(target=serving.serve_forever, daemon=True)
    thread.start()
    yield serving
    serving.shutdown()
    serving.server_close()


def view(path: Path, *requests: Request) -> Path:
    return write_view(path, "test", requests)


def run(binary: Path, port: int, *arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(binary), "--port", str(port), *arguments],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_counts_status_classes_and_bodies(loadgen: Path, server: Server, tmp_path: Path) -> None:
    script = view(
        tmp_path / "v.view",
        Request("/ok", dynamic=False, headers={"Accept-Encoding": "gzip"}),
        Request("/chunked"),
        Request("/etag", headers={"If-None-Match": ETAG}),
        Request("/etag"),
        Request("/form", "POST", {"Content-Type": "application/json"},
                b'{"id": "1{seq:5}", "phone": "09{seq:8}"}'),
    )  # fmt: skip
    result = run(loadgen, server.server_address[1], "--duration-s", "1.5", "--visitors", "4",
                 "--script", f"file={script},name=page,seq-start=42")  # fmt: skip
    page = result["scripts"][0]
    by_index = page["requests_by_index"]
    views = page["views_completed"]
    assert views > 100 and page["views_failed"] == page["views_shed"] == 0
    # the views under way when the time is up are served to their end
    assert page["views_started"] == views and page["views_cut_at_end"] == 0
    assert [r["status_class"]["2xx"] for r in by_index] == [views, views, 0, views, views]
    assert by_index[2]["status_class"] == dict.fromkeys(CLASSES, 0) | {"304": views}
    assert page["statuses"] == {"200": 4 * views, "304": views}
    assert page["status_class"]["errors"] == page["status_class"]["timeouts"] == 0
    # every request the generator counts reached the server, and no other
    assert server.hits == Counter(
        {"/ok": views, "/chunked": views, "/etag": 2 * views, "/form": views}
    )
    assert page["connects"] == 4  # keep-alive: one connection per visitor
    # {seq:W}: another number each view, W digits
    sent = [json.loads(body) for body in server.bodies]
    assert {"id": "100042", "phone": "0900000042"} in sent
    assert len({body["id"] for body in sent}) == views
    assert page["dynamic_ok_ms"]["n"] == 4 * views
    assert page["view_ms"]["n"] == views


def test_503_ends_the_view_and_retry_after_is_reported(
    loadgen: Path, server: Server, tmp_path: Path
) -> None:
    script = view(tmp_path / "v.view", Request("/busy"), Request("/ok"))
    result = run(loadgen, server.server_address[1], "--duration-s", "1", "--visitors", "2",
                 "--script", f"file={script}")  # fmt: skip
    page = result["scripts"][0]
    shed = page["views_shed"]
    assert shed > 5 and page["views_completed"] == 0
    assert page["status_class"]["503"] == shed == page["latency_503_ms"]["n"]
    assert page["requests_by_index"][1]["status_class"]["2xx"] == 0
    assert page["retry_after"] == {"7": shed} and page["retry_after_missing"] == 0
    assert server.hits["/ok"] == 0


def test_latency_follows_the_server_delay(loadgen: Path, server: Server, tmp_path: Path) -> None:
    script = view(tmp_path / "v.view", Request("/slow?ms=60"), Request("/ok"))
    result = run(loadgen, server.server_address[1], "--duration-s", "1.5", "--visitors", "3",
                 "--script", f"file={script}")  # fmt: skip
    slow, fast = (r["latency_ms"] for r in result["scripts"][0]["requests_by_index"])
    assert 60 <= slow["p50"] < 200
    assert fast["p50"] < 20 < slow["p50"]
    assert result["scripts"][0]["view_ms"]["p50"] >= slow["p50"]


def test_open_loop_honours_the_rate(loadgen: Path, server: Server, tmp_path: Path) -> None:
    script = view(tmp_path / "v.view", Request("/ok"), Request("/etag"))
    result = run(loadgen, server.server_address[1], "--duration-s", "2", "--visitors", "4",
                 "--rate", "150", "--script", f"file={script}")  # fmt: skip
    page = result["scripts"][0]
    assert page["mode"] == "open"
    assert 285 <= page["views_started"] <= 301
    assert page["views_per_s"] == pytest.approx(150, rel=0.05)
    assert server.hits["/ok"] == page["views_started"]
    assert page["queue_ms"]["p95"] < 20  # the server keeps up: views start when they arrive


def test_a_slow_server_shows_latency_from_the_intended_start(
    loadgen: Path, server: Server, tmp_path: Path
) -> None:
    """40 views/s offered for 2 s to one connection served in 50 ms each (20/s at most):
    the views queue in the generator, every one that arrived is served (after the 2 s
    too), and latency grows with the queue, from each one's arrival, not from the moment
    it could be sent."""
    script = view(tmp_path / "v.view", Request("/slow?ms=50"))
    result = run(loadgen, server.server_address[1], "--duration-s", "2", "--rate", "40",
                 "--script", f"file={script},visitors=1,max-connections=1")  # fmt: skip
    page = result["scripts"][0]
    latency = page["latency_ms"]
    assert page["views_completed"] == page["views_started"] == 80
    assert 36 <= page["views_completed_by_end"] <= 40  # the throughput: 20/s
    assert page["views_per_s"] == page["views_completed_by_end"] / 2
    assert page["views_unstarted"] == page["views_cut_at_end"] == 0
    assert result["wall_s"] > 3.9  # 80 views at 50 ms: the last ones served after the end
    assert latency["p50"] > 50 * 10 and latency["max"] > 1800  # the queue, not the 50 ms
    assert page["queue_ms"]["max"] > 1700
    assert 50 <= page["from_send_ms"]["p50"] < 150  # the server's own part stays 50 ms


def test_more_connections_absorb_the_same_overload(
    loadgen: Path, server: Server, tmp_path: Path
) -> None:
    """The same offered load with connections to spare: new visitors open their own."""
    script = view(tmp_path / "v.view", Request("/slow?ms=50"))
    result = run(loadgen, server.server_address[1], "--duration-s", "2", "--rate", "40",
                 "--script", f"file={script},visitors=1,max-connections=16")  # fmt: skip
    page = result["scripts"][0]
    assert page["views_completed"] == pytest.approx(80, abs=2)
    assert page["connections_used"] > 1
    assert page["latency_ms"]["p95"] < 200


def test_timeouts_and_refused_connections_are_counted(
    loadgen: Path, server: Server, tmp_path: Path
) -> None:
    slow = view(tmp_path / "slow.view", Request("/slow?ms=600"))
    result = run(loadgen, server.server_address[1], "--duration-s", "1", "--timeout-ms", "150",
                 "--script", f"file={slow},visitors=2")  # fmt: skip
    page = result["scripts"][0]
    assert page["status_class"]["timeouts"] >= 4 and page["views_completed"] == 0
    assert page["latency_ms"]["max"] < 400
    with Server() as closed:  # bound, then closed: nothing listens on its port
        port = closed.server_address[1]
    result = run(loadgen, port, "--duration-s", "0.5", "--script", f"file={slow},visitors=2")
    page = result["scripts"][0]
    assert page["status_class"]["errors"] > 0 and page["views_failed"] > 0
    assert "Connection refused" in result["errors"]


def test_several_scripts_in_one_run_are_reported_apart(
    loadgen: Path, server: Server, tmp_path: Path
) -> None:
    page = view(tmp_path / "page.view", Request("/ok"), Request("/chunked"))
    lookup = view(tmp_path / "lookup.view", Request("/lookup", "POST", body=b'{"n": "{seq:6}"}'))  # fmt: skip
    result = run(loadgen, server.server_address[1], "--duration-s", "1.5",
                 "--script", f"file={page},name=portal,visitors=3",
                 "--script", f"file={lookup},name=lookup,rate=50,visitors=4,fresh=1,bind=1")  # fmt: skip
    portal, lookups = result["scripts"]
    assert portal["name"] == "portal" and lookups["name"] == "lookup"
    assert portal["views_completed"] > 20 and lookups["mode"] == "open"
    assert lookups["views_completed"] == pytest.approx(75, abs=2)
    assert lookups["connects"] == lookups["views_started"]  # fresh: one connection per view
    assert server.hits["/lookup"] == lookups["views_completed"]
    assert server.hits["/chunked"] == portal["views_completed"]
