"""Server time of a certificate lookup on embedded chDB, per step, and lookups per second.

    python -m bench.certificates_lookup [--doses 1000000] [--lookups 200] [--seconds 10]
                                        [--clients 16] [--rate 200] [--dir DIR [--reuse]]

Fills a warehouse with N synthetic doses written straight into the ledger by
`INSERT … SELECT FROM numbers()` (bench/sql/lookup_fill.sql: 2 or 3 doses per person, keys
made from 12-digit CCCDs exactly as the ETL makes them, so the materialized views fill the
citizen index as in production) and an identity for every person (the restricted table at
full size). Then, for people drawn at random, it times the two server steps of the lookup
API, without the web layer's 0.4 s floor (a deliberate delay that makes "no such person"
and "details do not match" take equally long) and without SMS delivery:

* **code request** (`Lookup.request_code`): key from the typed CCCD and phone, identity
  read, name/date/phone comparison, a challenge stored, the code queued to the outbox;
* **confirm** (`issue.certificate_card`, what `/api/v1/certificate/confirm` answers after the
  code check): identity and live doses, status rules, DCC, signature, QR PNG, card.

Latency: one lookup at a time. Throughput: whole lookups for `--seconds` by 1 thread, by 2,
by 16 and by `--clients` threads (default 128: the web server's threads, VAX_WEB_THREADS),
side by side; lookups in flight together share their warehouse statements
(`certificates.reads`), and the figures say how many keys a statement carried.
Issue 6's targets: p99 <= 50 ms with 50 M doses; >= 200 lookups/s on 2 cores. Figures go
to stdout and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.report import write_section
from certificates import issue, keys, lookup
from vaxviet.settings import Settings
from warehouse.client import Warehouse, connect
from warehouse.compaction import compact
from warehouse.migrate import migrate
from warehouse.pseudonyms import pseudonym_parts
from warehouse.sqlfiles import sql_beside

KEY = bytes(range(32))
PRODUCTS = ["EU/1/21/1529", "EU/1/20/1528", "BBIBP-CorV", "EU/1/20/1507"]
CHUNK = 2_000_000
NAME, BORN = "Nguyễn Văn An", dt.date(1980, 1, 2)


def people_of(doses: int) -> int:
    """Persons lookup_fill.sql spreads `doses` over (two per block of five numbers)."""
    return 2 * (doses // 5) + (1 if doses % 5 else 0) + (1 if doses % 5 > 2 else 0)


def fill(warehouse: Warehouse, doses: int) -> float:
    k0, k1 = pseudonym_parts(KEY)
    started = time.monotonic()
    for start in range(0, doses, CHUNK):
        count = min(CHUNK, doses - start)
        warehouse.command(
            sql_beside(__file__, "lookup_fill.sql"),
            {"k0": k0, "k1": k1, "start": start, "count": count, "vaccines": PRODUCTS},
        )
        rate = (start + count) / (time.monotonic() - started)
        print(f"  {start + count:,} / {doses:,} doses ({rate:,.0f}/s)", flush=True)
    people = people_of(doses)
    for start in range(0, people, CHUNK):
        warehouse.command(
            sql_beside(__file__, "lookup_identities.sql"),
            {"k0": k0, "k1": k1, "start": start, "count": min(CHUNK, people - start)},
        )
    print(f"  {people:,} identities", flush=True)
    # what the serve process does every night (warehouse.compaction): the citizen index in
    # one part, the key-value copies compacted (a bulk load leaves them as many unsorted
    # RocksDB files, and the first run after a fill took 3.5 times the median and 40 times
    # the p99 of the figures once compacted)
    for table, seconds in compact(warehouse).items():
        print(f"  {table} compacted in {seconds:.0f} s", flush=True)
    return time.monotonic() - started


def cccd(person: int) -> str:
    return f"{100000000000 + person:012d}"


def phone(person: int) -> str:
    """The person's phone number on record (lookup_identities.sql)."""
    return f"09{person:08d}"


def keys_of(warehouse: Warehouse, people: list[int]) -> dict[int, str]:
    """Citizen keys of these people, made in one statement before any timing: the confirm
    step gets the key from the code challenge, not from a query."""
    k0, k1 = pseudonym_parts(KEY)
    found = warehouse.rows(
        "SELECT person, lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), "
        "leftPad(toString(100000000000 + person), 12, '0')))) "
        "FROM (SELECT arrayJoin({people:Array(UInt64)}) AS person)",
        {"k0": k0, "k1": k1, "people": people},
    )
    return {int(person): str(key) for person, key in found}


def rate(statement: Callable[[int, int], object], threads: int, seconds: float) -> float:
    """Calls per second of `statement(thread, n)` by `threads` threads for `seconds`."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def work(index: int) -> None:
        while time.monotonic() < stop:
            statement(index, done[index])
            done[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - started)


def open_loop(
    work: Callable[[int], object], per_second: float, seconds: float, workers: int
) -> tuple[float, float, list[float]]:
    """Lookups arriving at random (Poisson) at `per_second` for `seconds`, each handed to a
    pool of `workers` threads as a web server hands requests to its threads. Returns the
    seconds from the first arrival to the last, from the first arrival to the last lookup's
    end, and each lookup's time from its arrival to its end, waiting included: a server
    slower than the offered rate falls behind, and these times grow with the queue."""
    from concurrent.futures import ThreadPoolExecutor

    arrivals = time.monotonic() + np.cumsum(
        np.random.default_rng().exponential(1 / per_second, int(per_second * seconds))
    )

    def timed(index: int, arrived: float) -> float:
        work(index)
        return time.monotonic() - arrived

    with ThreadPoolExecutor(workers) as pool:
        futures = []
        for index, arrival in enumerate(arrivals):
            time.sleep(max(0.0, arrival - time.monotonic()))
            futures.append(pool.submit(timed, index, float(arrival)))
        waits = [future.result() for future in futures]
    first = float(arrivals[0])
    return float(arrivals[-1]) - first, time.monotonic() - first, waits


def lookup_once(
    service: lookup.Lookup, signing: keys.SigningKey, person: int, key: str
) -> tuple[float, float]:
    """(code request, confirm) server time in seconds for one person."""
    details = lookup.Details(cccd(person), NAME, BORN, phone(person))
    t0 = time.perf_counter()
    service.request_code(details)
    t1 = time.perf_counter()
    card = issue.certificate_card(service.reads, key, signing, dt.datetime.now(dt.UTC))
    t2 = time.perf_counter()
    if card is None:
        raise AssertionError(f"person {person} has no certificate")
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doses", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput phase")
    parser.add_argument("--clients", type=int, default=128, help="throughput phase")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop phase, lookups/s")
    parser.add_argument("--dir", default="", help="work directory (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="time a filled --dir again")
    args = parser.parse_args()

    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-lookup-"))
    folder.mkdir(parents=True, exist_ok=True)
    root = connect(f"chdb://{folder / 'chdb'}", "default")
    warehouse = dataclasses.replace(root, database="vax")
    migrate(warehouse)
    filled = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger"))
    if args.reuse and filled:
        args.doses, load_note = filled, "filled by an earlier run of this command"
        print(f"reusing {filled:,} doses in {folder}")
    else:
        print(f"filling {args.doses:,} doses into {folder}")
        load_note = f"written in {fill(warehouse, args.doses):.0f} s"
    # the fill's size, for bench.lookup_http (which cannot open the warehouse beside its server)
    (folder / "filled.json").write_text(json.dumps({"doses": args.doses}))
    parts = dict(
        warehouse.rows(
            "SELECT table, count() FROM system.parts WHERE database = {db:String} AND active "
            "AND table IN ('dose_ledger', 'citizen_doses', 'citizen_identity') GROUP BY table",
            {"db": warehouse.database},
        )
    )
    people = people_of(args.doses)
    settings = Settings.from_env({"VAX_VAR_DIR": str(folder / "var")})
    signing = keys.ensure(settings)
    outbox = lookup.OutboxSender(folder / "sms.jsonl")
    service = lookup.Lookup(warehouse, KEY, outbox, lookup.MemoryChallengeStore())
    rng = np.random.default_rng()  # other people each run: no run reads what the last one cached
    drawn = [int(p) for p in rng.integers(0, people, 5 + args.lookups + 4000)]
    key_of = keys_of(warehouse, drawn)

    for person in drawn[:5]:  # the first queries load marks and caches
        lookup_once(service, signing, person, key_of[person])
    request_ms, confirm_ms = [], []
    sent = service.sent
    for person in drawn[5 : 5 + args.lookups]:
        request, confirm = lookup_once(service, signing, person, key_of[person])
        request_ms.append(request * 1000)
        confirm_ms.append(confirm * 1000)
    service.wait_for_sending()
    if service.sent - sent != args.lookups:  # every request matched its person
        raise AssertionError(f"{service.sent - sent} codes sent for {args.lookups} lookups")

    pool = drawn[5 + args.lookups :]

    def lookups(thread: int, n: int) -> None:
        person = pool[(thread * 7919 + n) % len(pool)]
        lookup_once(service, signing, person, key_of[person])

    # 1, 2, 16 and --clients threads, side by side: what concurrency adds in this process
    rates, shared = {}, {}
    for threads in dict.fromkeys((1, 2, 16, args.clients)):
        before = {
            kind: (reads.statements, reads.keys)
            for kind, reads in (
                ("identity", service.reads.identities),
                ("code", service.reads.typed_identities),
                ("doses", service.reads.doses),
            )
        }
        rates[threads] = rate(lookups, threads, args.seconds)
        shared[threads] = {
            kind: (reads.keys - before[kind][1]) / max(1, reads.statements - before[kind][0])
            for kind, reads in (
                ("identity", service.reads.identities),
                ("code", service.reads.typed_identities),
                ("doses", service.reads.doses),
            )
        }
    offered = args.rate
    arriving, serving, waits = open_loop(lambda n: lookups(0, n), offered, args.seconds, 64)
    service.wait_for_sending()
    root.close()
    if not args.dir:
        shutil.rmtree(folder, ignore_errors=True)

    def row(label: str, times: list[float]) -> str:
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        median, mean = statistics.median(ordered), statistics.fmean(ordered)
        print(f"{label:50s} median {median:7.1f} ms  mean {mean:7.1f} ms  p99 {p99:7.1f} ms")
        return f"| {label} | {median:.1f} | {mean:.1f} | {p99:.1f} |"

    total = [a + b for a, b in zip(request_ms, confirm_ms, strict=True)]
    rows = [
        row("code request (key, identity read, comparison)", request_ms),
        row("confirm (identity, doses, rules, sign, QR PNG, card)", confirm_ms),
        row("whole lookup (request + confirm)", total),
    ]
    for threads, per_second in rates.items():
        print(
            f"whole lookups/s with {threads:2d} threads: {per_second:5.0f} (keys per statement: "
            f"identity {shared[threads]['identity']:.1f} (code requests' "
            f"{shared[threads]['code']:.1f}), doses {shared[threads]['doses']:.1f})"
        )
    ordered_waits = sorted(waits)
    open_p50 = statistics.median(ordered_waits) * 1000
    open_p99 = ordered_waits[min(len(waits) - 1, int(0.99 * len(waits)))] * 1000
    print(
        f"open loop: {len(waits):,} lookups arrived over {arriving:.1f} s ({offered:.0f}/s "
        f"offered), all served {serving:.1f} s after the first arrived; arrival to end "
        f"p50 {open_p50:.1f} ms, p99 {open_p99:.1f} ms"
    )
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            f"{args.doses:,} doses of {people:,} people in embedded chDB ({load_note}; active "
            f"parts: dose_ledger {parts.get('dose_ledger', 0)}, citizen_doses "
            f"{parts.get('citizen_doses', 0)}, citizen_identity "
            f"{parts.get('citizen_identity', 0)}), {people:,} identities. {args.lookups} people "
            "drawn at random (others each run), looked up one after another:",
            "",
            "| server step, per lookup | median ms | mean ms | p99 ms |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            f"Whole lookups per second, {args.seconds:.0f} s each, side by side (keys per "
            "identity / dose statement: how many lookups shared one):",
            "",
            "| threads | lookups/s | keys per identity statement (confirm) | keys per identity "
            "statement (code request) | keys per dose statement |",
            "|---:|---:|---:|---:|---:|",
            *(
                f"| {threads} | {per_second:.0f} | {shared[threads]['identity']:.1f} | "
                f"{shared[threads]['code']:.1f} | {shared[threads]['doses']:.1f} |"
                for threads, per_second in rates.items()
            ),
            "",
            f"Open loop: {len(waits):,} lookups arriving at random at {offered:.0f}/s over "
            f"{arriving:.1f} s, each handed to a pool of 64 threads, **all served {serving:.1f} s "
            f"after the first arrived**; from arrival to end (waiting included) p50 "
            f"{open_p50:.1f} ms, **p99 {open_p99:.1f} ms** (a server slower than the arrivals "
            "would fall behind: these times would grow with the queue).",
            "",
            f"Load average {load:.1f} at the end. Issue 6's targets: p99 <= 50 ms with 50 M "
            "doses, >= 200 lookups/s on 2 cores.",
        ]
    )
    write_section("Certificates: lookup server time", "bench.certificates_lookup", body)


if __name__ == "__main__":
    main()
