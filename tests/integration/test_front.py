"""The front (vaxviet/front.py): a real haproxy before a real waitress on its private socket.

A held web process (every page request blocks until the test lets it go) fills the front's
bounds, so what the front does with the next request is seen exactly: queued, turned away
at once with 503 and Retry-After, or (/healthz, the certificate lookup) let through beside
the crowd. Needs the haproxy program (`make front`); under CI=true its absence fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import free_port, get, serve_process
from vaxviet import front
from web.admission import DESK_PAGES, desk_cookie, is_priority

pytestmark = pytest.mark.skipif(
    front.program() is None and os.environ.get("CI") != "true",
    reason="haproxy is not installed (make front)",
)

APP_CONNECTIONS = 2
SHED_QUEUE = 3


class HeldApp:
    """A WSGI app whose page requests wait for `release`; /healthz and the lookup do not.
    It answers with the client address it was given (X-Forwarded-For)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.inside = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if not is_priority(path, environ.get("HTTP_COOKIE", "")):
            with self.lock:
                self.inside += 1
            self.release.wait(30)
        body = json.dumps(
            {"path": path, "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", "")}
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


@pytest.fixture
def fronted(tmp_path: Path) -> Iterator[tuple[str, HeldApp, front.Front]]:
    import waitress.server

    port = free_port()
    plan = front.plan(
        "127.0.0.1", port, tmp_path, web_threads=16, app_connections=APP_CONNECTIONS,
        shed_queue=SHED_QUEUE, connections=256,
    )  # fmt: skip
    the_front = front.Front.prepare(plan)
    the_front.start()
    app = HeldApp()
    server = waitress.server.create_server(
        app, unix_socket=str(plan.socket_path), unix_socket_perms="600", threads=16,
        clear_untrusted_proxy_headers=False,
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", app, the_front
    finally:
        app.release.set()
        server.close()
        the_front.stop()


def fetch(url: str, accept: str = "*/*", cookie: str = "") -> tuple[int, Any, bytes, float]:
    """(status, headers (any case), body, seconds)."""
    started = time.monotonic()
    headers = {"Accept": accept, **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), time.monotonic() - started


def wait_until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_configuration_is_what_haproxy_accepts(tmp_path: Path) -> None:
    plan = front.plan("127.0.0.1", free_port(), tmp_path, 128, 16, 64, 4096)
    the_front = front.Front.prepare(plan)  # runs `haproxy -c`
    text = the_front.config_path.read_text()
    assert "maxconn 16" in text and "maxconn 112" in text  # the app's, the lookup's
    assert "queue(app) gt 64" in text and "timeout queue 5s" in text
    assert oct(plan.run_dir.stat().st_mode)[-3:] == "700"
    edged = front.plan("127.0.0.1", free_port(), tmp_path, 128, 16, 64, 4096, edge=True)
    text = front.Front.prepare(edged).config_path.read_text()
    assert f"unix@{edged.edge_socket} maxconn 64" in text  # the portal's pages: the edge
    assert "use_backend direct if !to_edge" in text and "queue(direct) gt 64" in text


def test_a_bad_address_is_a_clear_error(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        plan = front.plan("127.0.0.1", taken.getsockname()[1], tmp_path, 16, 2, 3, 64)
        with pytest.raises(front.FrontError, match="haproxy stopped at start"):
            front.Front.prepare(plan).start()
    finally:
        taken.close()


def test_past_the_queue_bound_requests_are_turned_away_at_once(
    fronted: tuple[str, HeldApp, front.Front],
) -> None:
    base, app, the_front = fronted
    with ThreadPoolExecutor(16) as pool:
        held = [pool.submit(fetch, f"{base}/page/{n}") for n in range(APP_CONNECTIONS)]
        wait_until(lambda: app.inside == APP_CONNECTIONS)
        # one more than the bound: it is the one past which requests are turned away
        queued = [pool.submit(fetch, f"{base}/page/q{n}") for n in range(SHED_QUEUE + 1)]
        wait_until(lambda: the_front.status()["queued"] == SHED_QUEUE + 1)

        status, headers, body, seconds = fetch(f"{base}/", accept="text/html")
        assert status == 503 and seconds < 0.1
        assert headers["Retry-After"] == "5" and headers["Cache-Control"] == "no-store"
        assert "quá tải".encode() in body and b"very busy" in body
        # the front's own answer carries the plain answer's security headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "Strict-Transport-Security" not in headers  # not in production mode
        # a cookie that only looks like the desk's is no way past
        assert fetch(f"{base}/p", cookie="vax_desk=0; not_vax_desk=1")[0] == 503
        status, headers, body, _ = fetch(f"{base}/api/v1/coverage")
        assert status == 503 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"] == "busy"

        # the orchestrator and the citizen at the desk go past the crowd: the lookup's API,
        # the desk's pages, and what their browser asks for (known by the desk cookie, which
        # the answer to a desk page sets)
        for path, cookie in (
            ("/healthz", ""),
            ("/api/v1/certificate/code", ""),
            ("/certificate", ""),
            ("/verify", "vaxviet=x"),
            ("/_dash-update-component", "vax_desk=1"),
            ("/_dash-layout", "lang=en; vax_desk=1"),
        ):
            status, headers, body, seconds = fetch(f"{base}{path}", cookie=cookie)
            assert status == 200 and seconds < 2, path
            assert json.loads(body)["forwarded_for"] == "127.0.0.1"
            desk = [c for c in headers.get_all("Set-Cookie") or [] if c.startswith("vax_desk=")]
            assert desk == ([desk_cookie(secure=False)] if path in DESK_PAGES else []), path

        assert app.inside == APP_CONNECTIONS  # the queue waited in the front, not inside
        app.release.set()
        answers = [f.result() for f in held + queued]
    assert [a[0] for a in answers] == [200] * (APP_CONNECTIONS + SHED_QUEUE + 1)
    status = the_front.status()
    assert status["turned_away"] == 3 and status["queued_max"] == SHED_QUEUE + 1
    assert status["running"] is True


def test_a_request_that_waited_too_long_is_answered_503(
    fronted: tuple[str, HeldApp, front.Front], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the bound, a queued request still waits at most front.QUEUE_SECONDS."""
    base, app, _ = fronted
    with ThreadPoolExecutor(4) as pool:
        held = [pool.submit(fetch, f"{base}/page/{n}") for n in range(APP_CONNECTIONS)]
        wait_until(lambda: app.inside == APP_CONNECTIONS)
        status, headers, body, seconds = fetch(f"{base}/late")
        app.release.set()
        assert all(f.result()[0] == 200 for f in held)
    assert status == 503 and headers["Retry-After"] == "5"
    assert front.QUEUE_SECONDS <= seconds < front.QUEUE_SECONDS + 2
    assert b"very busy" in body


def test_serve_runs_behind_the_front_and_stops_it(tmp_path: Path) -> None:
    """`python -m vaxviet serve` with VAX_FRONT=haproxy: /healthz reports the front, the
    rate limits see the client's address, and stopping serve stops haproxy."""
    with serve_process(tmp_path, {"VAX_FRONT": "haproxy"}) as (base, env):
        status, body = get(f"{base}/healthz")
        document = json.loads(body)
        assert status == 200
        the_front = document["web"]["front"]
        assert the_front["running"] is True and the_front["shed_queue"] == 256
        assert "admission" not in document["web"]  # the front's queue is the one that counts
        assert the_front["edge"]["running"] is True
        page = get(f"{base}/")
        assert page[0] == 200 and get(f"{base}/")[1] == page[1]
        counts = json.loads(get(f"{base}/healthz")[1])["web"]["front"]["edge"]
        assert counts["fetched"] + counts["passed"] >= 1 and counts["errors"] == 0
        socket_path = Path(env["VAX_VAR_DIR"], "run", "web.sock")
        assert socket_path.exists() and oct(socket_path.stat().st_mode)[-3:] == "600"
        children = subprocess.run(
            ["pgrep", "-f", f"haproxy -db -f {env['VAX_VAR_DIR']}/run/front.cfg"],
            capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        assert len(children) == 1
    wait_until(lambda: not Path(f"/proc/{children[0]}").exists())
    assert not socket_path.exists()


def test_serve_stops_when_its_edge_dies(tmp_path: Path) -> None:
    """A supervisor restarts the whole; serving with half of it gone helps no one."""

    def gone(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        return state == "Z"  # exited, not yet waited for by the test's Popen

    with serve_process(tmp_path, {"VAX_FRONT": "haproxy"}) as (_base, env):
        found = subprocess.run(
            ["pgrep", "-f", f"vaxviet.edge --socket {env['VAX_VAR_DIR']}/run/edge.sock"],
            capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        assert len(found) == 1
        edge_pid = int(found[0])
        serve_pid = int(Path(f"/proc/{edge_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.kill(edge_pid, signal.SIGKILL)
        wait_until(lambda: gone(serve_pid), 60)
    assert "the front's edge stopped" in (tmp_path / "serve.log").read_text()


def test_serve_without_the_program_says_how_to_install_it(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent),  # python, but no haproxy
        "VAX_FRONT": "haproxy",
        "VAX_VAR_DIR": str(tmp_path / "var"),
        "VAX_PORT": str(free_port()),
    }
    result = subprocess.run(
        [sys.executable, "-m", "vaxviet", "serve"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "apt-get install haproxy" in result.stderr


def test_serve_on_a_taken_port_stops_with_a_clear_error(tmp_path: Path) -> None:
    """The front cannot bind: serve says where and exits 1, its web socket gone."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        env = {
            **os.environ,
            "VAX_FRONT": "haproxy",
            "VAX_VAR_DIR": str(tmp_path / "var"),
            "VAX_HOST": "127.0.0.1",
            "VAX_PORT": str(taken.getsockname()[1]),
            "VAX_ETL_WORKER": "off",
            "VAX_LIVE": "off",
        }
        result = subprocess.run(
            [sys.executable, "-m", "vaxviet", "serve"],
            cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
    finally:
        taken.close()
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"127.0.0.1:{env['VAX_PORT']}" in result.stderr
    assert not (tmp_path / "var" / "run" / "web.sock").exists()
