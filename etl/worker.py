"""The registry stream as a worker thread inside the web process (embedded mode).

chDB allows one process per data directory, so in embedded mode the stream cannot be a
process of its own: `python -m vaxviet serve` starts an `EtlWorker` beside the web server.
It runs `etl.stream.stream_once` in a loop, sleeping `interval` seconds when caught up; a
failing pass (registry down, a query error) is logged without personal data and retried
with a growing pause, and never stops the web server. `status()` is what ``/healthz``
reports about it. With a ClickHouse server, run ``python -m etl stream`` as its own process
instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import Engine

from etl.stream import StreamReport, stream_once
from vaxviet.background import MAX_PAUSE, Background, error_text
from warehouse.client import Warehouse

log = logging.getLogger(__name__)


@dataclass
class WorkerState:
    running: bool = False
    passes: int = 0
    failures: int = 0
    last_error: str = ""
    last_pass_at: float = 0.0
    caught_up_at: float = 0.0


class EtlWorker(Background):
    """Stream the registry into the warehouse until `stop()`."""

    def __init__(
        self,
        warehouse: Warehouse,
        engine: Engine,
        key: bytes,
        interval: float = 1.0,
        batch_rows: int | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.engine = engine
        self.key = key
        self.interval = interval
        self.batch_rows = batch_rows
        self.total = StreamReport()
        self.state = WorkerState()
        super().__init__("etl-stream")

    def start(self) -> Self:
        self.state.running = True
        return super().start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end after the current batch and wait for it."""
        super().stop(timeout)
        self.state.running = False

    def _run(self) -> None:
        pause = self.interval
        while not self._stop.is_set():
            try:
                report = stream_once(self.warehouse, self.engine, self.key, self.batch_rows)
            except Exception as error:  # any failure: report, back off, retry
                self.state.failures += 1
                self.state.last_error = error_text(error)
                log.warning("etl worker pass failed (retry in %.0f s): %s", pause, error)
                pause = min(pause * 2, MAX_PAUSE)
            else:
                self.total.absorb(report)
                self.state.passes += 1
                self.state.last_error = ""
                self.state.caught_up_at = time.time()
                pause = self.interval
            self.state.last_pass_at = time.time()
            self._stop.wait(pause)
        self.state.running = False

    def status(self) -> dict[str, Any]:
        """The worker's health: running, passes, failures, the last error, rows so far."""
        return {
            "running": self.state.running and self._thread.is_alive(),
            "passes": self.state.passes,
            "failures": self.state.failures,
            "last_error": self.state.last_error,
            "seconds_since_caught_up": (
                round(time.time() - self.state.caught_up_at, 1) if self.state.caught_up_at else None
            ),
            "read": self.total.read,
            "loaded": self.total.loaded,
            "rejected": self.total.rejected,
            "position": self.total.position,
        }
