"""Pages built off the request path.

A page whose figures are not cached yet (a scope nobody has drawn at this data version)
costs its queries: at 50 M doses 0.4 s for one province and up to 1 s for the whole
country on two cores (docs/benchmarks.md, "Internal dashboards"). The page callback does
not hold the request that long: it hands the build to :class:`Builds` and waits at most
:data:`INLINE_SECONDS` for it; a page built by then is answered at once, otherwise the
browser gets the page's frame with a "preparing" notice and asks again every
:data:`dashboards.frame.PENDING_MS` until the build is done (:func:`build_in_background`). One build per page and scope
runs at a time, however many officials ask for it (on one worker thread: the embedded
engine runs one query at a time anyway), and a build that failed is reported to the next
request for it (then tried again on the one after).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Final

import flask

from dashboards.auth import PREFIX
from dashboards.memo import AUDIENCE, body, keyed
from dashboards.view import Context
from web.cache import data_version, use_audience

log = logging.getLogger("vaxviet.dashboards")

#: how long a page callback waits for a build before answering "preparing"
INLINE_SECONDS: Final = 0.1
#: a failed build is reported to requests within this many seconds, then tried again
FAILED_SECONDS: Final = 10.0
#: server extension: the background page builder
BUILDS_KEY: Final = "vaxviet.dashboards.builds"


class Builds:
    """Background builds, one at a time per key, on `workers` threads."""

    def __init__(self, workers: int = 1):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="page-build")
        self._lock = threading.Lock()
        self._running: dict[Hashable, Future[Any]] = {}
        self._failed: dict[Hashable, tuple[float, Future[Any]]] = {}

    def start(self, key: Hashable, job: Callable[[], Any]) -> Future[Any]:
        """The build of `key`: the one under way, a failure not yet reported, or `job`
        started now."""
        with self._lock:
            running = self._running.get(key)
            if running is not None and not running.done():
                return running
            if running is not None:  # done, its callback not run yet: settle it here
                del self._running[key]
                if running.exception() is not None:
                    return running  # this request is told of the failure
            failed = self._failed.pop(key, None)
            if failed is not None and time.monotonic() - failed[0] <= FAILED_SECONDS:
                return failed[1]
            future = self._executor.submit(job)
            self._running[key] = future
        future.add_done_callback(lambda done: self._finished(key, done))
        return future

    def _finished(self, key: Hashable, future: Future[Any]) -> None:
        error = future.exception()
        if error is not None:
            log.warning("page build failed: %s: %s", type(error).__name__, error)
        with self._lock:
            if self._running.get(key) is not future:
                return  # settled by start()
            del self._running[key]
            now = time.monotonic()
            for old in [k for k, (when, _) in self._failed.items() if now - when > FAILED_SECONDS]:
                del self._failed[old]  # failures nobody asked about again
            if error is not None:
                self._failed[key] = (now, future)

    def pending(self) -> int:
        """How many builds are under way or queued."""
        with self._lock:
            return sum(not future.done() for future in self._running.values())

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def build_in_background(name: str, context: Context) -> list[Any] | None:
    """:func:`dashboards.memo.body`, built on the server's :class:`Builds` (one build per
    page, scope and data version at a time); None when it takes longer than
    :data:`INLINE_SECONDS` (the browser asks again)."""
    server = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    builds: Builds = server.extensions[BUILDS_KEY]
    version = data_version()

    def job() -> list[Any]:
        with server.test_request_context(f"{PREFIX}/"):
            use_audience(AUDIENCE)
            return body(name, context)

    future = builds.start((name, keyed(name, context), version), job)
    try:
        parts: list[Any] = future.result(timeout=INLINE_SECONDS)
    except FutureTimeout:
        return None
    return parts
