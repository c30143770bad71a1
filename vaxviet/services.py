"""The services one platform process shares: settings and the warehouse connection.

Kept on the Flask app (``app.extensions["vaxviet"]``), never in module globals, so that the
web apps, the workers and the tests each reach exactly the services they were given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import flask

from vaxviet.settings import Settings
from warehouse.client import Warehouse

if TYPE_CHECKING:
    from etl.worker import EtlWorker

EXTENSION_KEY = "vaxviet"


@dataclass
class Services:
    settings: Settings
    warehouse: Warehouse | None
    warehouse_error: str = ""
    worker: EtlWorker | None = None  # the embedded registry stream, when this process runs it

    def attach(self, server: flask.Flask) -> None:
        server.extensions[EXTENSION_KEY] = self


def current_services() -> Services:
    """The services of the app handling the current request (or app context)."""
    services: Services = flask.current_app.extensions[EXTENSION_KEY]
    return services
