"""Benchmark the warehouse write path and its read paths on embedded chDB.

    python -m bench.warehouse_ledger [--doses 1000000] [--batch 100000]

Writes synthetic dose states through `warehouse.ledger.write_states` (state lookup, signed
rows, deduplicated insert, materialized aggregates), then a batch of corrections and voids,
then times the same national totals read three ways side by side: the aggregate
(coverage_daily), the contract view (doses_current, FINAL), and one citizen's doses.
Figures go to stdout and to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from bench.report import write_section
from geo.calendar import CAMPAIGN_START, TIME_ZONE
from warehouse import ledger
from warehouse.citizens import citizen_doses
from warehouse.client import Warehouse, connect
from warehouse.ledger import recover_pending, write_states
from warehouse.migrate import migrate

PROVINCES = ["01", "79", "48", "92", "31", "27", "36", "40", "75", "74"]
VACCINES = ["EU/1/21/1529", "BBIBP-CorV", "EU/1/20/1528", "EU/1/20/1507"]


def synthetic_states(start: int, count: int, rng: np.random.Generator) -> pd.DataFrame:
    ids = np.arange(start, start + count)
    seconds = rng.integers(0, 600 * 86400, count)
    administered = pd.Timestamp(CAMPAIGN_START, tz=TIME_ZONE) + pd.to_timedelta(seconds, unit="s")
    citizens = ids // 2
    return pd.DataFrame(
        {
            "dose_id": pd.Series(ids).map("D{:010d}".format),
            "version": 1,
            "status": "valid",
            "citizen_key": pd.Series(citizens).map("{:032x}".format),
            "birth_year": rng.integers(1940, 2010, count),
            "sex": rng.choice(["M", "F"], count),
            "province_code": rng.choice(PROVINCES, count),
            "site_id": pd.Series(rng.integers(0, 2000, count)).map("S{:05d}".format),
            "vaccine_code": rng.choice(VACCINES, count),
            "lot_number": "LOT-1",
            "dose_number": (ids % 2 + 1).astype("uint8"),
            "administered_at": administered,
            "recorded_at": administered,
            "source": "bench",
        }
    )


def timed(function: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


class _CutOffError(Exception):
    """Stands for a kill after the signed insert, before ledger_pending was cleared."""


def interrupted_write(target: Warehouse, frame: pd.DataFrame) -> None:
    """Write `frame` as a killed process would have: inserted, still pending."""

    def cut_off(warehouse: Warehouse) -> int:
        ledger.insert_pending(warehouse)
        raise _CutOffError

    flush = ledger.flush_pending
    ledger.flush_pending = cut_off
    try:
        write_states(target, frame, "bench:interrupted")
    except _CutOffError:
        pass
    finally:
        ledger.flush_pending = flush


def run(warehouse: Warehouse, doses: int, batch: int) -> str:
    rng = np.random.default_rng(7)
    migrate(warehouse)
    started = time.perf_counter()
    for start in range(0, doses, batch):
        frame = synthetic_states(start, min(batch, doses - start), rng)
        write_states(warehouse, frame, f"bench:{start}")
        print(f"  loaded {start + len(frame):,} / {doses:,}", flush=True)
    load_seconds = time.perf_counter() - started

    sample = synthetic_states(0, min(batch, doses), np.random.default_rng(7)).sample(
        frac=0.1, random_state=1
    )
    sample["version"] = 2
    sample["status"] = np.where(np.arange(len(sample)) % 2 == 0, "void", "valid")
    sample["province_code"] = "79"
    started = time.perf_counter()
    plan = write_states(warehouse, sample, "bench:corrections")
    correction_seconds = time.perf_counter() - started

    # recovery after an unclean stop: the replay plus the recomputation of every table the
    # batch touched (warehouse.ledger.recover_pending), on a ledger of `doses` rows
    extra = synthetic_states(doses, batch, rng)
    interrupted_write(warehouse, extra)
    started = time.perf_counter()
    recovered = recover_pending(warehouse)
    recovery_seconds = time.perf_counter() - started
    written = doses
    doses += batch

    live = doses - int((sample["status"] == "void").sum())
    aggregate_sql = "SELECT sum(doses) FROM {db:Identifier}.coverage_daily"
    view_sql = "SELECT count() FROM {db:Identifier}.doses_current"
    assert int(warehouse.scalar(aggregate_sql)) == live
    assert int(warehouse.scalar(view_sql)) == live
    aggregate = timed(lambda: warehouse.scalar(aggregate_sql))
    view = timed(lambda: warehouse.scalar(view_sql), repeat=3)
    key = f"{12345:032x}"
    assert len(citizen_doses(warehouse, key)) == 2
    person = timed(lambda: citizen_doses(warehouse, key))
    person_final = timed(
        lambda: warehouse.rows(
            "SELECT * FROM {db:Identifier}.doses_current WHERE citizen_key = {k:String} "
            "AND dose_id IN (SELECT dose_id FROM {db:Identifier}.citizen_doses "
            "WHERE citizen_key = unhex({k:String}))",
            {"k": key},
        )
    )
    person_scan = timed(
        lambda: warehouse.rows(
            "SELECT * FROM {db:Identifier}.doses_current WHERE citizen_key = {k:String}",
            {"k": key},
        ),
        repeat=3,
    )
    rows = [
        ("dose states written (state lookup, signed insert, 6 materialized views)", f"{written:,}"),
        ("write throughput, batches of " + f"{batch:,}", f"{written / load_seconds:,.0f} doses/s"),
        (
            f"corrections/voids batch ({len(sample):,} states, {plan.written:,} signed rows)",
            f"{correction_seconds:.2f} s",
        ),
        (
            f"recovery after a kill: {recovered:,} signed rows left pending, replayed and every "
            f"table's touched cells recomputed from the ledger ({written:,} doses before; the "
            "synthetic batch touches nearly every day and hour cell: a worst case)",
            f"{recovery_seconds:.2f} s",
        ),
        ("national total from coverage_daily (median of 5)", f"{aggregate * 1000:.1f} ms"),
        ("national total from doses_current FINAL (median of 3)", f"{view * 1000:.1f} ms"),
        (
            "one citizen's doses: citizen index + dose_state_kv gets (warehouse.citizens, median of 5)",
            f"{person * 1000:.1f} ms",
        ),
        (
            "the same through the index but collapsed by doses_current FINAL (median of 5)",
            f"{person_final * 1000:.1f} ms",
        ),
        (
            "one citizen's doses by filtering doses_current alone (median of 3)",
            f"{person_scan * 1000:.1f} ms",
        ),
    ]
    table = "| measure | result |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        warehouse = connect(f"chdb://{directory}", "vax")
        table = run(warehouse, args.doses, args.batch)
        warehouse.close()
    print(table)
    write_section("Warehouse ledger (embedded chDB)", "bench.warehouse_ledger", table)


if __name__ == "__main__":
    main()
