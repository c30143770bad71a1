"""The web server under the platform: waitress, with each request stamped when it is queued.

waitress reads requests on one thread and queues them until one of its worker threads is
free. :class:`StampingDispatcher` notes when each was queued, so that the application can
tell how long a request waited (:func:`waited`) and turn it away early when the machine is
behind (:mod:`web.admission`).
"""

from __future__ import annotations

import time
from typing import Any

from waitress.task import ThreadedTaskDispatcher

#: the attribute a queued connection carries: when its request was queued (monotonic)
QUEUED_AT = "vaxviet_queued_at"


class StampingDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, noting on each queued connection when it was queued."""

    def add_task(self, task: Any) -> None:
        setattr(task, QUEUED_AT, time.monotonic())
        super().add_task(task)

    def queued(self) -> int:
        """How many requests wait for a thread now."""
        return len(self.queue)


def waited(environ: dict[str, Any]) -> float | None:
    """Seconds the request in `environ` waited for a thread; None when the server did not
    stamp it (another server, or a test client)."""
    probe = environ.get("waitress.client_disconnected")
    channel = getattr(probe, "__self__", None)
    queued_at = getattr(channel, QUEUED_AT, None)
    if queued_at is None:
        return None
    return time.monotonic() - float(queued_at)


def serve(app: Any, host: str, port: int, threads: int) -> None:
    """Serve `app` with waitress until interrupted."""
    import logging

    import waitress

    # waitress warns on every request queued behind busy threads; web.admission reports
    # overload once every few seconds instead
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    dispatcher = StampingDispatcher()
    dispatcher.set_thread_count(threads)
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=max(100, 4 * threads),
        # poll(), not select(): select() fails outright on a descriptor numbered 1024 or
        # more, and chDB's open files push connections past that under load
        asyncore_use_poll=True,
        ident="vaxviet",
        _dispatcher=dispatcher,
    )
