"""The engines' floor under the campaign simulator: how fast SQLite and PostgreSQL take the
registry's rows when generating them costs nothing.

    python -m bench.registry_floor [--scale 0.002] [--until 2021-12-31]
                                   [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

1. Seeds a campaign into a scratch SQLite registry (``registry.simulator.seed``) and reads
   every data table back into DataFrames: the rows a seed writes, already made.
2. For each engine, on a fresh migrated registry prepared as the seed prepares it (SQLite:
   no per-row foreign-key checks, no fsync; PostgreSQL: foreign keys dropped; both: the
   doses' citizen index deferred), writes those frames through the simulator's own bulk
   path (``registry.bulk.BulkWriter``: ``executemany`` on SQLite, ``COPY`` on PostgreSQL) in
   chunks of a seed step's size, then builds the deferred index and restores the keys.
   The time per table, and in all, is the engines' cost alone.
3. On SQLite also the doses alone through ``executemany`` of tuples made beforehand (the
   driver and engine only, no conversion from pandas).

The ceiling for a seed is doses ÷ (that time): a seed spends at least this long writing,
whatever the generation costs. Figures go to stdout and to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from bench.registry_seed import drop_postgres, fresh_postgres
from bench.report import write_section
from registry.bulk import BulkWriter
from registry.db import make_engine, migrate
from registry.simulator import (
    SeedOptions,
    defer_foreign_keys,
    defer_indexes,
    make_sites,
    restore_foreign_keys,
    seed,
    trusted_bulk_load,
    write_reference_data,
)

#: the data tables a seed fills, in the order a step writes them (reference data apart)
TABLES = ("citizens", "registrations", "checkins", "doses", "stock_movements")
CHUNK = 100_000
#: the campaign's random seed (the site register is the first thing it draws)
SEED = 1


def made_rows(scale: float, until: date) -> tuple[dict[str, pd.DataFrame], int]:
    """Every data table of a seeded campaign, as frames, and its number of doses."""
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/source.sqlite")
        migrate(engine)
        report = seed(engine, SeedOptions(scale=scale, until=until, seed=SEED))
        with engine.connect() as connection:
            frames = {
                table: pd.read_sql(text(f"SELECT * FROM {table} ORDER BY change_seq"), connection)
                for table in TABLES
            }
        engine.dispose()
    print(f"  campaign: {report.doses:,} doses, {sum(len(f) for f in frames.values()):,} rows")
    return frames, report.doses


def write_all(engine: Engine, frames: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Seconds per table to write `frames` on a fresh registry, as a seed does, plus the
    deferred index and keys at the end ("finish")."""
    migrate(engine)
    seconds: dict[str, float] = dict.fromkeys(TABLES, 0.0)
    with engine.connect() as connection:
        trusted_bulk_load(connection, True)
        deferred = defer_indexes(connection)
        foreign_keys = defer_foreign_keys(connection)
        try:
            with connection.begin():
                write_reference_data(BulkWriter(connection), sites_of())
            for table in TABLES:
                frame = frames[table]
                for start in range(0, len(frame), CHUNK):
                    chunk = frame.iloc[start : start + CHUNK]
                    began = time.perf_counter()
                    with connection.begin():
                        BulkWriter(connection).insert(table, chunk)
                    seconds[table] += time.perf_counter() - began
            began = time.perf_counter()
            with connection.begin():
                for index in deferred:
                    index.create(connection)
            restore_foreign_keys(connection, foreign_keys)
            seconds["finish"] = time.perf_counter() - began
        finally:
            trusted_bulk_load(connection, False)
    return seconds


def sites_of() -> pd.DataFrame:
    """The site register the seed wrote: the seed's generator makes the sites first."""
    return make_sites(np.random.default_rng(SEED))


def doses_executemany(frames: dict[str, pd.DataFrame]) -> float:
    """Seconds to insert the doses as ready tuples with one ``executemany`` per chunk into a
    fresh SQLite registry (after its citizens, sites and reference data)."""
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/floor.sqlite")
        migrate(engine)
        doses = frames["doses"]
        columns = list(doses.columns)
        prepared = doses.astype(object).where(doses.notna(), None)
        for column in columns:
            if pd.api.types.is_datetime64_any_dtype(doses[column]):
                prepared[column] = doses[column].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = list(prepared.itertuples(index=False, name=None))
        sql = f"INSERT INTO doses ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        with engine.connect() as connection:
            trusted_bulk_load(connection, True)
            defer_indexes(connection)
            raw = connection.connection.driver_connection
            cursor = raw.cursor()  # type: ignore[union-attr]
            began = time.perf_counter()
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[start : start + CHUNK])
            raw.commit()  # type: ignore[union-attr]
            spent = time.perf_counter() - began
            cursor.close()
        engine.dispose()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--until", default="2021-12-31")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"seeding the campaign at scale {args.scale} until {args.until}")
    frames, doses = made_rows(args.scale, date.fromisoformat(args.until))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        sqlite = make_engine(f"sqlite:///{directory}/floor.sqlite")
        results["SQLite"] = write_all(sqlite, frames)
        sqlite.dispose()
    print(f"  SQLite: {results['SQLite']}")
    dsn, name = fresh_postgres(args.postgres)
    try:
        postgres = make_engine(dsn)
        results["PostgreSQL"] = write_all(postgres, frames)
        postgres.dispose()
    finally:
        drop_postgres(args.postgres, name)
    print(f"  PostgreSQL: {results['PostgreSQL']}")
    tuples = doses_executemany(frames)
    print(f"  SQLite doses as ready tuples: {tuples:.2f} s")

    rows = {table: len(frames[table]) for table in TABLES}
    lines = [
        f"A campaign at scale {args.scale} until {args.until} ({doses:,} doses, "
        f"{sum(rows.values()):,} rows in the data tables: {sum(rows.values()) / doses:.2f} rows "
        "per dose), generated first, then written through the simulator's bulk path on fresh "
        "registries prepared as a seed prepares them; chunks of "
        f"{CHUNK:,} rows, one transaction each.",
        "",
        "| table | rows | SQLite s | SQLite rows/s | PostgreSQL s | PostgreSQL rows/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for table in TABLES:
        s, p = results["SQLite"][table], results["PostgreSQL"][table]
        lines.append(
            f"| {table} | {rows[table]:,} | {s:.2f} | {rows[table] / s:,.0f} | {p:.2f} | "
            f"{rows[table] / p:,.0f} |"
        )
    lines.append(
        f"| deferred index and keys | | {results['SQLite']['finish']:.2f} | | "
        f"{results['PostgreSQL']['finish']:.2f} | |"
    )
    totals = {engine: sum(values.values()) for engine, values in results.items()}
    lines += [
        f"| **all** | {sum(rows.values()):,} | {totals['SQLite']:.2f} | | "
        f"{totals['PostgreSQL']:.2f} | |",
        "",
        f"Ceiling for a seed (doses ÷ write time alone): SQLite {doses / totals['SQLite']:,.0f} "
        f"doses/s, PostgreSQL {doses / totals['PostgreSQL']:,.0f} doses/s; the target is 200,000. "
        f"The doses alone as ready tuples through one `executemany` per chunk on SQLite: "
        f"{tuples:.2f} s, {rows['doses'] / tuples:,.0f} rows/s (the driver and the engine, no "
        "conversion from pandas).",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("Registry write floor (engines alone)", "bench.registry_floor", body)


if __name__ == "__main__":
    main()
