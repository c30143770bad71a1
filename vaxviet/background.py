"""Background threads of the serve process: the registry stream (`etl.worker`), the live
feed (`registry.live`) and the nightly compaction (`warehouse.compaction`).

In embedded mode chDB admits one process per data directory, so these run as daemon
threads beside the web server. Each is a `Background`: a thread with a stop event, started
by `start()` and ended by `stop()`, whose loop (`_run`) waits on the event so that a stop
takes effect at once. A failed pass is kept as `error_text` (what ``/healthz`` shows) and
never stops the web server. Importing this module starts nothing.
"""

from __future__ import annotations

import threading
from typing import Self

#: the longest pause between two attempts of a failing loop, in seconds
MAX_PAUSE = 60.0


def error_text(error: BaseException) -> str:
    """A failure as ``/healthz`` reports it: its type and the start of its message."""
    return f"{type(error).__name__}: {str(error)[:300]}"


class Background:
    """A daemon thread named `name` running `_run` until `stop()`."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait for it, at most `timeout` seconds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
