"""Stored answers: what depends only on the data version and the request is computed once per
data version and served as stored bytes, compressed once, with an ``ETag``.

A public page changes only when the data does (each ETL commit gives a new data version;
:mod:`web.cache`), yet Dash rebuilds and serialises it for every visitor: the home page's
content alone costs about 57 ms of server time and 365 kB. :class:`StoredAnswers` is a WSGI
middleware in front of the whole server. For a request its :class:`Rule` names (a public
page, Dash's layout and dependencies, a public callback, an open-data URL, a script
bundle) it looks up ``(data version, key)`` and, when found, answers from memory: the
gzip bytes for a client that accepts them, ``304 Not Modified`` for one that sends the
answer's ``ETag`` back. On a miss one request computes the answer through the app (others
asking the same wait for it: single flight) and it is stored if it may be (status 200 or
204, no ``Set-Cookie``, not ``no-store``/``private``).

What is stored holds no personal data: rules name public outputs only (the certificate
pages' callbacks and every ``/api/v1/certificate/`` path are never stored), and nothing of
the request but the method, path, query and, for callbacks, the JSON body goes into a key.

Memory is bounded (:data:`MAX_BYTES`, least recently used out first); a new data version
starts an empty store (answers of the previous one are dropped at once), and the warmer
(:meth:`StoredAnswers.refill`) computes the most asked answers of the previous version for
the new one before visitors move to it. When the data come from fallback copies (the
warehouse unreachable) nothing is stored or served from the store: pages then carry the
stale-data banner.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Final

log = logging.getLogger("vaxviet.web")

#: the edge process asks with this header (``X-Vax-Edge: 1``) and keeps only what this
#: mark says is stored: "static" (for the process's life) or "version" (the data version's)
EDGE_ENVIRON: Final = "HTTP_X_VAX_EDGE"
EDGE_MARK: Final = "X-Vax-Stored"

#: where the server keeps its store (``flask.Flask.extensions``)
EXTENSION_KEY: Final = "vaxviet.stored"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: the store's size bound, bodies and their compressed copies together
MAX_BYTES: Final = 96 * 1024 * 1024
#: an answer larger than this is not stored (computed per request)
MAX_ANSWER_BYTES: Final = 8 * 1024 * 1024
#: a request body larger than this is never a key
MAX_BODY_BYTES: Final = 64 * 1024
#: how many of the previous version's most asked answers the warmer computes again
REFILL: Final = 48
#: how long the data version is taken as known before it is asked again (seconds)
VERSION_TTL: Final = 1.0
#: how long a request waits for another computing the same answer before computing it too
FLIGHT_WAIT: Final = 30.0
GZIP_LEVEL: Final = 6
MIN_GZIP_BYTES: Final = 1024
STORABLE_STATUS: Final = frozenset({"200", "204"})
#: headers of the app's answer that are not replayed (the store sets its own)
NOT_REPLAYED: Final = frozenset(
    {"content-length", "content-encoding", "etag", "vary", "date", "server", "set-cookie",
     "transfer-encoding", "connection"}
)  # fmt: skip
COMPRESSIBLE: Final = (
    "text/", "application/json", "application/geo+json", "application/javascript", "image/svg"
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """What a request is to the store: its `key` (unique within a data version, or across
    versions when `static`) and the `cache_control` sent with the answer (None: the
    app's own)."""

    key: str
    static: bool = False
    cache_control: str | None = None


@dataclass(frozen=True)
class Answer:
    """The app's answer; a `storable` one holds the headers replayed (the store sets the
    others), one that is not holds all of the app's headers and is sent once as it is."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    gzipped: bytes | None
    etag: str
    storable: bool = True

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + 200


@dataclass(frozen=True)
class Replay:
    """Enough of a request to compute its answer again: method, path, query, body and
    content type (never cookies or other headers)."""

    method: str
    path: str
    query: str
    body: bytes
    content_type: str

    def environ(self, base: Environ) -> Environ:
        environ = dict(base)
        environ.update(
            {
                "REQUEST_METHOD": self.method,
                "PATH_INFO": self.path,
                "QUERY_STRING": self.query,
                "CONTENT_TYPE": self.content_type,
                "CONTENT_LENGTH": str(len(self.body)),
                "wsgi.input": BytesIO(self.body),
            }
        )
        return environ


@dataclass
class Statistics:
    hits: int = 0
    not_modified: int = 0
    misses: int = 0
    stored: int = 0
    passed: int = 0  # a rule matched but the answer could not be stored
    bypassed: int = 0  # data from fallback copies: not served from the store

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Generation:
    """The answers of one data version, least recently used first."""

    version: str
    answers: OrderedDict[str, Answer] = field(default_factory=OrderedDict)
    asked: Counter[str] = field(default_factory=Counter)
    replays: dict[str, Replay] = field(default_factory=dict)


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _compressible(headers: Iterable[tuple[str, str]]) -> bool:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.startswith(COMPRESSIBLE)
    return False


def _accepts_gzip(environ: Environ) -> bool:
    return "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")


def _read_body(environ: Environ) -> bytes | None:
    """The request body, read once and put back for the app; None when too large."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > MAX_BODY_BYTES:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = BytesIO(body)
    return body


class StoredAnswers:
    """WSGI middleware serving stored answers of `app` for the requests `rule_for` names.

    `rule_for(method, path, query, body)` returns a :class:`Rule` or None (not stored);
    `version()` returns ``(data version, stale)``, called at most every
    :data:`VERSION_TTL` seconds."""

    def __init__(
        self,
        app: WsgiApp,
        rule_for: Callable[[str, str, str, bytes], Rule | None],
        version: Callable[[], tuple[str, bool]],
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.app = app
        self.rule_for = rule_for
        self._version = version
        self.max_bytes = max_bytes
        self.statistics = Statistics()
        self._lock = threading.Lock()
        self._generation = _Generation("")
        self._static: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0
        self._flights: dict[str, threading.Event] = {}
        self._pending: _Generation | None = None  # refilled by the warmer, not yet published
        self._known: tuple[float, str, bool] = (-float("inf"), "", False)

    # -- the data version ----------------------------------------------------------------

    def version(self) -> tuple[str, bool]:
        """(data version, stale), asked of the app at most every VERSION_TTL seconds."""
        at, version, stale = self._known
        now = time.monotonic()
        if now - at < VERSION_TTL:
            return version, stale
        try:
            version, stale = self._version()
        except Exception:  # the app answers (and says why) itself
            version, stale = "", True
        self._known = (now, version, stale)
        return version, stale

    def forget_version(self) -> None:
        """Ask the data version again on the next request (after a publication)."""
        self._known = (-float("inf"), "", False)

    # -- the store -----------------------------------------------------------------------

    def _generation_for(self, version: str) -> _Generation:
        """The generation of `version`, a new one (the old dropped) when it changed; the
        lock is held by the caller."""
        if self._generation.version != version:
            dropped = sum(answer.size for answer in self._generation.answers.values())
            self._bytes -= dropped
            self._generation = _Generation(version)
        return self._generation

    def _get(self, rule: Rule, version: str) -> Answer | None:
        with self._lock:
            if rule.static:
                found = self._static.get(rule.key)
                if found is not None:
                    self._static.move_to_end(rule.key)
                return found
            generation = self._generation_for(version)
            generation.asked[rule.key] += 1
            found = generation.answers.get(rule.key)
            if found is not None:
                generation.answers.move_to_end(rule.key)
            return found

    def _put(self, rule: Rule, version: str, answer: Answer, replay: Replay | None) -> None:
        with self._lock:
            if rule.static:
                table = self._static
            else:
                generation = self._generation_for(version)
                table = generation.answers
                if replay is not None:
                    generation.replays[rule.key] = replay
            previous = table.pop(rule.key, None)
            if previous is not None:
                self._bytes -= previous.size
            table[rule.key] = answer
            self._bytes += answer.size
            self.statistics.stored += 1
            self._evict()

    def _evict(self) -> None:
        """Least recently used out, versioned answers first, until under the bound."""
        for table in (self._generation.answers, self._static):
            while self._bytes > self.max_bytes and table:
                _, answer = table.popitem(last=False)
                self._bytes -= answer.size

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._generation = _Generation("")
            self._static.clear()
            self._bytes = 0
            self.forget_version()

    # -- serving -------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD", "POST"):
            return self.app(environ, start_response)
        body = _read_body(environ) if method == "POST" else b""
        if body is None:
            return self.app(environ, start_response)
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        rule = self.rule_for(method if method != "HEAD" else "GET", path, query, body)
        if rule is None:
            return self.app(environ, start_response)
        version, stale = ("", False) if rule.static else self.version()
        if stale or (not rule.static and not version):
            self.statistics.bypassed += 1
            return self.app(environ, start_response)
        answer = self._get(rule, version)
        if answer is None:
            # a HEAD is answered from the GET's answer: computed as a GET, or the app's
            # empty HEAD body would be stored for every GET after it
            asked = "GET" if method == "HEAD" else method
            replay = Replay(asked, path, query, body, environ.get("CONTENT_TYPE", ""))
            answer = self._compute(rule, version, environ, replay)
            if not answer.storable:
                self.statistics.passed += 1
                headers = [(n, v) for n, v in answer.headers if n.lower() != "content-length"]
                start_response(answer.status, [*headers, ("Content-Length", str(len(answer.body)))])
                return [] if method == "HEAD" else [answer.body]
            self.statistics.misses += 1
        else:
            self.statistics.hits += 1
        return self._send(answer, rule, environ, start_response, head=method == "HEAD")

    def _compute(self, rule: Rule, version: str, environ: Environ, replay: Replay) -> Answer:
        """The answer to `rule` at `version`, computed once however many ask at once (an
        answer that may not be stored is computed for each)."""
        flight = f"{'' if rule.static else version}\x00{rule.key}"
        with self._lock:
            running = self._flights.get(flight)
            if running is None:
                self._flights[flight] = threading.Event()
        if running is not None:
            running.wait(FLIGHT_WAIT)
            found = self._get(rule, version)
            if found is not None:
                return found
        try:
            answer = self.fetch(environ, replay)
            if answer.storable:
                self._put(rule, version, answer, replay)
            return answer
        finally:
            if running is None:
                with self._lock:
                    self._flights.pop(flight).set()

    def fetch(self, environ: Environ, replay: Replay) -> Answer:
        """The app's answer to `replay`, uncompressed (see :attr:`Answer.storable`)."""
        inner = replay.environ(environ)
        inner.pop("HTTP_ACCEPT_ENCODING", None)  # the store compresses once itself
        inner.pop("HTTP_IF_NONE_MATCH", None)
        inner.pop("HTTP_IF_MODIFIED_SINCE", None)
        inner.pop("HTTP_COOKIE", None)  # answers are the same for everyone: computed so
        inner.pop("HTTP_AUTHORIZATION", None)
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        chunks = self.app(inner, start)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status = str(captured.get("status", "500"))
        headers: list[tuple[str, str]] = captured.get("headers", [])
        if not self._storable(status, headers, body):
            return Answer(status, tuple(headers), body, None, "", storable=False)
        kept = tuple((name, value) for name, value in headers if name.lower() not in NOT_REPLAYED)
        gzipped = (
            gzip.compress(body, GZIP_LEVEL, mtime=0)
            if len(body) >= MIN_GZIP_BYTES and _compressible(headers)
            else None
        )
        return Answer(status, kept, body, gzipped, entity_tag(body))

    @staticmethod
    def _storable(status: str, headers: list[tuple[str, str]], body: bytes) -> bool:
        if status[:3] not in STORABLE_STATUS or len(body) > MAX_ANSWER_BYTES:
            return False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "set-cookie" or lowered == "content-encoding":
                return False
            if lowered == "cache-control" and ("no-store" in value or "private" in value):
                return False
        return True

    def _send(
        self,
        answer: Answer,
        rule: Rule,
        environ: Environ,
        start_response: StartResponse,
        head: bool = False,
    ) -> Iterable[bytes]:
        headers = [
            (name, value)
            for name, value in answer.headers
            if not (rule.cache_control and name.lower() == "cache-control")
        ]
        if rule.cache_control:
            headers.append(("Cache-Control", rule.cache_control))
        headers.append(("ETag", answer.etag))
        if answer.gzipped is not None:
            headers.append(("Vary", "Accept-Encoding"))
        if environ.get(EDGE_ENVIRON):  # the edge (vaxviet/edge.py) may keep a copy
            headers.append((EDGE_MARK, "static" if rule.static else "version"))
        if answer.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            self.statistics.not_modified += 1
            kept = [(n, v) for n, v in headers if n.lower() != "content-type"]
            start_response("304 Not Modified", kept)
            return []
        body = answer.body
        if answer.gzipped is not None and _accepts_gzip(environ):
            body = answer.gzipped
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response(answer.status, headers)
        return [] if head else [body]

    # -- the warmer ----------------------------------------------------------------------

    def popular(self, count: int = REFILL) -> list[Replay]:
        """The requests most asked at the current version (for the next one)."""
        with self._lock:
            generation = self._generation
            keys = [key for key, _ in generation.asked.most_common(count)]
            return [generation.replays[key] for key in keys if key in generation.replays]

    def refill(self, version: str, replays: Iterable[Replay], base: Environ) -> int:
        """Compute `replays` for `version` (a warmer does so before publishing it); returns
        how many were stored. The previous version's answers stay served meanwhile."""
        fresh = _Generation(version)
        with self._lock:
            asked = Counter(self._generation.asked)
        count = 0
        for replay in replays:
            rule = self.rule_for(replay.method, replay.path, replay.query, replay.body)
            if rule is None or rule.static:
                continue
            try:
                answer = self.fetch(base, replay)
            except Exception:
                log.exception("stored answers: %s %s failed", replay.method, replay.path)
                continue
            if answer.storable:
                fresh.answers[rule.key] = answer
                fresh.replays[rule.key] = replay
                # popularity carries over, halved: through a quiet version (the live demo
                # commits every few seconds) the answers asked before are still computed
                fresh.asked[rule.key] = max(1, asked[rule.key] // 2)
                count += 1
        with self._lock:
            if self._generation.version == version:  # visitors got there first: merge
                for key, answer in fresh.answers.items():
                    self._generation.answers.setdefault(key, answer)
                self._generation.replays.update(fresh.replays)
                self._bytes = self._count_bytes()
            else:
                self._pending = fresh
        return count

    def adopt(self, version: str) -> None:
        """Make the refilled generation of `version` current (called when it is published)."""
        with self._lock:
            pending = self._pending
            if pending is not None and pending.version == version:
                self._generation = pending
                self._pending = None
                self._bytes = self._count_bytes()
                self._evict()
        self.forget_version()

    def _count_bytes(self) -> int:
        return sum(a.size for a in self._generation.answers.values()) + sum(
            a.size for a in self._static.values()
        )

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "version": self._generation.version,
                "answers": len(self._generation.answers),
                "static": len(self._static),
                "bytes": self._bytes,
                **self.statistics.as_dict(),
            }
