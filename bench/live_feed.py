"""The live feed's cost: what recording a live day takes from the serve process's CPU.

    python -m bench.live_feed [--scale 0.01] [--registry PATH] [--interval 5]

Seeds a registry at `--scale` (SQLite; or reuses `--registry`, a seeded SQLite file, copied
first so it is left as it was), then, as the serve process's feed does (`registry.live`):

* the start-up catch-up: the last 24 h recorded in 30-minute transactions (on a simulated
  clock two days ahead, so a registry the demo has been recording into gets a full day);
* an hour of the busiest time of day (09:00–10:00) and an hour of the night (03:00–04:00)
  recorded as the running feed records them, one interval of `--interval` seconds at a time,
  on a simulated clock (so the hour takes as long as its CPU, not an hour).

CPU is the feed thread's own (`time.thread_time`); "share of a core" is that CPU over the
hour of wall-clock time the feed would spread it over. The stock model, check-ins,
registrations, corrections and voids are all part of it. The ETL worker that then streams
these rows into the warehouse is not included (its cost is per dose: docs/etl.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from bench.report import write_section
from geo.calendar import TIME_ZONE
from registry.db import make_engine, migrate
from registry.live import LiveFeed
from registry.simulator import SeedOptions, seed


def hour(feed: LiveFeed, start: pd.Timestamp, interval: float) -> tuple[int, float, float]:
    """(doses, CPU seconds, wall seconds) of an hour recorded interval by interval."""
    doses = 0
    cpu = time.thread_time()
    wall = time.monotonic()
    cursor = start
    end = start + pd.Timedelta(hours=1)
    step = pd.Timedelta(seconds=interval)
    while cursor < end:
        doses += feed.record(cursor, cursor + step)
        cursor += step
    return doses, time.thread_time() - cpu, time.monotonic() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--registry", type=Path, default=None, help="a seeded SQLite registry")
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-live-"))
    path = work / "registry.sqlite"
    try:
        if args.registry:
            shutil.copyfile(args.registry, path)
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        if not args.registry:
            started = time.monotonic()
            report = seed(engine, SeedOptions(scale=args.scale, seed=1))
            print(f"seeded {report.doses:,} doses in {time.monotonic() - started:.0f} s")
        with engine.connect() as connection:
            sites = int(connection.execute(text("SELECT count(*) FROM sites")).scalar_one())
        today = pd.Timestamp.now(tz=TIME_ZONE).normalize()
        started = time.monotonic()
        cpu = time.thread_time()
        feed = LiveFeed(engine, seed=2)
        load_cpu = time.thread_time() - cpu
        load_wall = time.monotonic() - started
        # two days ahead: after anything a live registry holds, so the catch-up is a full day
        now = today + pd.Timedelta(days=2, hours=9)
        cpu = time.thread_time()
        wall = time.monotonic()
        backfilled = feed.backfill(now)
        backfill_cpu, backfill_wall = time.thread_time() - cpu, time.monotonic() - wall
        busy = hour(feed, now, args.interval)
        night = hour(feed, today + pd.Timedelta(days=3, hours=3), args.interval)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        ("start: read the registry (people, pool)", 0, load_cpu, load_wall),
        ("catch-up: the last 24 h", backfilled, backfill_cpu, backfill_wall),
        (f"09:00–10:00, every {args.interval:g} s", *busy),
        (f"03:00–04:00, every {args.interval:g} s", *night),
    ]
    lines = [
        f"Registry: SQLite, scale {args.scale:g} ({sites:,} sites); the feed records the "
        f"sample's share of a real busy day ({feed.day.doses:,.0f} doses at scale 1, "
        f"{feed.fraction * feed.day.doses:,.0f} in this sample).",
        "",
        "| part | doses | CPU s | wall s | share of one core over the hour |",
        "|---|---|---|---|---|",
    ]
    for name, doses, cpu_s, wall_s in rows:
        share = f"{cpu_s / 3600:.2%}" if "–" in name else "—"
        lines.append(f"| {name} | {doses:,} | {cpu_s:.2f} | {wall_s:.2f} | {share} |")
    body = "\n".join(lines)
    print(body)
    write_section("Live feed (embedded demo)", "bench.live_feed", body)


if __name__ == "__main__":
    main()
