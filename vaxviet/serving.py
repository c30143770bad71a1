"""The web server under the platform: waitress, with each request stamped when it is queued.

waitress reads requests on one thread and queues them until one of its worker threads is
free. :class:`StampingDispatcher` notes on each request, as it queues it, how many requests
were already waiting for a thread (:func:`queue_ahead`) and when (:func:`waited`), so that
the application can turn it away at once when the queue is past its bound
(:mod:`web.admission`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from waitress.task import ThreadedTaskDispatcher

#: the attributes a queued connection carries: when its request was queued (monotonic), and
#: how many requests were waiting for a thread then
QUEUED_AT = "vaxviet_queued_at"
AHEAD = "vaxviet_queue_ahead"


class StampingDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, noting on each queued connection when it was queued and how
    many requests were waiting for a thread then. A request for one of the `priority` paths
    goes to the head of the queue (the certificate lookup and /healthz: they must not wait
    behind a crowd of page views)."""

    def __init__(self, priority: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.priority = priority

    def _first_path(self, task: Any) -> str:
        requests = getattr(task, "requests", None)
        return str(getattr(requests[0], "path", "")) if requests else ""

    def add_task(self, task: Any) -> None:
        idle = len(self.threads) - self.stop_count - self.active_count
        setattr(task, QUEUED_AT, time.monotonic())
        if self.priority and self._first_path(task).startswith(self.priority):
            setattr(task, AHEAD, 0)
            with self.lock:
                self.queue.appendleft(task)
                self.queue_cv.notify()
            return
        setattr(task, AHEAD, max(0, len(self.queue) - idle))
        super().add_task(task)


def _channel(environ: dict[str, Any]) -> Any:
    return getattr(environ.get("waitress.client_disconnected"), "__self__", None)


def queue_ahead(environ: dict[str, Any]) -> int | None:
    """How many requests waited for a thread when the request in `environ` was queued; None
    when the server did not note it (another server, or a test client)."""
    ahead = getattr(_channel(environ), AHEAD, None)
    return None if ahead is None else int(ahead)


def waited(environ: dict[str, Any]) -> float | None:
    """Seconds the request in `environ` waited for a thread (None: not noted)."""
    queued_at = getattr(_channel(environ), QUEUED_AT, None)
    return None if queued_at is None else time.monotonic() - float(queued_at)


def serve(
    app: Any,
    host: str,
    port: int,
    threads: int,
    connections: int,
    priority: tuple[str, ...] = (),
    unix_socket: str = "",
    listening: Callable[[], None] | None = None,
) -> None:
    """Serve `app` with waitress until interrupted (`listening`, if given, is called once
    the socket is bound, before the first request is taken): `threads` requests at once, up to
    `connections` open connections (idle keep-alive ones included: past the limit, new
    connections wait unaccepted, where no queue bound can see them), `priority` paths
    first. With `unix_socket`, on that socket (mode 0600: the front's way in) instead of
    `host`:`port`. Proxy headers are left to the app (`vaxviet.server.trust_proxies`):
    waitress would otherwise drop X-Forwarded-For before the app could believe it."""
    import logging

    # waitress warns on every request queued behind busy threads; web.admission reports
    # overload once every few seconds instead
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    dispatcher = StampingDispatcher(priority)
    dispatcher.set_thread_count(threads)
    where: dict[str, Any] = (
        {"unix_socket": unix_socket, "unix_socket_perms": "600"}
        if unix_socket
        else {"host": host, "port": port}
    )
    from waitress.server import create_server

    server = create_server(
        app,
        **where,
        clear_untrusted_proxy_headers=False,
        threads=threads,
        connection_limit=connections,
        backlog=min(connections, 4096),
        # poll(), not select(): select() fails outright on a descriptor numbered 1024 or
        # more, and chDB's open files push connections past that under load
        asyncore_use_poll=True,
        ident="vaxviet",
        _dispatcher=dispatcher,
    )
    if listening is not None:
        listening()
    server.run()
