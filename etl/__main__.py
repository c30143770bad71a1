"""``python -m etl load PATH…`` — load file drops (CSV, NDJSON, Parquet) into the warehouse;
``python -m etl watch DIR [--once]`` — load files dropped into a folder (etl/watch.py);
``python -m etl stream [--once]`` — stream dose records from the registry (etl/stream.py).
``python -m etl reconcile [--repair] [--from D --to D]`` — compare registry and warehouse
(etl/reconcile.py); exit 1 while they differ.

Ends with a one-line JSON summary on stdout (per file: read, loaded, rejected by reason);
a log line per batch on stderr. Exit 1 if a file cannot be read (the others still load).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from vaxviet.cli import fail, load_settings, summary
from vaxviet.logs import configure

if TYPE_CHECKING:
    from vaxviet.settings import Settings
    from warehouse.client import Warehouse


def reference_codes() -> tuple[list[str], list[str]]:
    """Province codes (geo/) and the vaccine products input may name."""
    from geo.products import campaign_products as vaccines
    from geo.provinces import province_codes

    return list(province_codes()), [str(code) for code in vaccines()["code"]]


def open_warehouse(settings: Settings) -> Warehouse:
    """The configured warehouse, migrated, with fresh reference codes (or exit with why)."""
    from etl.reference import refresh_reference
    from warehouse.client import WarehouseError, connect_configured
    from warehouse.ledger import recover_pending
    from warehouse.migrate import migrate

    try:
        warehouse = connect_configured(settings)
        migrate(warehouse)
        recover_pending(warehouse)  # a signed insert a kill cut off, healed before anything
    except WarehouseError as error:
        fail(str(error))
    refresh_reference(warehouse, *reference_codes())
    return warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load file drops")
    load.add_argument("paths", nargs="+", type=Path)
    load.add_argument("--batch-rows", type=int, help="rows per batch (default 1,000,000)")
    stream = commands.add_parser("stream", help="stream dose records from the registry")
    stream.add_argument("--once", action="store_true", help="stop when caught up")
    stream.add_argument(
        "--batch-rows", type=int, help="rows per batch (default 1,000,000 pulled, 200,000 read)"
    )
    watch = commands.add_parser("watch", help="load files dropped into a folder")
    watch.add_argument("directory", type=Path)
    watch.add_argument("--once", action="store_true", help="load what is there, then stop")
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    watch.add_argument("--settle", type=float, default=2.0, help="seconds a file must be unchanged")
    watch.add_argument("--batch-rows", type=int, help="rows per batch (default 1,000,000)")
    reconcile = commands.add_parser("reconcile", help="compare the registry with the warehouse")
    reconcile.add_argument("--repair", action="store_true", help="re-send what differs")
    reconcile.add_argument("--from", dest="day_from", type=date.fromisoformat, help="first day")
    reconcile.add_argument("--to", dest="day_to", type=date.fromisoformat, help="last day")
    args = parser.parse_args(argv)
    if args.command == "stream":
        return _stream(args)
    if args.command == "watch":
        return _watch(args)
    if args.command == "reconcile":
        return _reconcile(args)

    settings = load_settings()
    configure(settings.log_level)
    from etl.files import BATCH_ROWS, FileDropError, load_file

    missing = [str(path) for path in args.paths if not path.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}", 2)
    started = time.monotonic()
    warehouse = open_warehouse(settings)
    files, failed = [], []
    for path in args.paths:
        try:
            report = load_file(
                warehouse, path, settings.pseudonym_key, args.batch_rows or BATCH_ROWS
            )
            files.append(report.summary())
        except FileDropError as error:
            failed.append(str(error))
    summary(
        {
            "command": "load",
            "files": files,
            "failed": failed,
            "read": sum(f["read"] for f in files),
            "loaded": sum(f["loaded"] for f in files),
            "rejected": sum(f["rejected"] for f in files),
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return 1 if failed else 0


def _watch(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure(settings.log_level)
    import threading

    from etl.files import BATCH_ROWS
    from etl.watch import watch, watch_once

    if not args.directory.is_dir():
        fail(f"no such directory: {args.directory}", 2)
    started = time.monotonic()
    warehouse = open_warehouse(settings)
    key, rows = settings.pseudonym_key, args.batch_rows or BATCH_ROWS
    files: list[dict[str, object]] = []
    try:
        if args.once:
            files = watch_once(warehouse, args.directory, key, rows, args.settle)
        else:
            watch(
                warehouse, args.directory, key, rows, threading.Event(), args.interval,
                args.settle, on_file=files.append,
            )  # fmt: skip
    except KeyboardInterrupt:
        pass
    failed = [f for f in files if "failed" in f]
    summary(
        {
            "command": "watch",
            "directory": str(args.directory),
            "files": files,
            "loaded_files": len(files) - len(failed),
            "failed_files": len(failed),
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return 1 if failed else 0


def _reconcile(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure(settings.log_level)
    from etl.reconcile import run
    from registry.db import make_engine

    warehouse = open_warehouse(settings)
    document, equal = run(
        warehouse, make_engine(settings.source_dsn), settings.pseudonym_key,
        fix=args.repair, day_from=args.day_from, day_to=args.day_to,
    )  # fmt: skip
    summary(document)
    return 0 if equal else 1


def _stream(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure(settings.log_level)
    from etl.stream import StreamReport, stream_once
    from registry.db import make_engine

    warehouse = open_warehouse(settings)
    engine = make_engine(settings.source_dsn)
    total = StreamReport()
    try:
        while True:
            total.absorb(stream_once(warehouse, engine, settings.pseudonym_key, args.batch_rows))
            if args.once:
                break
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    summary(total.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
