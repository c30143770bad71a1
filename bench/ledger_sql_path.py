"""Spike for the ETL (issue 4): can the signed-ledger write run inside ClickHouse fast enough?

    python -m bench.ledger_sql_path [--doses 2000000]

Three ways to put the same N new dose records (file-drop columns, raw CCCDs) into the
warehouse, side by side in one embedded chDB:

1. reference: ``INSERT INTO plain MergeTree SELECT * FROM file(…, Parquet)`` (no logic);
2. SQL path: Parquet → ``ledger_stage`` by ``file()`` (pseudonymising the CCCD with a keyed
   SipHash), then `warehouse.ledger.write_staged` (plan against the stored states, signed
   ``INSERT … SELECT``, materialized views included);
3. the platform's writer, ``warehouse.ledger.write_states``: a DataFrame of pseudonymised
   states → ``ledger_stage`` → the same signed ``INSERT … SELECT`` through the
   ``ledger_stage_plan`` view (which also handles in-batch duplicates and conflicts).

Each is checked to land N live doses. Figures go to stdout and docs/benchmarks.md.
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
from geo.calendar import TIME_ZONE
from warehouse.client import Warehouse, connect
from warehouse.ledger import write_staged, write_states
from warehouse.migrate import migrate

RAW_TABLE = """
CREATE TABLE {db:Identifier}.raw (
    dose_id String, version UInt32, status String, citizen_id String, date_of_birth Date,
    sex String, province_code String, site_id String, vaccine_code String, lot_number String,
    dose_number UInt8, administered_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    recorded_at DateTime64(3, 'Asia/Ho_Chi_Minh')
) ENGINE = MergeTree ORDER BY dose_id
"""

# The platform's staging step fed straight from the file: keyed hash, birth year, source.
STAGE_FROM_FILE = """
INSERT INTO {{db:Identifier}}.ledger_stage
SELECT dose_id, version, status,
       lower(hex(sipHash128Keyed((toUInt64(12345), toUInt64(67890)), citizen_id))),
       toYear(date_of_birth), sex, province_code, site_id, vaccine_code, lot_number,
       dose_number, administered_at, recorded_at, 'file'
FROM file('{path}', Parquet)
"""


def records(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    ids = np.arange(count)
    when = pd.Timestamp("2021-08-01", tz=TIME_ZONE) + pd.to_timedelta(
        rng.integers(0, 90 * 86400, count), unit="s"
    )
    return pd.DataFrame(
        {
            "dose_id": pd.Series(ids).map("VN{:012d}".format),
            "version": np.ones(count, dtype="uint32"),
            "status": "valid",
            "citizen_id": pd.Series(rng.integers(10**11, 10**12, count)).astype(str),
            "date_of_birth": pd.to_datetime(rng.integers(0, 20000, count), unit="D").date,
            "sex": rng.choice(["M", "F"], count),
            "province_code": rng.choice(["01", "79", "48", "92"], count),
            "site_id": pd.Series(rng.integers(0, 9999, count)).map("S{:04d}".format),
            "vaccine_code": rng.choice(["EU/1/20/1528", "BBIBP-CorV"], count),
            "lot_number": "LOT-1",
            "dose_number": rng.integers(1, 3, count).astype("uint8"),
            "administered_at": when,
            "recorded_at": when,
        }
    )


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def fresh(root: Warehouse, name: str) -> Warehouse:
    warehouse = dataclasses.replace(root, database=name)
    migrate(warehouse)
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=2_000_000)
    args = parser.parse_args()
    frame = records(args.doses)
    with tempfile.TemporaryDirectory() as directory:
        parquet = Path(directory) / "doses.parquet"
        frame.to_parquet(parquet, index=False)
        root = connect(f"chdb://{directory}/warehouse", "default")

        plain = fresh(root, "plain")
        plain.command(RAW_TABLE)
        reference = timed(
            lambda: plain.command(
                f"INSERT INTO {{db:Identifier}}.raw SELECT * FROM file('{parquet}', Parquet)"
            )
        )

        sql = fresh(root, "sqlpath")

        def sql_path() -> None:
            sql.command(STAGE_FROM_FILE.format(path=parquet))
            write_staged(sql)

        sql_seconds = timed(sql_path)
        live = sql.scalar("SELECT count() FROM {db:Identifier}.doses_current")
        total = sql.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily")
        assert live == total == args.doses, (live, total)

        python = fresh(root, "pythonpath")
        states = frame.assign(
            citizen_key=frame["citizen_id"],  # (keyed hashing is the ETL's job, not timed here)
            birth_year=pd.to_datetime(frame["date_of_birth"]).dt.year,
            source="file",
        )
        batch = 200_000
        python_seconds = timed(
            lambda: [
                write_states(python, states.iloc[start : start + batch], f"b{start}")
                for start in range(0, len(states), batch)
            ]
        )
        assert python.scalar("SELECT count() FROM {db:Identifier}.doses_current") == args.doses
        root.close()

    n = args.doses
    rows = [
        ("reference: INSERT … SELECT FROM file(Parquet) into a plain MergeTree", reference),
        ("SQL path: stage from Parquet by file() (keyed hash) + write_staged (plan, signed insert, 3 MVs)", sql_seconds),
        ("warehouse.ledger.write_states from DataFrames, batches of 200,000", python_seconds),
    ]  # fmt: skip
    table = "| path | seconds | rows/s |\n|---|---|---|\n" + "\n".join(
        f"| {name} | {seconds:.2f} | {n / seconds:,.0f} |" for name, seconds in rows
    )
    body = f"{n:,} new dose records, embedded chDB.\n\n{table}"
    print(body)
    write_section("Ledger write paths (spike for the ETL)", "bench.ledger_sql_path", body)


if __name__ == "__main__":
    main()
