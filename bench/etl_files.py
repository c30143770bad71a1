"""Benchmark file-drop loads against ClickHouse's own Parquet ingestion, side by side.

    python -m bench.etl_files [--doses 2000000] [--batch-rows 500000]

Writes N valid dose records (file-drop format, consistent CCCDs) as Parquet and CSV, then
in one embedded chDB times: ClickHouse's ``INSERT … SELECT FROM file(…, Parquet)`` into a
plain MergeTree (the reference), and ``etl.files.load_file`` for each format (read,
validate, pseudonymise, identity, signed ledger write with three materialized views,
checkpoints), after one untimed load (the process's first pays one-off costs). Figures go
to stdout and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.report import write_section
from etl.__main__ import reference_codes
from etl.files import load_file, refresh_reference
from warehouse.client import Warehouse, connect
from warehouse.migrate import migrate

KEY = bytes(range(32))
PROVINCES = np.array(["01", "79", "48", "92", "31", "38"])


def drop(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    female = rng.random(count) < 0.5
    born = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 25_000, count), unit="D")
    province = rng.choice(PROVINCES, count)
    century = np.where(born.year < 2000, 0, 2) + female.astype(int)
    serial = pd.Series(np.arange(count) % 1_000_000).astype(str).str.zfill(6)
    cccd = (
        "0" + pd.Series(province) + pd.Series(century).astype(str)
        + pd.Series(born.year % 100).astype(str).str.zfill(2) + serial
    )  # fmt: skip
    when = pd.Timestamp("2021-08-01") + pd.to_timedelta(rng.integers(0, 90 * 86_400, count), "s")
    return pd.DataFrame(
        {
            "dose_id": pd.Series(np.arange(count)).map("VN{:012d}".format),
            "version": "1",
            "status": "valid",
            "citizen_id": cccd,
            "full_name": np.where(female, "Nguyễn Thị Lan", "Trần Văn Minh"),
            "date_of_birth": born.strftime("%Y-%m-%d"),
            "sex": np.where(female, "F", "M"),
            "phone": "0912345678",
            "province_code": province,
            "site_id": pd.Series(rng.integers(1, 500, count)).map("S{:04d}".format),
            "vaccine_code": rng.choice(["EU/1/20/1528", "BBIBP-CorV", "EU/1/21/1529"], count),
            "lot_number": "LOT-2108",
            "dose_number": rng.integers(1, 3, count).astype(str),
            "administered_at": when.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )


def fresh(root: Warehouse, name: str) -> Warehouse:
    warehouse = dataclasses.replace(root, database=name)
    migrate(warehouse)
    refresh_reference(warehouse, *reference_codes())
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=2_000_000)
    parser.add_argument("--batch-rows", type=int, default=500_000)
    args = parser.parse_args()
    frame = drop(args.doses)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        parquet, csv = Path(directory) / "drop.parquet", Path(directory) / "drop.csv"
        frame.to_parquet(parquet, index=False)
        frame.to_csv(csv, index=False)
        root = connect(f"chdb://{directory}/warehouse", "default")

        plain = fresh(root, "reference")
        plain.command(
            "CREATE TABLE {db:Identifier}.raw ENGINE = MergeTree ORDER BY tuple() AS "
            f"SELECT * FROM file('{parquet}', Parquet) LIMIT 0"
        )
        started = time.perf_counter()
        plain.command(f"INSERT INTO {{db:Identifier}}.raw SELECT * FROM file('{parquet}', Parquet)")
        results.append(
            (
                "ClickHouse INSERT … SELECT FROM file(Parquet), plain MergeTree",
                time.perf_counter() - started,
            )
        )

        warm = fresh(root, "warm_up")  # the process's first load pays one-off costs
        load_file(warm, csv, KEY, args.batch_rows)
        warm.command("DROP DATABASE {db:Identifier} SYNC")
        views = 0
        for name, path in (("Parquet", parquet), ("CSV", csv)):
            warehouse = fresh(root, f"etl_{len(results)}")
            views = int(
                warehouse.scalar(
                    "SELECT count() FROM system.tables WHERE database = {name:String} "
                    "AND engine = 'MaterializedView'",
                    {"name": warehouse.database},
                )
            )
            report = load_file(warehouse, path, KEY, args.batch_rows)
            assert report.loaded == args.doses, report.summary()
            assert (
                warehouse.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")
                == args.doses
            )
            results.append(
                (
                    f"etl load, {name} (validate, pseudonymise, identity, ledger + {views} MVs)",
                    report.seconds,
                )
            )
            print(f"{results[-1][0]}: {args.doses / report.seconds:,.0f} rows/s", flush=True)
        root.close()
    table = "| path | seconds | rows/s |\n|---|---|---|\n" + "\n".join(
        f"| {name} | {seconds:.2f} | {args.doses / seconds:,.0f} |" for name, seconds in results
    )
    body = (
        f"{args.doses:,} valid dose records, batches of {args.batch_rows:,}, embedded chDB.\n\n"
        f"{table}\n\nIssue 4's target: at least half the reference rate for Parquet "
        "(≥ 600 k rows/s) and ≥ 300 k rows/s for CSV."
    )
    print(body)
    write_section("File-drop loads (ETL)", "bench.etl_files", body)


if __name__ == "__main__":
    main()
