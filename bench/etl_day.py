"""A national day in one file drop, loaded by the code behind `python -m etl load`.

    python -m bench.etl_day [--doses 25000000] [--batch-rows 1000000] [--default-merges]

Writes one day's doses (2021-09-18, a day of the real campaign) as Parquet, chunk by chunk
so that writing it needs little memory: every dose in one of the 63 provinces in proportion
to its adult population, at one of 10,000 sites, between 07:00 and 19:00 local time, one
dose per person, CCCDs consistent with each person's sex and year of birth. Then times
`etl.files.load_file` on it into a fresh embedded chDB (after a warm-up load of one batch
into another database: the process's first load pays one-off costs), with the process's CPU
time and its peak memory, and checks that coverage_daily counts every dose. With
`--default-merges` it first loads the same file with ClickHouse's default merge width on the
tables schema 0019 widens, side by side in the same run.

Targets (issue 4): the largest national day on record (25 M doses) in under a minute, and
memory bounded by the batch size, not by the input: run it at two sizes and compare the
peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.report import cpu_seconds, peak_rss_mib, write_section
from etl.__main__ import reference_codes
from etl.files import BATCH_ROWS, LoadReport, load_file
from etl.reference import refresh_reference
from geo.provinces import load_provinces
from warehouse.client import Warehouse, connect
from warehouse.migrate import migrate

KEY = bytes(range(32))
DAY = np.datetime64("2021-09-18T07:00:00")
SITES = 10_000
CHUNK = 1_000_000
VACCINES = np.array(["EU/1/20/1528", "BBIBP-CorV", "EU/1/21/1529", "EU/1/20/1507"])


def day_chunk(first: int, count: int, rng: np.random.Generator) -> pa.Table:
    """Doses `first` … `first + count - 1` of the day, in the file-drop format."""
    provinces = load_provinces()
    weights = provinces["population_18plus"].to_numpy(dtype=float)
    codes = provinces["gso_code"].to_numpy()
    province = codes[rng.choice(len(codes), count, p=weights / weights.sum())]
    site = rng.integers(0, SITES // len(codes), count)
    female = rng.random(count) < 0.5
    year = rng.integers(1940, 2004, count)
    born = (
        (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        + rng.integers(0, 365, count).astype("timedelta64[D]")
    )  # fmt: skip
    century_sex = np.where(year < 2000, 0, 2) + female
    number = np.arange(first, first + count)
    # one person per dose: the serial and the province of residence make the CCCD unique
    serial = np.char.zfill((number % 1_000_000).astype(str), 6)
    home = codes[(number // 1_000_000) % len(codes)]
    cccd = np.char.add(
        np.char.add(np.char.add(np.char.add("0", home), century_sex.astype(str)),
                    np.char.zfill((year % 100).astype(str), 2)),
        serial,
    )  # fmt: skip
    when = DAY + rng.integers(0, 12 * 3600, count).astype("timedelta64[s]")
    return pa.table(
        {
            "dose_id": np.char.add("D", np.char.zfill(number.astype(str), 11)),
            "citizen_id": cccd,
            "full_name": np.where(female, "Nguyễn Thị Lan", "Trần Văn Minh"),
            "date_of_birth": np.datetime_as_string(born, unit="D"),
            "sex": np.where(female, "F", "M"),
            "phone": np.char.add("09", np.char.zfill((number % 100_000_000).astype(str), 8)),
            "province_code": province,
            "site_id": np.char.add(np.char.add(province, "-"), np.char.zfill(site.astype(str), 4)),
            "vaccine_code": VACCINES[rng.integers(0, len(VACCINES), count)],
            "lot_number": np.full(count, "LOT-2109"),
            "dose_number": rng.integers(1, 3, count).astype(str),
            "administered_at": np.datetime_as_string(when, unit="s"),
        }
    )


def write_day(path: Path, doses: int) -> None:
    rng = np.random.default_rng(18)
    writer: pq.ParquetWriter | None = None
    for first in range(0, doses, CHUNK):
        chunk = day_chunk(first, min(CHUNK, doses - first), rng)
        if writer is None:
            writer = pq.ParquetWriter(path, chunk.schema)
        writer.write_table(chunk)
    if writer is not None:
        writer.close()


#: ClickHouse's default merge width, which schema 0019 widens for some tables
DEFAULT_MERGE_BASE = 5


def load_day(
    root: Warehouse, name: str, path: Path, batch_rows: int, default_merges: bool
) -> tuple[LoadReport, float]:
    """Load the day into a fresh database `name`; returns (report, CPU-s)."""
    warehouse = dataclasses.replace(root, database=name)
    migrate(warehouse)
    refresh_reference(warehouse, *reference_codes())
    if default_merges:  # the peer: schema 0019 undone on the tables it widened
        widened = [
            str(name)
            for (name,) in warehouse.rows(
                "SELECT name FROM system.tables WHERE database = {db:String} "
                "AND position(create_table_query, 'merge_selector_base') > 0",
                {"db": warehouse.database},
            )
        ]
        assert widened, "no table with a merge width of its own"
        for table in widened:
            warehouse.command(
                f"ALTER TABLE {{db:Identifier}}.{table} "
                f"MODIFY SETTING merge_selector_base = {DEFAULT_MERGE_BASE}"
            )
    before_cpu = cpu_seconds()
    report = load_file(warehouse, path, KEY, batch_rows)
    cpu = cpu_seconds() - before_cpu
    counted = warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")
    assert report.loaded == report.read == counted, (report.summary(), counted)
    return report, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=25_000_000)
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS)
    parser.add_argument(
        "--default-merges",
        action="store_true",
        help="first load the day with ClickHouse's default merge width (schema 0019 undone), "
        "side by side",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "day.parquet"
        started = time.perf_counter()
        write_day(path, args.doses)
        print(f"wrote {args.doses:,} doses in {time.perf_counter() - started:.1f} s", flush=True)
        root = connect(f"chdb://{directory}/warehouse", "default")
        warm = dataclasses.replace(root, database="warm_up")
        migrate(warm)
        refresh_reference(warm, *reference_codes())
        small = Path(directory) / "warm.parquet"
        pq.write_table(pq.ParquetFile(path).read_row_group(0), small)
        load_file(warm, small, KEY, args.batch_rows)
        before_rss = peak_rss_mib()
        runs = (
            [("default merge width (merge_selector_base 5)", True)] if args.default_merges else []
        )
        runs.append(("as shipped (schema 0019: merge_selector_base 20)", False))
        for index, (label, default_merges) in enumerate(runs):
            report, cpu = load_day(root, f"day_{index}", path, args.batch_rows, default_merges)
            assert report.read == args.doses, report.summary()
            rows.append((label, report.seconds, cpu, peak_rss_mib()))
            print(f"{label}: {report.seconds:.1f} s, {cpu:.1f} CPU-s", flush=True)
            root.command(f"DROP DATABASE day_{index} SYNC")  # and its background merges
        size = path.stat().st_size / 2**20
        root.close()
    table = "\n".join(
        f"| {label} | {seconds:.1f} | {args.doses / seconds:,.0f} | {cpu:.1f} | {peak:,.0f} MiB |"
        for label, seconds, cpu, peak in rows
    )
    body = (
        f"One national day, {args.doses:,} doses (63 provinces by adult population, "
        f"{SITES:,} sites, 07:00-19:00), one Parquet file of {size:,.0f} MiB, loaded by "
        f"`etl.files.load_file` in batches of {args.batch_rows:,} into embedded chDB.\n\n"
        "| load | seconds | rows/s | CPU-s (the process, all threads) | peak memory of the "
        "process after it |\n|---|---:|---:|---:|---:|\n"
        f"{table}\n\n"
        f"Peak memory of the process before the loads (warm-up included): {before_rss:,.0f} MiB. "
        "Target (issue 4): 25,000,000 doses in under 60 s (≥ 416,667 rows/s)."
    )
    print(body)
    write_section(
        f"A national day from one file drop ({args.doses:,} doses)", "bench.etl_day", body
    )


if __name__ == "__main__":
    main()
