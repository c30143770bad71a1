"""``python -m warehouse migrate | status | render [--cluster NAME] | schema [--write]``."""

from __future__ import annotations

import argparse
import sys
import time

from vaxviet.cli import fail, load_settings, summary
from vaxviet.logs import configure
from warehouse.client import WarehouseError, connect_configured
from warehouse.current import CURRENT_SCHEMA, generate_schema
from warehouse.ddl import SchemaError, render_schema
from warehouse.migrate import migrate
from warehouse.status import warehouse_status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the schema files not applied yet")
    commands.add_parser("status", help="engine, versions and row counts as JSON")
    render = commands.add_parser("render", help="print the schema DDL without applying it")
    render.add_argument("--cluster", default="", help="render the cluster variant")
    render.add_argument("--database", default="vax")
    schema = commands.add_parser(
        "schema", help="the current schema, from a new embedded database migrated from nothing"
    )
    schema.add_argument(
        "--write", action="store_true", help=f"write it to {CURRENT_SCHEMA.name} (docs/)"
    )
    args = parser.parse_args(argv)

    if args.command == "schema":
        try:
            text = generate_schema()
        except (SchemaError, WarehouseError) as error:
            fail(str(error))
        if not args.write:
            sys.stdout.write(text)
            return 0
        changed = not CURRENT_SCHEMA.exists() or CURRENT_SCHEMA.read_text(encoding="utf-8") != text
        CURRENT_SCHEMA.write_text(text, encoding="utf-8")
        summary({"command": "schema", "path": str(CURRENT_SCHEMA), "changed": changed})
        return 0

    if args.command == "render":
        try:
            sys.stdout.write(render_schema(args.database, args.cluster))
        except SchemaError as error:
            fail(str(error), 2)
        return 0

    settings = load_settings()
    configure(settings.log_level)
    started = time.monotonic()
    try:
        warehouse = connect_configured(settings)
    except WarehouseError as error:
        fail(str(error))
    if args.command == "status":
        document = warehouse_status(warehouse)
        summary(document)
        return 0 if document["status"] == "ok" else 1
    try:
        report = migrate(warehouse)
    except (SchemaError, WarehouseError) as error:
        fail(str(error))
    summary(
        {
            "command": "migrate",
            "engine": warehouse.engine,
            "database": warehouse.database,
            "schema_version": report.schema_version,
            "applied": report.applied,
            "already_applied": report.already,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
