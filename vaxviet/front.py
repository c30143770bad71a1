"""The front: a HAProxy process that takes every connection and decides, before the web
process spends anything on a request, whether it is served now, waits, or is turned away.

Why a second process: the web process runs Python on one core (the GIL). Past what it can
serve (~2,500 requests/s, docs/benchmarks.md "Portal under a crowd") its one reading thread
falls behind and requests wait *unread* in socket buffers, where no queue bound inside the
process can see them: under twice that load it turned nobody away and made visitors wait up
to 48 s. The front reads every request as it arrives (HAProxy: C, one thread, on the other
core), so its queue is the true one:

* at most `VAX_FRONT_APP_CONNECTIONS` page and API requests are in the web process at once
  (enough to keep its one core busy); the others wait in the front's queue, in order;
* a request that arrives while more than `VAX_SHED_QUEUE` are waiting is answered ``503``
  with ``Retry-After`` by the front at once (a bilingual page, or JSON for the API and
  Dash's requests), and so is one that waited ``QUEUE_SECONDS``;
* ``/healthz`` and the desk (:func:`web.admission.is_priority`: the certificate API, the
  lookup and verifier pages, and what their browser asks for, known by the desk cookie the
  front sets on those pages' answers) go to the web process by a way of their own, with the rest of its threads: never queued behind the
  crowd, never turned away (a code request holds a thread for its fixed 0.4 s).

The web process listens on a private Unix socket (mode 0600) that only the front reaches,
so the client address the front forwards (``X-Forwarded-For``) can be believed: the rate
limits still count per citizen. `python -m vaxviet serve` starts the front as its child
(`VAX_FRONT`: auto, haproxy, off) and stops it on the way out; it also dies with its parent.
:func:`render` is the whole configuration; docs/scaling.md shows it for a deployment that
runs its own proxy.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from web.admission import (
    BUSY_HTML,
    BUSY_JSON,
    DESK_COOKIE,
    DESK_PAGES,
    PRIORITY,
    RETRY_AFTER,
    desk_cookie,
)  # fmt: skip
from web.security import plain_headers

log = logging.getLogger("vaxviet.front")

PROGRAM: Final = "haproxy"
#: the longest a request waits in the front's queue before it is answered 503
QUEUE_SECONDS: Final = 5
#: a client that has not sent a whole request head within this is cut off (slow clients
#: would otherwise hold connections for nothing)
REQUEST_HEAD_SECONDS: Final = 10
#: the longest answer the web process may take (the open-data exports are the slowest)
SERVER_SECONDS: Final = 300
#: what the front sends to the edge (`vaxviet.edge`), when it runs: everything a public page
#: asks for that the web process may store (`portal.stored`); the rest goes to the web process
EDGE_PATHS: Final = ("/", "/api", "/verify", "/corrections", "/supply", "/_dash-layout",
                     "/_dash-dependencies", "/_dash-update-component")  # fmt: skip
EDGE_PREFIXES: Final = ("/province/", "/_dash-component-suites/", "/assets/", "/geo/", "/api/v1/")
#: requests in the edge at once (it answers stored ones in a fraction of a millisecond)
EDGE_CONNECTIONS: Final = 64
#: the edge's scheduling priority below the others' (nice): see `_edge_child`
EDGE_NICENESS: Final = 5
#: paths whose answers are JSON (the API, Dash's requests); the rest get the busy page
JSON_PATHS: Final = ("/api/", "/_dash-", "/internal/_dash-")


class FrontError(Exception):
    """The front cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    """Where the front listens, where the web process listens, and the bounds."""

    host: str
    port: int
    socket_path: Path
    run_dir: Path
    app_connections: int
    priority_connections: int
    shed_queue: int
    connections: int
    edge: bool = False
    #: production mode (behind TLS): the front's own answers carry Strict-Transport-Security
    #: and the desk cookie is Secure
    production: bool = False

    @property
    def stats_socket(self) -> Path:
        return self.run_dir / "front-stats.sock"

    @property
    def edge_socket(self) -> Path:
        return self.run_dir / "edge.sock"


def program() -> str | None:
    """The haproxy program on PATH, if any."""
    return shutil.which(PROGRAM)


def wanted(choice: str) -> bool:
    """Whether `VAX_FRONT` (auto, haproxy, off) asks for the front here; haproxy without the
    program is an error that says how to install it."""
    if choice == "off":
        return False
    if program() is not None:
        return True
    if choice == "haproxy":
        raise FrontError(
            "VAX_FRONT=haproxy but the haproxy program is not installed "
            "(Debian: apt-get install haproxy; `make run` installs it), or set VAX_FRONT=off"
        )
    log.warning(
        "no haproxy installed: the web process takes connections itself, and a crowd past "
        "what it serves waits unseen instead of being turned away (docs/scaling.md)"
    )
    return False


def run_dir(var_dir: Path) -> Path:
    """A private directory for the sockets: under `var_dir` when its path is short enough
    for a Unix socket address (108 bytes), else a fresh one under the temporary directory."""
    candidate = var_dir / "run"
    if len(str(candidate / "front-stats.sock")) < 100:
        candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
        candidate.chmod(0o700)
        return candidate
    return Path(tempfile.mkdtemp(prefix="vaxviet-front-"))


def plan(
    host: str, port: int, var_dir: Path, web_threads: int, app_connections: int,
    shed_queue: int, connections: int, edge: bool = False, production: bool = False,
) -> Plan:  # fmt: skip
    directory = run_dir(var_dir)
    return Plan(
        host=host,
        port=port,
        socket_path=directory / "web.sock",
        run_dir=directory,
        app_connections=app_connections,
        priority_connections=max(1, web_threads - app_connections),
        shed_queue=shed_queue,
        connections=connections,
        edge=edge,
        production=production,
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def busy_files(plan: Plan) -> dict[str, Path]:
    """The front's three answers to a crowd, written into the run directory: the page and
    the JSON it sends itself, and the whole response for a request that waited too long."""
    html, json_body = plan.run_dir / "busy.html", plan.run_dir / "busy.json"
    html.write_bytes(BUSY_HTML)
    json_body.write_bytes(BUSY_JSON)
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(BUSY_HTML)}\r\n"
        f"Retry-After: {RETRY_AFTER}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    waited = plan.run_dir / "busy-waited.http"
    waited.write_bytes(head.encode() + BUSY_HTML)
    return {"html": html, "json": json_body, "waited": waited}


def render(plan: Plan, files: dict[str, Path]) -> str:
    """The HAProxy configuration of `plan` (2.2 or later)."""
    bind = f"[{plan.host}]:{plan.port}" if ":" in plan.host else f"{plan.host}:{plan.port}"
    priority = " ".join(PRIORITY)
    json_paths = " ".join(JSON_PATHS)
    busy = f'status 503 hdr Retry-After "{RETRY_AFTER}" hdr Cache-Control "no-store"'
    # the answers the web process did not write (the front's own, the edge's errors) get the
    # headers of a plain answer (web.security); the web process's own are left as they are,
    # and so is a 304 (the browser keeps the headers stored with the answer it revalidates)
    security = "".join(
        f"\n    http-after-response set-header {name} {_quoted(value)} "
        f"if !{{ res.hdr({name}) -m found }} !{{ status 304 }}"
        for name, value in plain_headers(plan.production)
    )
    desk = _quoted(desk_cookie(plan.production))
    if plan.edge:
        # the public pages' requests go to the edge; the rest straight to the web process
        edge_acls = (
            f"\n    acl to_edge path {' '.join(EDGE_PATHS)}"
            f"\n    acl to_edge path_beg {' '.join(EDGE_PREFIXES)}"
        )
        routes = "    use_backend direct if !to_edge\n    default_backend app\n"
        app_socket, app_connections = plan.edge_socket, EDGE_CONNECTIONS
        direct = (
            "\nbackend direct\n"
            f"    server web unix@{plan.socket_path} maxconn {plan.app_connections}\n"
        )
        crowded = (
            f"queue(app) gt {plan.shed_queue}\n    acl crowded queue(direct) gt {plan.shed_queue}"
        )
    else:
        routes, edge_acls = "    default_backend app\n", ""
        app_socket, app_connections, direct = plan.socket_path, plan.app_connections, ""
        crowded = f"queue(app) gt {plan.shed_queue}"
    return f"""\
# VaxViet front (vaxviet/front.py): rendered by `python -m vaxviet serve`; do not edit.
global
    maxconn {plan.connections + 64}
    nbthread 1
    # a port another process holds is an error, not shared (SO_REUSEPORT would share it)
    noreuseport
    stats socket {plan.stats_socket} mode 600 level user
    # no access log: a crowd's every request would cost a write

defaults
    mode http
    option http-keep-alive
    option forwardfor
    # a connection to the web process serves any client's next request: a visitor's first
    # request does not cost the web process a connection of its own (accept, close)
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout http-request {REQUEST_HEAD_SECONDS}s
    timeout http-keep-alive 10s
    timeout queue {QUEUE_SECONDS}s
    timeout server {SERVER_SECONDS}s
    errorfile 503 {files["waited"]}

frontend web
    bind {bind}
    maxconn {plan.connections}
    acl desk_page path {" ".join(DESK_PAGES)}
    acl priority path_beg {priority}
    acl priority path {" ".join(DESK_PAGES)}
    acl priority req.cook({DESK_COOKIE}) -m str 1
    acl wants_json path_beg {json_paths}{edge_acls}
    acl crowded {crowded}
    http-request return {busy} content-type "application/json" file {files["json"]} if crowded !priority wants_json
    http-request return {busy} content-type "text/html; charset=utf-8" file {files["html"]} if crowded !priority
    # the edge's own marks are never taken from a client nor shown to one
    http-request del-header X-Vax-Edge
    http-response del-header X-Vax-Stored
    # a browser that opened a desk page is known by this cookie (web.admission.desk_cookie)
    http-request set-var(txn.desk) bool(true) if desk_page
    http-response add-header Set-Cookie {desk} if {{ var(txn.desk) -m bool }}{security}
    use_backend priority if priority
{routes}
backend app
    server web unix@{app_socket} maxconn {app_connections}
{direct}
backend priority
    server web unix@{plan.socket_path} maxconn {plan.priority_connections}
"""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the front gets SIGTERM when the serve process dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _edge_child() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The edge dies with its parent too, and yields the cores to haproxy and the web
    process when they are short: under a crowd, turning requests away at once and the
    certificate lookups come before more page views."""
    _die_with_parent()
    os.nice(EDGE_NICENESS)


@dataclass
class Front:
    """The running front: the haproxy child of the serve process."""

    plan: Plan
    config_path: Path
    process: subprocess.Popen[bytes] | None = None
    edge: subprocess.Popen[bytes] | None = None
    _watch: threading.Thread | None = field(default=None, repr=False)
    _stopping: bool = False

    @classmethod
    def prepare(cls, plan: Plan) -> Front:
        """Write the configuration and have haproxy check it (a clear error if it is bad)."""
        executable = program()
        if executable is None:
            raise FrontError("the haproxy program is not installed")
        config_path = plan.run_dir / "front.cfg"
        config_path.write_text(render(plan, busy_files(plan)))
        checked = subprocess.run(  # noqa: S603 - haproxy on PATH, our own configuration
            [executable, "-c", "-q", "-f", str(config_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if checked.returncode != 0:
            raise FrontError(f"haproxy refused {config_path}: {checked.stderr.strip()}")
        return cls(plan, config_path)

    def start(self, timeout: float = 10.0) -> None:
        """Start the edge (if planned) and haproxy; returns once haproxy accepts connections
        on the public address."""
        if self.plan.edge:
            self._start_edge(timeout)
        executable = program() or PROGRAM
        self.process = subprocess.Popen(  # noqa: S603 - haproxy on PATH, our own configuration
            [executable, "-db", "-f", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = (
                    self.process.stdout.read().decode(errors="replace")
                    if self.process.stdout
                    else ""
                )
                raise FrontError(
                    f"haproxy stopped at start (exit {self.process.returncode}) on "
                    f"{self.plan.host}:{self.plan.port}: {output.strip()[-500:]}"
                )
            if _accepts(self.plan.host, self.plan.port) and self._answers():
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise FrontError(f"haproxy did not listen on {self.plan.host}:{self.plan.port}")
        self._watch = threading.Thread(
            target=self._watch_child, args=(self.process, "haproxy"), name="front-watch",
            daemon=True,
        )  # fmt: skip
        self._watch.start()

    def _start_edge(self, timeout: float) -> None:
        """The edge process (`vaxviet.edge`), answering on its socket."""
        self.plan.edge_socket.unlink(missing_ok=True)
        self.edge = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-m", "vaxviet.edge", "--socket", str(self.plan.edge_socket),
             "--origin", str(self.plan.socket_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_edge_child if sys.platform == "linux" else None,
        )  # fmt: skip
        deadline = time.monotonic() + max(timeout, 60.0)  # it imports the portal's rules
        while not _edge_answers(self.plan.edge_socket):
            if self.edge.poll() is not None or time.monotonic() > deadline:
                output = (
                    self.edge.stdout.read().decode(errors="replace") if self.edge.stdout else ""
                )
                self.stop()
                raise FrontError(f"the edge did not start: {output.strip()[-500:]}")
            time.sleep(0.05)
        threading.Thread(
            target=self._watch_child, args=(self.edge, "edge"), name="edge-watch", daemon=True
        ).start()

    def _answers(self) -> bool:
        """Whether haproxy's statistics socket answers (it is up, its listeners bound)."""
        try:
            statistics(self.plan.stats_socket, timeout=0.5)
        except (OSError, IndexError):
            return False
        return True

    def _watch_child(self, child: subprocess.Popen[bytes], name: str) -> None:
        """A child's own messages go to the log; if it stops while we serve, so do we (a
        supervisor restarts all; serving with nobody taking connections helps no one)."""
        assert child.stdout is not None
        for line in child.stdout:
            log.warning("%s: %s", name, line.decode(errors="replace").rstrip())
        code = child.wait()
        if not self._stopping:
            log.error("the front's %s stopped with exit %s: stopping the serve process", name, code)
            os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        self._stopping = True
        for child in (self.process, self.edge):
            if child is not None and child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        for path in (self.plan.socket_path, self.plan.stats_socket, self.plan.edge_socket):
            path.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        """For /healthz: the bounds, and from haproxy's statistics the requests queued now,
        the most ever queued, and how many the front turned away."""
        document: dict[str, Any] = {
            "program": "haproxy",
            "running": self.process is not None and self.process.poll() is None,
            "shed_queue": self.plan.shed_queue,
            "app_connections": self.plan.app_connections,
        }
        try:
            document.update(statistics(self.plan.stats_socket))
        except OSError as error:
            document["statistics"] = f"unavailable: {type(error).__name__}"
        if self.plan.edge:
            try:
                document["edge"] = {
                    "running": self.edge is not None and self.edge.poll() is None,
                    **edge_statistics(self.plan.edge_socket),
                }
            except (OSError, ValueError) as error:
                document["edge"] = {"running": False, "statistics": type(error).__name__}
        return document


ANY_ADDRESS: Final = ("", "0.0.0.0", "::")  # noqa: S104 - recognised, not bound


def _accepts(host: str, port: int) -> bool:
    """Whether something accepts connections at `host`:`port` (any address: loopback)."""
    try:
        target = "127.0.0.1" if host in ANY_ADDRESS else host
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


def _ask(where: Path, request: bytes, timeout: float) -> bytes:
    """Send `request` on a Unix socket and read the answer to the end of the connection."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(str(where))
        client.sendall(request)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def edge_statistics(edge_socket: Path, timeout: float = 1.0) -> dict[str, int]:
    """The edge's counts (its ``/_edge-status``, which the front never routes to it)."""
    request = b"GET /_edge-status HTTP/1.1\r\nhost: edge\r\nconnection: close\r\n\r\n"
    head, _, body = _ask(edge_socket, request, timeout).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ValueError("the edge did not give its counts")
    found: dict[str, int] = json.loads(body)
    return found


def _edge_answers(edge_socket: Path) -> bool:
    try:
        edge_statistics(edge_socket, timeout=0.5)
    except (OSError, ValueError):
        return False
    return True


def statistics(stats_socket: Path, timeout: float = 1.0) -> dict[str, int]:
    """Read haproxy's `show stat` on its stats socket: queued now and at most (app backend),
    requests turned away (the frontend's intercepted requests) and answered 503 by the
    queue's time limit (app backend)."""
    lines = _ask(stats_socket, b"show stat\n", timeout).decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = {}
    for line in lines[1:]:
        values = dict(zip(header, line.split(","), strict=False))
        rows[(values.get("pxname"), values.get("svname"))] = values

    def number(row: tuple[str, str], name: str) -> int:
        text = rows.get(row, {}).get(name, "")
        return int(text) if text.isdigit() else 0

    return {
        "queued": number(("app", "BACKEND"), "qcur"),
        "queued_max": number(("app", "BACKEND"), "qmax"),
        "in_app": number(("app", "BACKEND"), "scur"),
        "turned_away": number(("web", "FRONTEND"), "intercepted"),
        "requests": number(("web", "FRONTEND"), "req_tot"),
    }
