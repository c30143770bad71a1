"""The services one platform process shares: settings and the warehouse connection.

Kept on the Flask app (``app.extensions["vaxviet"]``), never in module globals, so that the
web apps, the workers and the tests each reach exactly the services they were given.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import flask

from vaxviet.settings import Settings
from warehouse.batching import Coalesced
from warehouse.client import Warehouse
from warehouse.status import warehouse_status

if TYPE_CHECKING:
    from etl.worker import EtlWorker
    from registry.live import LiveWorker

EXTENSION_KEY = "vaxviet"


@dataclass
class Services:
    settings: Settings
    warehouse: Warehouse | None
    warehouse_error: str = ""
    worker: EtlWorker | None = None  # the embedded registry stream, when this process runs it
    live: LiveWorker | None = None  # the live feed into a simulated registry, when it runs here
    _health: Coalesced[str, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # /healthz answers anyone, and the status costs a few warehouse statements: requests
        # that arrive while one is read share the next read (never one begun before they
        # arrived), so a flood of them costs the warehouse one read at a time.
        self._health = Coalesced(self._read_health, dict, max_running=1, max_batch=1 << 30)

    def _read_health(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        document = warehouse_status(self.warehouse, self.warehouse_error)
        return dict.fromkeys(keys, document)

    def warehouse_health(self) -> dict[str, Any]:
        """The warehouse's health document (`warehouse.status.warehouse_status`), read after
        this call began; the caller's own copy."""
        return copy.deepcopy(self._health.get("warehouse"))

    def attach(self, server: flask.Flask) -> None:
        server.extensions[EXTENSION_KEY] = self


def current_services() -> Services:
    """The services of the app handling the current request (or app context)."""
    services: Services = flask.current_app.extensions[EXTENSION_KEY]
    return services
