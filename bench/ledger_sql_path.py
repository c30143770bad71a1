"""Spike for the ETL (issue 4): can the signed-ledger write run inside ClickHouse fast enough?

    python -m bench.ledger_sql_path [--doses 2000000]

Three ways to put the same N new dose records (file-drop columns, raw CCCDs) into the
warehouse, side by side in one embedded chDB:

1. reference: ``INSERT INTO plain MergeTree SELECT * FROM file(…, Parquet)`` (no logic);
2. SQL path: Parquet → staging table by ``file()``, then one ``INSERT … SELECT`` into
   ``dose_ledger`` that pseudonymises the CCCD with a keyed SipHash, joins the stored state
   of each dose and emits the signed rows (materialized views included);
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
from warehouse.client import Warehouse, connect
from warehouse.ledger import write_states
from warehouse.migrate import migrate

STAGE = """
CREATE TABLE {db:Identifier}.stage (
    dose_id String, version UInt32, status String, citizen_id String, date_of_birth Date,
    sex String, province_code String, site_id String, vaccine_code String, lot_number String,
    dose_number UInt8, administered_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    recorded_at DateTime64(3, 'Asia/Ho_Chi_Minh')
) ENGINE = MergeTree ORDER BY dose_id
"""

# New state for every staged dose whose version beats the stored one; a cancel row (-1 with
# the stored values) for every dose that had a stored state.
SIGNED_INSERT = """
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
WITH stored AS (
    SELECT dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
           vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
    FROM {db:Identifier}.dose_ledger FINAL
    WHERE sign = 1 AND dose_id IN (SELECT dose_id FROM {db:Identifier}.stage)
)
SELECT
    s.dose_id,
    row.1 AS version, row.2 AS sign, row.3 AS status, row.4 AS citizen_key,
    row.5 AS birth_year, row.6 AS sex, row.7 AS province_code, row.8 AS site_id,
    row.9 AS vaccine_code, row.10 AS lot_number, row.11 AS dose_number,
    row.12 AS administered_at, row.13 AS recorded_at, row.14 AS source
FROM (
    SELECT
        s.*,
        lower(hex(sipHash128Keyed((toUInt64({k0:UInt64}), toUInt64({k1:UInt64})), s.citizen_id)))
            AS key,
        c.version AS stored_version,
        tuple(c.version, toInt8(-1), toString(c.status), c.citizen_key, c.birth_year,
              toString(c.sex), toString(c.province_code), toString(c.site_id),
              toString(c.vaccine_code), c.lot_number, c.dose_number, c.administered_at,
              c.recorded_at, toString(c.source)) AS cancel
    FROM {db:Identifier}.stage AS s
    LEFT JOIN stored AS c ON c.dose_id = s.dose_id
    SETTINGS join_use_nulls = 0
) AS s
ARRAY JOIN arrayConcat(
    if(s.stored_version > 0, [cancel], []),
    [tuple(s.version, toInt8(1), s.status, s.key, toUInt16(toYear(s.date_of_birth)), s.sex,
           s.province_code, s.site_id, s.vaccine_code, s.lot_number, s.dose_number,
           s.administered_at, s.recorded_at, 'file')]
) AS row
WHERE s.version > s.stored_version
SETTINGS async_insert = 0, insert_deduplication_token = {token:String},
         parallel_view_processing = 1
"""


def records(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    ids = np.arange(count)
    when = pd.Timestamp("2021-08-01", tz="Asia/Ho_Chi_Minh") + pd.to_timedelta(
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
        plain.command(STAGE.replace(".stage", ".raw"))
        reference = timed(
            lambda: plain.command(
                f"INSERT INTO {{db:Identifier}}.raw SELECT * FROM file('{parquet}', Parquet)"
            )
        )

        sql = fresh(root, "sqlpath")
        sql.command(STAGE)

        def sql_path() -> None:
            sql.command(
                f"INSERT INTO {{db:Identifier}}.stage SELECT * FROM file('{parquet}', Parquet)"
            )
            sql.command(SIGNED_INSERT, {"token": "spike-1", "k0": 12345, "k1": 67890})

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
        ("SQL path: stage from Parquet + one signed INSERT … SELECT (keyed hash, state join, 3 MVs in parallel)", sql_seconds),
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
