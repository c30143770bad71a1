"""``python -m vaxviet serve``: migrate the warehouse and serve the platform.

This is what ``make run`` starts. In embedded mode it is the only process that may open the
chDB directory, so everything that needs the warehouse runs inside it: with chDB the
registry stream runs here as a worker thread (`etl.worker`, VAX_ETL_WORKER).
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from typing import TYPE_CHECKING, Any

from vaxviet.cli import fail, load_settings, summary
from vaxviet.logs import configure
from vaxviet.server import create_server
from vaxviet.services import Services
from warehouse.client import Warehouse, WarehouseError, connect_configured
from warehouse.ddl import SchemaError
from warehouse.migrate import migrate

if TYPE_CHECKING:
    from etl.worker import EtlWorker
    from registry.live import LiveWorker
    from vaxviet.settings import Settings

log = logging.getLogger("vaxviet")


def start_worker(settings: Settings, warehouse: Warehouse) -> EtlWorker | None:
    """The embedded registry stream (VAX_ETL_WORKER: auto = only with chDB, on, off)."""
    wanted = settings.etl_worker == "on" or (
        settings.etl_worker == "auto" and warehouse.engine == "chdb"
    )
    if not wanted:
        log.info("ETL worker off: run `python -m etl stream` as its own process")
        return None
    from etl.__main__ import reference_codes
    from etl.reference import refresh_reference
    from etl.worker import EtlWorker
    from registry.db import make_engine
    from registry.db import migrate as migrate_registry

    refresh_reference(warehouse, *reference_codes())
    engine = make_engine(settings.source_dsn)
    if settings.embedded:
        migrate_registry(engine)  # our own demo registry: an empty one streams nothing
    log.info("ETL worker streaming the registry into the warehouse")
    return EtlWorker(warehouse, engine, settings.pseudonym_key).start()


def start_live(settings: Settings) -> LiveWorker | None:
    """The live feed into a simulated registry (VAX_LIVE: auto = only in embedded mode, on,
    off). Never on a real registry: one without a simulated sample fraction."""
    if settings.live == "off" or (settings.live == "auto" and not settings.embedded):
        return None
    from registry.db import make_engine
    from registry.db import migrate as migrate_registry
    from registry.live import LiveWorker
    from registry.sample import read_sample

    engine = make_engine(settings.source_dsn)
    if settings.embedded:
        migrate_registry(engine)  # our own demo registry (an empty one has no sample)
    with engine.connect() as connection:
        sample = read_sample(connection)
    if not sample.simulated:
        log.info("live feed off: the registry is not a simulated sample")
        return None
    log.info("live feed recording a %.4g sample of a busy day into the registry", sample.fraction)
    return LiveWorker(engine, interval=settings.live_interval).start()


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def prepare_front(settings: Any, host: str, port: int) -> Any:
    """The front (:mod:`vaxviet.front`) configured and checked, or None when it is off."""
    from vaxviet import front

    try:
        if not front.wanted(settings.front):
            return None
        return front.Front.prepare(
            front.plan(
                host, port, settings.var_dir, settings.web_threads,
                settings.front_app_connections, settings.shed_queue, settings.web_connections,
                edge=settings.edge, production=not settings.embedded,
            )
        )  # fmt: skip
    except front.FrontError as error:
        fail(str(error))


def serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure(settings.log_level)
    started = time.monotonic()
    try:
        warehouse = connect_configured(settings)
        report = migrate(warehouse)
    except WarehouseError as error:
        fail(str(error))
    except SchemaError as error:
        fail(str(error))
    log.info(
        "warehouse %s ready (schema %s, applied now: %s)",
        warehouse.describe(),
        report.schema_version,
        ", ".join(report.applied) or "none",
    )
    host, port = args.host or settings.host, args.port or settings.port
    front = prepare_front(settings, host, port)
    worker = start_worker(settings, warehouse)
    live = start_live(settings)
    server = create_server(
        Services(settings=settings, warehouse=warehouse, worker=worker, live=live),
        behind_front=front is not None,
    )
    from portal.warm import CacheWarmer

    warmer = CacheWarmer(server).start()  # renders the home page on every new data version
    from dashboards.warm import DashboardWarmer

    internal = DashboardWarmer(server).start()  # builds the internal pages likewise
    from warehouse.compaction import Compactor

    compactor = (
        Compactor(warehouse, settings.compact_hour).start()
        if settings.compact_hour is not None
        else None
    )
    from vaxviet.server import FRONT_KEY, admit
    from vaxviet.serving import queue_ahead, waited
    from vaxviet.serving import serve as serve_http
    from web.admission import PRIORITY

    signal.signal(signal.SIGTERM, _interrupted)  # stop as on Ctrl-C: workers, front, warehouse
    try:
        if front is None:
            log.info("serving on http://%s:%s/ (health: /healthz)", host, port)
            admit(server, queue_ahead, waited, settings.shed_queue)
            serve_http(server, host, port, settings.web_threads, settings.web_connections, PRIORITY)
        else:

            def open_front() -> None:  # the web process's socket is bound: let visitors in
                from vaxviet.front import FrontError

                try:
                    front.start()
                except FrontError as error:
                    fail(str(error))
                server.extensions[FRONT_KEY] = front
                log.info(
                    "serving on http://%s:%s/ (health: /healthz) through the front (haproxy): "
                    "%d page requests at a time, shedding past %d queued",
                    host,
                    port,
                    settings.front_app_connections,
                    settings.shed_queue,
                )

            serve_http(
                server, host, port, settings.web_threads, settings.web_connections, PRIORITY,
                unix_socket=str(front.plan.socket_path), listening=open_front,
            )  # fmt: skip
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        if front is not None:
            front.stop()
        warmer.stop()
        internal.stop()
        if compactor is not None:
            compactor.stop()
        if live is not None:
            live.stop()
        if worker is not None:
            worker.stop()
        warehouse.close()
    summary({"command": "serve", "seconds": round(time.monotonic() - started, 1)})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vaxviet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="migrate the warehouse and serve the platform")
    run.add_argument("--host", default="", help="override VAX_HOST")
    run.add_argument("--port", type=int, default=0, help="override VAX_PORT")
    args = parser.parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
