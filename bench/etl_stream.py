"""Registry stream catch-up speed, SQLite and PostgreSQL side by side.

    python -m bench.etl_stream [--scale 0.03] [--until 2021-12-31] [--batch-rows N]
                               [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Seeds the same simulated campaign (0 % errors) into a fresh SQLite file and a fresh
PostgreSQL database, then times `etl.stream.stream_once` catching up from nothing into a
fresh embedded chDB warehouse each: doses (from PostgreSQL pulled by the warehouse itself
through the registry's dose feed; from SQLite read through Python and Arrow), validated,
pseudonymised, ledger + materialized views, checkpoints; then the operational tables
(sites, stock, registrations, check-ins), timed apart. SQLite runs twice: with the
registry read on a thread of its own one batch ahead (the default, `etl.stream.READ_AHEAD`)
and without it (the next batch then read only beside this one's write). Target (issue 4):
>= 200 k rows/s during catch-up.

The default scale, 0.03, makes 4.46 M dose rows: five of the warehouse's pulls of 1 M, so
the figure is the pipelined rate of a catch-up. At 0.01 (1.49 M rows, two pulls) the
second batch has nothing to overlap with: the same pulls printed 157,375 rows/s from
PostgreSQL at 0.01 and 214,751, 208,216 and 199,497 at 0.03; 500,000-row pulls did better
at 0.01 (219,461) and worse at 0.03 (192,968). Single runs each, on a machine whose runs
of the same code differ by up to a fifth.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import date

from bench.registry_seed import drop_postgres, fresh_postgres
from bench.report import cpu_seconds, write_section
from etl import stream
from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import StreamReport, stream_once
from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed
from warehouse.client import connect
from warehouse.migrate import migrate as migrate_warehouse

KEY = bytes(range(32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.03)
    parser.add_argument("--until", type=date.fromisoformat, default=date(2021, 12, 31))
    parser.add_argument("--batch-rows", type=int, help="as etl stream's (default: its own)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows: list[tuple[str, int, float, float, StreamReport]] = []
    with tempfile.TemporaryDirectory() as directory:
        root = connect(f"chdb://{directory}/warehouse", "default")
        name = ""
        try:
            dsn_pg, name = fresh_postgres(args.postgres)
            sqlite = f"sqlite:///{directory}/r.sqlite"
            for label, dsn, ahead in (
                ("SQLite", sqlite, True),
                ("SQLite, no read-ahead thread", sqlite, False),
                ("PostgreSQL", dsn_pg, True),
            ):
                engine = make_engine(dsn)
                if not rows or dsn != sqlite:  # the SQLite registry is seeded once
                    migrate(engine)
                    seed(
                        engine,
                        SeedOptions(scale=args.scale, until=args.until, seed=3, error_rate=0.0),
                    )
                warehouse = dataclasses.replace(root, database=f"w_{len(rows)}")
                migrate_warehouse(warehouse)
                refresh_reference(warehouse, *reference_codes())
                stream.READ_AHEAD = ahead
                started, used = time.perf_counter(), cpu_seconds()
                report = stream_once(warehouse, engine, KEY, args.batch_rows)
                seconds, used = time.perf_counter() - started, cpu_seconds() - used
                doses_seconds = seconds - report.operations_seconds
                rows.append((label, report.read, doses_seconds, used, report))
                print(f"{label}: {report.read / doses_seconds:,.0f} dose rows/s", flush=True)
                engine.dispose()
            stream.READ_AHEAD = True
        finally:
            if name:
                drop_postgres(args.postgres, name)
            root.close()
    table = (
        "| registry | dose rows | seconds (doses) | dose rows/s | operational rows | seconds "
        "(operational) | CPU-s (whole pass) |\n|---|---|---|---|---|---|---|\n"
    )
    table += "\n".join(
        f"| {label} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} | "
        f"{sum(report.operations.values()):,} | {report.operations_seconds:.1f} | {used:.1f} |"
        for label, count, seconds, used, report in rows
    )
    batching = (
        f"batches of {args.batch_rows:,}"
        if args.batch_rows
        else f"batches of {stream.PULL_ROWS:,} pulled by the warehouse, {stream.READ_ROWS:,} read "
        "through Python"
    )
    body = (
        f"Campaign at scale {args.scale} until {args.until}, streamed from nothing by "
        f"`stream_once` ({batching}) into embedded chDB.\n\n{table}\n\n"
        "Target (issue 4): ≥ 200,000 rows/s during catch-up."
    )
    print(body)
    write_section("Registry stream catch-up (ETL)", "bench.etl_stream", body)


if __name__ == "__main__":
    main()
