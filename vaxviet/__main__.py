"""``python -m vaxviet serve``: migrate the warehouse and serve the platform.

This is what ``make run`` starts. In embedded mode it is the only process that may open the
chDB directory, so everything that needs the warehouse runs inside it.
"""

from __future__ import annotations

import argparse
import logging
import time

from vaxviet.cli import fail, load_settings, summary
from vaxviet.logs import configure
from vaxviet.server import create_server
from vaxviet.services import Services
from warehouse.client import WarehouseError, connect_configured
from warehouse.ddl import SchemaError
from warehouse.migrate import migrate

log = logging.getLogger("vaxviet")


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
    server = create_server(Services(settings=settings, warehouse=warehouse))
    host, port = args.host or settings.host, args.port or settings.port
    log.info("serving on http://%s:%s/ (health: /healthz)", host, port)
    import waitress

    try:
        waitress.serve(server, host=host, port=port, threads=8, ident="vaxviet")
    finally:
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
