"""Freshness while live: how long after the registry records a dose is it in the warehouse?

    python -m bench.etl_freshness [--rate 1000] [--seconds 40]

Seeds a small registry (SQLite), starts ``python -m registry live --rate R`` as its own
process, and streams from it here in a loop (`etl.stream.stream_once`, no pause between
passes, embedded chDB). After each pass the doses it loaded are in ``doses_current`` and the
aggregates; each new dose's latency is that moment minus its registry ``recorded_at``.
``recorded_at`` is stored to the whole second (truncated), so every latency is overstated by
up to one second. Corrections and voids are left out (their recorded_at is the original
dose's). Target (issue 4): p95 within 5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from bench.report import write_section
from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import stream_once
from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed
from warehouse.client import connect
from warehouse.migrate import migrate as migrate_warehouse

KEY = bytes(range(32))
ROOT = Path(__file__).resolve().parent.parent


def recorded_times(engine: object, after: int, until: int) -> list[datetime]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            text(
                "SELECT recorded_at FROM doses WHERE change_seq > :a AND change_seq <= :b "
                "AND version = 1"
            ),
            {"a": after, "b": until},
        )
        values = []
        for (value,) in rows:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            values.append(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)
        return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        dsn = f"sqlite:///{directory}/registry.sqlite"
        engine = make_engine(dsn)
        migrate(engine)
        seed(engine, SeedOptions(scale=0.0005, until=date(2021, 7, 31), seed=7, error_rate=0.0))
        warehouse = connect(f"chdb://{directory}/warehouse", "vax")
        migrate_warehouse(warehouse)
        refresh_reference(warehouse, *reference_codes())
        stream_once(warehouse, engine, KEY)  # catch up with the seeded campaign first

        env = {**os.environ, "VAX_SOURCE_DSN": dsn, "VAX_VAR_DIR": str(Path(directory) / "var")}
        live = subprocess.Popen(
            [sys.executable, "-m", "registry", "live", "--rate", str(args.rate),
             "--duration", str(args.seconds), "--seed", "11"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        latencies: list[float] = []
        passes, pass_seconds = 0, []
        while live.poll() is None:
            started = time.monotonic()
            before = int(
                warehouse.scalar(
                    "SELECT max(position) FROM {db:Identifier}.etl_checkpoints "
                    "WHERE source = 'registry:doses'"
                )
                or 0
            )
            report = stream_once(warehouse, engine, KEY)
            visible = datetime.now(UTC)
            pass_seconds.append(time.monotonic() - started)
            passes += 1
            if report.read:
                latencies += [
                    (visible - moment).total_seconds()
                    for moment in recorded_times(engine, before, report.position)
                ]
        warehouse.close()
    values = np.array(latencies)
    body = (
        f"`registry live --rate {args.rate:g}` for {args.seconds:g} s (SQLite registry, its own "
        "process) streamed by `etl.stream.stream_once` in a loop into embedded chDB.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| new doses measured | {len(values):,} |\n"
        f"| stream passes | {passes:,} (median {np.median(pass_seconds):.2f} s each) |\n"
        f"| latency p50 | {np.percentile(values, 50):.2f} s |\n"
        f"| latency p95 | {np.percentile(values, 95):.2f} s |\n"
        f"| latency max | {values.max():.2f} s |\n\n"
        "Latency = when the pass that loaded a dose committed, minus the dose's registry "
        "recorded_at (whole seconds, truncated: overstated by up to 1 s). Target: p95 ≤ 5 s."
    )
    print(body)
    write_section("ETL freshness while live", "bench.etl_freshness", body)


if __name__ == "__main__":
    main()
