"""What the certificate lookup's key-value copies cost the writer, and what bounds its reads.

    python -m bench.lookup_reads --dir DIR [--doses 1000000] [--seconds 3]

1. **Write cost.** The same synthetic dose states are written through
   `warehouse.ledger.write_states` into two databases side by side in one process, batches
   alternating: one with every view of the schema, one without the view that fills
   ``dose_state_kv`` (schema 0017). Doses per second for each.
2. **Statement concurrency.** On a warehouse filled by ``python -m bench.certificates_lookup
   --dir DIR``, the lookup's two reads (an identity get in ``identity_kv``; a person's doses
   through ``citizen_doses`` and ``dose_state_kv``) are run for ``--seconds`` by 1 and by 2
   threads, through the platform's client (clickhouse-connect over chDB, a pool of clients)
   and through chDB's own connections directly. Statements per second for each; beside
   them, for comparison, the lookup's QR drawing (an HC1-sized text) on 1 and 2 threads.

Figures go to stdout and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.certificates_lookup import rate
from bench.report import write_section
from bench.warehouse_ledger import synthetic_states
from certificates.issue import load_identity
from certificates.qr import qr_png
from warehouse.citizens import citizen_dose_rows
from warehouse.client import Warehouse, connect
from warehouse.ledger import write_states
from warehouse.migrate import migrate

BATCH = 100_000


def write_cost(doses: int) -> dict[str, float]:
    """Doses/s written with and without dose_state_kv's view, batches alternating."""
    with tempfile.TemporaryDirectory() as directory:
        root = connect(f"chdb://{directory}", "default")
        full = dataclasses.replace(root, database="with_copy")
        bare = dataclasses.replace(root, database="without_copy")
        for warehouse in (full, bare):
            migrate(warehouse)
        bare.command("DROP VIEW {db:Identifier}.dose_state_kv_mv")
        seconds = {full.database: 0.0, bare.database: 0.0}
        rng = np.random.default_rng(3)
        for number, start in enumerate(range(0, doses, BATCH)):
            frame = synthetic_states(start, min(BATCH, doses - start), rng)
            for warehouse in (full, bare) if number % 2 == 0 else (bare, full):
                started = time.perf_counter()
                write_states(warehouse, frame, f"bench:{start}")
                seconds[warehouse.database] += time.perf_counter() - started
            print(f"  written {start + len(frame):,} / {doses:,} into both", flush=True)
        root.close()
    return {name: doses / spent for name, spent in seconds.items()}


def read_rates(folder: Path, seconds: float) -> list[tuple[str, str, float, float]]:
    """(read, path, 1 thread/s, 2 threads/s) on a filled certificates_lookup directory."""
    import chdb

    root = connect(f"chdb://{folder / 'chdb'}", "default")
    warehouse: Warehouse = dataclasses.replace(root, database="vax")
    migrate(warehouse)
    doses = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger"))
    keys = [
        str(k)
        for (k,) in warehouse.rows(
            "SELECT citizen_key FROM {db:Identifier}.identity_kv "
            "WHERE cityHash64(citizen_key) % 1000 = {r:UInt64} LIMIT 4000",
            {"r": int(np.random.default_rng().integers(0, 1000))},
        )
    ]
    assert doses and keys, "fill the directory with bench.certificates_lookup first"
    handles = [chdb.connect(f"file:{folder / 'chdb'}") for _ in range(2)]
    identity_sql = (
        "SELECT full_name, date_of_birth, toString(sex), phone_hash FROM vax.identity_kv "
        "WHERE citizen_key = '{key}'"
    )
    doses_sql = (
        "SELECT * FROM vax.dose_state_kv WHERE dose_id IN (SELECT dose_id FROM "
        "vax.citizen_doses WHERE citizen_key = unhex('{key}')) SETTINGS max_threads = 1"
    )

    def key(thread: int, n: int) -> str:
        return keys[(thread * 2000 + n) % len(keys)]

    reads: list[tuple[str, str, Callable[[int, int], object]]] = [
        ("identity get", "platform client", lambda t, n: load_identity(warehouse, key(t, n))),
        ("identity get", "chDB directly",
         lambda t, n: handles[t].query(identity_sql.format(key=key(t, n)), "Native")),
        ("a person's doses", "platform client",
         lambda t, n: citizen_dose_rows(warehouse, key(t, n))),
        ("a person's doses", "chDB directly",
         lambda t, n: handles[t].query(doses_sql.format(key=key(t, n)), "Native")),
        ("QR PNG of an HC1 text (no statement)", "certificates.qr",
         lambda t, n: qr_png(f"HC1:{key(t, n).upper()}" * 14)),
    ]  # fmt: skip
    results = []
    for name, path, statement in reads:
        statement(0, 0)  # marks and caches
        one, two = rate(statement, 1, seconds), rate(statement, 2, seconds)
        print(f"  {name:18s} {path:16s} 1 thread {one:6.0f}/s  2 threads {two:6.0f}/s")
        results.append((name, path, one, two))
    for handle in handles:
        handle.close()
    root.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="a bench.certificates_lookup directory")
    parser.add_argument("--doses", type=int, default=1_000_000, help="for the write cost")
    parser.add_argument("--seconds", type=float, default=3.0, help="per read rate")
    args = parser.parse_args()
    written = write_cost(args.doses)
    reads = read_rates(Path(args.dir), args.seconds)
    body = "\n".join(
        [
            f"Write cost: {args.doses:,} synthetic dose states in batches of {BATCH:,} into "
            "two databases, batches alternating:",
            "",
            "| ledger writes | doses/s |",
            "|---|---:|",
            f"| every view | {written['with_copy']:,.0f} |",
            f"| without the view into dose_state_kv | {written['without_copy']:,.0f} |",
            "",
            f"Reads on the warehouse in `{args.dir}` (bench.certificates_lookup), statements "
            f"per second over {args.seconds:.0f} s each:",
            "",
            "| read | path | 1 thread | 2 threads |",
            "|---|---|---:|---:|",
            *[f"| {n} | {p} | {one:,.0f} | {two:,.0f} |" for n, p, one, two in reads],
        ]
    )
    print(body)
    write_section("Certificates: the lookup's reads", "bench.lookup_reads", body)


if __name__ == "__main__":
    main()
