"""The edge: a second process that serves the portal's stored answers, so a crowd's page
views do not queue for the interpreter lock of the process that holds the warehouse.

Why: the web process answers a returning visitor's view from stored bytes (`web.stored`),
but it is also where the certificate lookups, the internal dashboards and the warehouse's
client live, all under one interpreter lock. Measured (docs/benchmarks.md, "Portal under a
crowd"), 150 code requests a second took the portal beside them from 282 to 115 views/s.
The edge holds copies of what the web process marks as stored (``X-Vax-Stored``) and
answers them on the other core; the front sends it the public pages' requests and sends
the lookups, ``/internal/`` and ``/healthz`` to the web process directly.

* What it may keep is decided as in the web process: the same rules
  (:class:`portal.stored.PortalRules`), and only an answer the web process marked as
  stored (it never marks a certificate's callback, a response with ``Set-Cookie``, a
  ``no-store`` one, or anything while the data come from fallback copies). Keys are the
  method, path, query and body, as there; cookies and other headers never reach a key,
  and the edge asks the web process for a shared answer without the visitor's cookies.
* Freshness: an answer of a data version is served for `FRESH_SECONDS` after the web process
  last confirmed it (the web process itself learns a new version within a second), then
  asked again with its ``ETag``: a ``304`` from the stored answers costs the web process
  little. Fingerprinted static files are kept for the life of the process.
* One request fetches a missing answer while the others asking the same wait for it;
  memory is bounded (`MAX_BYTES`, least recently used out).
* Everything else (a request no rule names, a body too large, a response not marked) is
  passed through to the web process byte for byte.

The edge speaks HTTP/1.1 to the front on a private Unix socket (mode 0600) and to the web
process on its socket; `python -m vaxviet serve` starts it beside the front
(:class:`vaxviet.front.Front`) and stops it; it also dies with its parent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import logging
import signal
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("vaxviet.edge")

#: how long an answer of a data version is served before the web process is asked again
FRESH_SECONDS: Final = 1.0
#: the edge's memory for answers, bodies together
MAX_BYTES: Final = 64 * 1024 * 1024
#: a request body larger than this is passed through, never a key
MAX_BODY_BYTES: Final = 64 * 1024
#: the largest request body the edge reads (a photo posted to the verifier is a few MB)
MAX_REQUEST_BYTES: Final = 32 * 1024 * 1024
#: the longest request head the edge reads
MAX_HEAD_BYTES: Final = 64 * 1024
#: requests the edge sends to the web process at once; more wait their turn
ORIGIN_CONNECTIONS: Final = 16
#: the web process's answer to one request, at most (the open-data exports are the slowest)
ORIGIN_SECONDS: Final = 300.0
#: the header by which the web process marks an answer as stored, and its data version
STORED_HEADER: Final = b"x-vax-stored"
#: headers of a visitor's request that concern only the way to the edge (it has the body)
HOP_HEADERS: Final = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"expect", b"te"}
)
#: headers of a visitor's request that a shared answer is never asked with: whatever makes
#: it this visitor's own, and the hop headers
PRIVATE_HEADERS: Final = HOP_HEADERS | {
    b"cookie",
    b"authorization",
    b"if-none-match",
    b"if-modified-since",
}
#: headers of a stored response the edge does not replay (it sets its own)
NOT_REPLAYED: Final = frozenset(
    {b"content-length", b"connection", b"keep-alive", b"transfer-encoding", b"date",
     b"server", STORED_HEADER}
)  # fmt: skip


class BadRequestError(Exception):
    """A request the edge cannot read; answered `status` (400, or 413 for a body too
    large) and the connection closed."""

    def __init__(self, message: str, status: bytes = b"400 Bad Request") -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    keep_alive: bool

    def header(self, name: bytes) -> bytes:
        for key, value in self.headers:
            if key == name:
                return value
        return b""


@dataclass
class Answer:
    """A stored answer as the edge replays it."""

    status: bytes  # b"200 OK"
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    gzipped: bool
    static: bool
    checked_at: float

    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 128


#: the web process's answer as it came: status, headers, body
Relayed = tuple[bytes, list[tuple[bytes, bytes]], bytes]


@dataclass
class Statistics:
    hits: int = 0
    not_modified: int = 0
    fetched: int = 0
    revalidated: int = 0
    passed: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Edge:
    """The edge's answers and its way to the web process."""

    origin: str  # the web process's Unix socket
    rules: Any  # rule_for(method, path, query, body) -> Rule | None
    max_bytes: int = MAX_BYTES
    fresh_seconds: float = FRESH_SECONDS
    answers: OrderedDict[tuple[bytes, bytes, bytes], Answer] = field(default_factory=OrderedDict)
    stored_bytes: int = 0
    statistics: Statistics = field(default_factory=Statistics)
    _flights: dict[tuple[bytes, bytes, bytes], asyncio.Future[Answer | None]] = field(
        default_factory=dict
    )
    _origin_slots: asyncio.Semaphore | None = None

    # -- serving -----------------------------------------------------------------------------

    async def answer(self, request: Request, writer: asyncio.StreamWriter) -> None:
        method = b"GET" if request.method == b"HEAD" else request.method
        key = (method, request.target, request.body)
        found = self.answers.get(key)
        now = time.monotonic()
        if found is not None and (found.static or now - found.checked_at < self.fresh_seconds):
            self.answers.move_to_end(key)
            self.statistics.hits += 1
            self._send(found, request, writer)
            return
        if method not in (b"GET", b"POST") or len(request.body) > MAX_BODY_BYTES:
            await self._pass(request, writer)
            return
        path, _, query = request.target.decode("latin-1").partition("?")
        try:
            rule = self.rules(method.decode(), path, query, request.body)
        except Exception:  # a rule that cannot read the request: the web process decides
            rule = None
        if rule is None:
            await self._pass(request, writer)
            return
        stored = await self._shared(key, request, found)
        if isinstance(stored, Answer):
            self._send(stored, request, writer)
        elif stored is not None:  # not stored: the web process's answer, relayed as it came
            self.statistics.passed += 1
            self._relay(*stored, request, writer)
        else:  # another request's fetch found it not stored: this one asks for itself
            await self._pass(request, writer)

    async def _shared(
        self, key: tuple[bytes, bytes, bytes], request: Request, known: Answer | None
    ) -> Answer | Relayed | None:
        """The stored answer for `key`, fetched or revalidated once for everyone asking; when
        the web process did not store it, its answer for the request that asked (the
        others waiting get None)."""
        running = self._flights.get(key)
        if running is not None:
            return await asyncio.shield(running)
        flight: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            fetched = await self._fetch_shared(request, known)
            if isinstance(fetched, Answer):
                self._keep(key, fetched)
                flight.set_result(fetched)
            else:
                self._forget(key)
                flight.set_result(None)
            return fetched
        except BaseException as error:
            flight.set_exception(error)
            flight.exception()  # retrieved: waiters get it, nobody warns
            raise
        finally:
            del self._flights[key]

    async def _fetch_shared(self, request: Request, known: Answer | None) -> Answer | Relayed:
        # the visitor's Accept-Encoding goes along: an answer the web process does not store
        # comes back to this visitor as it is (a stored one is gzip for whoever accepts it)
        headers = [(k, v) for k, v in request.headers if k not in PRIVATE_HEADERS]
        if known is not None:
            headers.append((b"if-none-match", known.etag))
        head, body = await self._exchange(
            request.method if request.method != b"HEAD" else b"GET",
            request.target,
            headers,
            request.body,
        )
        status, response_headers = head
        marked = any(name == STORED_HEADER for name, _ in response_headers)
        if status.startswith(b"304") and known is not None and marked:
            self.statistics.revalidated += 1
            known.checked_at = time.monotonic()
            return known
        # a visitor without gzip gets the plain copy of an answer that has a gzip one: not
        # kept, or every visitor after would get the larger copy
        plain_of_gzip = b"gzip" not in request.header(b"accept-encoding") and any(
            name == b"vary" for name, _ in response_headers
        )
        if not marked or plain_of_gzip or status[:3] not in (b"200", b"204"):
            return status, response_headers, body
        self.statistics.fetched += 1
        etag = b""
        gzipped = False
        static = False
        for name, value in response_headers:
            if name == b"etag":
                etag = value
            elif name == b"content-encoding":
                gzipped = value == b"gzip"
            elif name == STORED_HEADER:
                static = value == b"static"
        kept = [(n, v) for n, v in response_headers if n not in NOT_REPLAYED]
        return Answer(status, kept, body, etag, gzipped, static, time.monotonic())

    def _keep(self, key: tuple[bytes, bytes, bytes], answer: Answer) -> None:
        self._forget(key)
        self.answers[key] = answer
        self.stored_bytes += answer.size()
        while self.stored_bytes > self.max_bytes and self.answers:
            _, dropped = self.answers.popitem(last=False)
            self.stored_bytes -= dropped.size()

    def _forget(self, key: tuple[bytes, bytes, bytes]) -> None:
        old = self.answers.pop(key, None)
        if old is not None:
            self.stored_bytes -= old.size()

    def _send(self, answer: Answer, request: Request, writer: asyncio.StreamWriter) -> None:
        connection = b"keep-alive" if request.keep_alive else b"close"
        if answer.etag and answer.etag in request.header(b"if-none-match"):
            self.statistics.not_modified += 1
            lines = [b"HTTP/1.1 304 Not Modified"]
            lines += [k + b": " + v for k, v in answer.headers if k != b"content-type"]
            lines += [b"connection: " + connection, b"", b""]
            writer.write(b"\r\n".join(lines))
            return
        body, headers = answer.body, answer.headers
        if answer.gzipped and b"gzip" not in request.header(b"accept-encoding"):
            body = gzip.decompress(body)
            headers = [(k, v) for k, v in headers if k != b"content-encoding"]
        lines = [b"HTTP/1.1 " + answer.status, *(k + b": " + v for k, v in headers)]
        lines += [b"content-length: " + str(len(body)).encode(), b"connection: " + connection]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        if request.method != b"HEAD":
            writer.write(body)

    async def _pass(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """The web process's own answer to this request, relayed as it came."""
        self.statistics.passed += 1
        headers = [(k, v) for k, v in request.headers if k not in HOP_HEADERS]
        (status, response_headers), body = await self._exchange(
            request.method, request.target, headers, request.body
        )
        self._relay(status, response_headers, body, request, writer)

    @staticmethod
    def _relay(
        status: bytes, response_headers: list[tuple[bytes, bytes]], body: bytes,
        request: Request, writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        connection = b"keep-alive" if request.keep_alive else b"close"
        kept = [(k, v) for k, v in response_headers if k not in NOT_REPLAYED]
        lines = [b"HTTP/1.1 " + status, *(k + b": " + v for k, v in kept)]
        if status[:3] not in (b"204", b"304"):
            length = dict(response_headers).get(b"content-length", b"0")
            size = length if request.method == b"HEAD" else str(len(body)).encode()
            lines.append(b"content-length: " + size)
        lines.append(b"connection: " + connection)
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        if request.method != b"HEAD":
            writer.write(body)

    async def _exchange(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[tuple[bytes, list[tuple[bytes, bytes]]], bytes]:
        """One request to the web process on a connection of its own: (status, headers),
        body (de-chunked)."""
        if self._origin_slots is None:
            self._origin_slots = asyncio.Semaphore(ORIGIN_CONNECTIONS)
        async with self._origin_slots:
            reader, writer = await asyncio.open_unix_connection(self.origin, limit=1 << 20)
            try:
                lines = [method + b" " + target + b" HTTP/1.1"]
                lines += [k + b": " + v for k, v in headers]
                lines += [b"x-vax-edge: 1", b"content-length: " + str(len(body)).encode()]
                lines += [b"connection: close"]
                writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
                return await asyncio.wait_for(read_response(reader, method), ORIGIN_SECONDS)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


# -- HTTP/1.1 framing -----------------------------------------------------------------------


def _head(block: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    first, *rest = block.split(b"\r\n")
    headers = []
    for line in rest:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadRequestError("a header line without a colon")
        headers.append((name.strip().lower(), value.strip()))
    return first, headers


async def _body(
    reader: asyncio.StreamReader, headers: list[tuple[bytes, bytes]], limit: int = 0
) -> bytes | None:
    """The body framed by these headers; None when it runs to the end of the connection.
    Past `limit` bytes (when given), an error."""
    values = dict(headers)
    if b"chunked" in values.get(b"transfer-encoding", b"").lower():
        chunks: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
            if limit and sum(map(len, chunks)) > limit:
                raise BadRequestError("the request body is too large", b"413 Content Too Large")
    length = values.get(b"content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    return None


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None = None
) -> Request | None:
    """The next request on a connection from the front; None at its end. A client that
    waits for ``100 Continue`` before its body is told to go on (on `writer`)."""
    try:
        block = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as partial:
        if partial.partial.strip():
            raise BadRequestError("the connection ended inside a request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequestError("the request head is too large") from None
    first, headers = _head(block[:-4])
    parts = first.split(b" ")
    if len(parts) != 3:
        raise BadRequestError("a request line the edge cannot read")
    method, target, version = parts
    values = dict(headers)
    if int(values.get(b"content-length", b"0") or b"0") > MAX_REQUEST_BYTES:
        raise BadRequestError("the request body is too large", b"413 Content Too Large")
    if writer is not None and values.get(b"expect", b"").lower() == b"100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _body(reader, headers, MAX_REQUEST_BYTES) or b""
    connection = dict(headers).get(b"connection", b"").lower()
    keep_alive = b"close" not in connection and version == b"HTTP/1.1"
    return Request(method, target, version, headers, body, keep_alive)


async def read_response(
    reader: asyncio.StreamReader, method: bytes
) -> tuple[tuple[bytes, list[tuple[bytes, bytes]]], bytes]:
    while True:  # an interim answer (100 Continue) is not the answer
        block = await reader.readuntil(b"\r\n\r\n")
        first, headers = _head(block[:-4])
        status = first.partition(b" ")[2]
        if status[:1] != b"1":
            break
    if method == b"HEAD" or status[:3] in (b"204", b"304"):
        return (status, headers), b""
    body = await _body(reader, headers)
    if body is None:
        body = await reader.read()
    return (status, headers), body


# -- the process ----------------------------------------------------------------------------


def status_document(edge: Edge) -> dict[str, Any]:
    return {
        "answers": len(edge.answers),
        "bytes": edge.stored_bytes,
        **edge.statistics.as_dict(),
    }


async def serve(
    socket_path: str, origin: str, rules: Any, stop: asyncio.Event | None = None,
    edge: Edge | None = None,
) -> None:  # fmt: skip
    """Answer on `socket_path` until `stop` is set (without one: until SIGTERM or SIGINT)."""
    edge = edge or Edge(origin, rules)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await read_request(reader, writer)
                except (BadRequestError, ValueError, asyncio.IncompleteReadError) as error:
                    status = getattr(error, "status", b"400 Bad Request")
                    writer.write(
                        b"HTTP/1.1 "
                        + status
                        + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                    break
                if request is None:
                    break
                if request.target == b"/_edge-status":  # the front never routes it here
                    body = json.dumps(status_document(edge)).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"cache-control: no-store\r\ncontent-length: "
                        + str(len(body)).encode()
                        + b"\r\n\r\n"
                        + body
                    )
                else:
                    try:
                        await edge.answer(request, writer)
                    except (
                        OSError,
                        asyncio.IncompleteReadError,
                        TimeoutError,
                        ValueError,
                    ) as error:
                        edge.statistics.errors += 1
                        log.warning("the web process did not answer: %s", type(error).__name__)
                        writer.write(
                            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n"
                            b"connection: close\r\n\r\n"
                        )
                        await writer.drain()
                        break
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    where = Path(socket_path)
    where.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(connection, socket_path, limit=MAX_HEAD_BYTES * 4)
    where.chmod(0o600)
    if stop is None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    where.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vaxviet.edge", description=__doc__)
    parser.add_argument("--socket", required=True, help="where the front reaches the edge")
    parser.add_argument("--origin", required=True, help="the web process's socket")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from portal.stored import PortalRules

    asyncio.run(serve(args.socket, args.origin, PortalRules()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
