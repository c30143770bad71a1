"""Vietnam's whole campaign through the file-drop loader, one drop after another.

    python -m bench.etl_campaign [--doses 266000000] [--people 90000000]
                                 [--file-doses 10000000] [--batch-rows 1000000] [--dir DIR]

About 266 M doses were given in Vietnam from March 2021 to the end of 2022. This writes the
campaign as drops of `--file-doses` doses each (bench/sql/etl_campaign_file.sql: the engine
writes each Parquet file; every person's doses repeat one identity, first doses before
second and third ones, times spread over the campaign) and loads each with
`etl.files.load_file` into one embedded chDB warehouse, as provinces' drops would arrive. A
file is written just before it is loaded and deleted after; only the loads are timed. It
prints each drop's rate as it goes (the warehouse grows under them), then the total: load
seconds, rows/s, the process's CPU time during the loads, peak memory and the warehouse's
size on disk, and checks that coverage_daily counts every dose.

Target (issue 4): the whole campaign (≈ 266 M doses) in under 10 minutes (≥ 443,334 rows/s).
The warehouse takes about 250 bytes of disk per dose while it loads (31.4 GiB at 133 M doses,
before RocksDB and the merges compact it), so the whole campaign needs about 63 GiB: more
than the 2-core test machine had free, where it ran at half size (`--doses 133000000
--people 45000000`). `--dir` keeps the warehouse (default: a temporary directory, deleted
at the end).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.report import cpu_seconds, peak_rss_mib, write_section
from etl.__main__ import reference_codes
from etl.files import BATCH_ROWS, load_file
from etl.reference import refresh_reference
from geo.provinces import load_provinces
from warehouse.client import Warehouse, connect
from warehouse.migrate import migrate
from warehouse.sqlfiles import sql_beside

KEY = bytes(range(32))
CAMPAIGN = 266_000_000  # doses given in Vietnam, March 2021 to the end of 2022


def write_drop(
    warehouse: Warehouse, path: Path, first: int, count: int, args: argparse.Namespace
) -> None:
    """Doses `first` … `first + count - 1` of the campaign as one Parquet drop at `path`."""
    codes = "[" + ", ".join(f"'{code}'" for code in load_provinces()["gso_code"]) + "]"
    sql = sql_beside(__file__, "etl_campaign_file.sql")
    for name, value in {
        "{path}": str(path), "{first}": str(first), "{count}": str(count),
        "{total}": str(args.doses), "{people}": str(args.people), "{provinces}": codes,
    }.items():  # fmt: skip
        sql = sql.replace(name, value)
    path.unlink(missing_ok=True)  # the engine does not overwrite a Parquet file
    warehouse.command(sql)


def directory_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=CAMPAIGN)
    parser.add_argument("--people", type=int, default=90_000_000)
    parser.add_argument("--file-doses", type=int, default=10_000_000)
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS)
    parser.add_argument("--dir", type=Path, help="keep the warehouse here")
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="vax-campaign-"))
    directory.mkdir(parents=True, exist_ok=True)
    drop = directory / "drop.parquet"
    rates: list[float] = []
    loaded = seconds = cpu = written = 0.0
    try:
        root = connect(f"chdb://{directory}/warehouse", "default")
        warm = dataclasses.replace(root, database="warm_up")  # the first load's one-off costs
        migrate(warm)
        refresh_reference(warm, *reference_codes())
        write_drop(warm, drop, 0, min(args.batch_rows, args.doses), args)
        load_file(warm, drop, KEY, args.batch_rows)
        warm.command("DROP DATABASE {db:Identifier} SYNC")
        warehouse = dataclasses.replace(root, database="campaign")
        migrate(warehouse)
        refresh_reference(warehouse, *reference_codes())
        for first in range(0, args.doses, args.file_doses):
            count = min(args.file_doses, args.doses - first)
            started = time.perf_counter()
            write_drop(warehouse, drop, first, count, args)
            written += time.perf_counter() - started
            before = cpu_seconds()
            report = load_file(warehouse, drop, KEY, args.batch_rows)
            cpu += cpu_seconds() - before
            drop.unlink()
            assert report.loaded == count and not report.rejected, report.summary()
            loaded += count
            seconds += report.seconds
            rates.append(count / report.seconds)
            print(
                f"drop {len(rates)}: doses {first + 1:,}-{first + count:,} in "
                f"{report.seconds:.1f} s ({rates[-1]:,.0f} rows/s); {loaded:,.0f} loaded in "
                f"{seconds / 60:.1f} min of loading",
                flush=True,
            )
        counted = warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")
        assert counted == args.doses, counted
        people = warehouse.scalar("SELECT count() FROM {db:Identifier}.identity_kv")
        size = directory_mib(directory / "warehouse")
        root.close()
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)
    body = (
        f"A campaign of {args.doses:,} doses ({args.doses / CAMPAIGN:.0%} of Vietnam's "
        f"≈ 266 M) of {people:,} people, as {len(rates)} "
        f"Parquet drops of up to {args.file_doses:,} doses, each loaded by "
        f"`etl.files.load_file` in batches of {args.batch_rows:,} into one embedded chDB "
        "warehouse, one after another.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| load time (all drops) | {seconds:.0f} s ({seconds / 60:.1f} min) |\n"
        f"| rows/s overall | {args.doses / seconds:,.0f} |\n"
        f"| rows/s of the first drop, the median drop, the last drop | {rates[0]:,.0f}, "
        f"{statistics.median(rates):,.0f}, {rates[-1]:,.0f} |\n"
        f"| CPU-s during the loads (the process, all threads) | {cpu:,.0f} |\n"
        f"| peak memory of the process | {peak_rss_mib():,.0f} MiB |\n"
        f"| warehouse on disk at the end | {size / 1024:,.1f} GiB |\n"
        f"| writing the drops (not timed above) | {written:.0f} s |\n\n"
        "Target (issue 4): the whole campaign (≈ 266 M doses) in under 10 minutes."
    )
    print(body)
    write_section(
        f"The campaign from file drops ({args.doses:,} doses)", "bench.etl_campaign", body
    )


if __name__ == "__main__":
    main()
