"""A batch of dose records → the warehouse, the path every source shares (file drops,
the registry stream, repairs). A batch has the file-drop columns (`FILE_COLUMNS`, every
field as text) and goes through the warehouse in a fixed order, all of it inside ClickHouse:

1. ``etl_raw`` (in memory) ← the batch as read, with each row's position in its source;
2. ``etl_checked`` or ``etl_checked_next``, alternately (in memory) ← the rules evaluated
   once (``etl_raw_checked``), with the CCCD replaced by its citizen key (keyed SipHash-128
   with the pseudonym key) and the phone by its keyed hash; ``etl_raw`` is emptied: raw
   CCCDs never reach disk;
3. ``etl_rejects`` ← rows that break a rule, without identity fields;
4. ``citizen_identity`` ← name, date of birth, sex and the phone hash, one row per person;
5. ``ledger_stage`` ← valid rows as dose states, then `warehouse.ledger.write_staged`
   writes the signed rows; same-version conflicts are rejected as ``conflicting_version``;
6. ``etl_checkpoints`` ← (source, rows consumed), by the caller (`etl.checkpoints`): a rerun
   skips committed batches.

Inserts of fixed content carry tokens derived from the source and batch range, so a
replayed batch lands once; the ledger write is idempotent by its state join. One loader at
a time per warehouse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa

from etl.checkpoints import attempt_token
from warehouse.client import Warehouse
from warehouse.ledger import write_staged
from warehouse.sqlfiles import sql_beside

#: The columns of a batch: the file-drop format's (DESIGN.md); a registry pull or a repair
#: builds its batches with the same columns.
FILE_COLUMNS = [
    "dose_id", "version", "status", "citizen_id", "full_name", "date_of_birth", "sex",
    "phone", "province_code", "site_id", "vaccine_code", "lot_number", "dose_number",
    "administered_at",
]  # fmt: skip
#: The two tables a batch's checked rows alternate between (created with their view,
#: warehouse/schema/views/etl_raw_checked.sql): one batch is written from one while the next
#: is checked into the other.
CHECKED = ("etl_checked", "etl_checked_next")


def load_batch(
    warehouse: Warehouse,
    table: pa.Table,
    source: str,
    start: int,
    key: tuple[int, int],
    positions: list[int] | None = None,
) -> tuple[int, int, dict[str, int]]:
    """Load one batch (rows after `start` of `source`; each row's position is its line, or
    the given `positions`, e.g. change sequence numbers); returns (loaded, rejected, reasons)."""
    clear_scratch(warehouse)
    insert_raw(warehouse, table, source, start, positions)
    checked = check_raw(warehouse, source, start, start + table.num_rows, key, CHECKED[0])
    return write_checked(warehouse, checked, source)


def insert_raw(
    warehouse: Warehouse,
    table: pa.Table,
    source: str,
    start: int,
    positions: list[int] | None = None,
) -> None:
    """Put a batch into the (empty) in-memory ``etl_raw``, each row with its position: its
    line after `start`, or the given `positions`."""
    positions_array = (
        pa.array(positions, pa.uint64())
        if positions is not None
        else pa.array(np.arange(start + 1, start + table.num_rows + 1, dtype=np.uint64))
    )
    raw = table.add_column(0, "position", positions_array)
    warehouse.insert_arrow("etl_raw", raw, dedup_token=f"{source}:{start}:raw")  # in memory


@dataclass(frozen=True)
class RawBatch:
    """A batch of one source about to be loaded: rows after `start` up to `end`, and how
    its rows reach the empty ``etl_raw`` (`fill`, e.g. `insert_raw` or the engine's own
    pull from the registry)."""

    start: int
    end: int
    fill: Callable[[], None]


def load_batches(
    warehouse: Warehouse, batches: Iterable[RawBatch], source: str, key: tuple[int, int]
) -> Iterator[tuple[RawBatch, tuple[int, int, dict[str, int]]]]:
    """Load `batches` of `source` in order, yielding each with its (loaded, rejected,
    reasons) once it is written, so that the caller commits it before the next one is.

    Pipelined on two cores: while this batch is written, the next one is taken from
    `batches`, put into ``etl_raw`` (free once this batch is checked) and checked into the
    other of the `CHECKED` tables, so reading the source, handing rows to the engine, the
    checks and the ledger write overlap. An error taking the next batch is raised only after
    this one is yielded, so every batch before it commits."""
    upcoming = iter(batches)
    current = next(upcoming, None)
    if current is None:
        return
    clear_scratch(warehouse)
    current.fill()
    checked = check_raw(warehouse, source, current.start, current.end, key, CHECKED[0])
    while current is not None:
        other = CHECKED[1] if checked is None or checked.table == CHECKED[0] else CHECKED[0]
        taken = _Prefetch(upcoming, partial(check_raw, warehouse, source, key=key, table=other))
        counts = write_checked(warehouse, checked, source, beside=taken)
        yield current, counts
        if taken.failure is not None:
            raise taken.failure
        current, checked = taken.batch, taken.checked


class _Prefetch:
    """Called once: take the next batch, fill ``etl_raw`` with it and check it (`check`),
    keeping the batch (None at the end) and its check, or the error, for the caller."""

    def __init__(self, upcoming: Iterator[RawBatch], check: Callable[..., Checked | None]) -> None:
        self.upcoming, self.check = upcoming, check
        self.batch: RawBatch | None = None
        self.checked: Checked | None = None
        self.failure: BaseException | None = None

    def __call__(self) -> None:
        try:
            self.batch = next(self.upcoming, None)
            if self.batch is not None:
                self.batch.fill()
                self.checked = self.check(start=self.batch.start, end=self.batch.end)
        except BaseException as error:  # raised in order, after the batch before commits
            self.failure = error


def clear_scratch(warehouse: Warehouse) -> None:
    """Empty the loader's in-memory scratch tables before a batch."""
    for scratch in ("etl_raw", *CHECKED, "ledger_stage"):
        warehouse.command(f"TRUNCATE TABLE {{db:Identifier}}.{scratch}")


@dataclass(frozen=True)
class Checked:
    """A batch checked into one of `CHECKED`: its rows, and its name (source, range and a
    digest of its content, from which its insert tokens are made)."""

    rows: int
    batch: str
    table: str


def check_raw(
    warehouse: Warehouse, source: str, start: int, end: int, key: tuple[int, int], table: str
) -> Checked | None:
    """Check the batch in ``etl_raw`` into `table` (one of `CHECKED`, empty) and empty
    ``etl_raw``; None when ``etl_raw`` is empty."""
    rows = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.etl_raw"))
    if not rows:
        return None
    # The batch's name carries a digest of its content: the deduplication tokens below are
    # derived from it, and a token reused with other rows would silently drop them (a
    # registry range can change between a crash and its replay).
    digest = int(warehouse.scalar("SELECT sum(cityHash64(tuple(*))) FROM {db:Identifier}.etl_raw"))
    batch = f"{source}:{start}-{end}:{digest:016x}"
    names = {"batch": batch, "checked": table, "k0": key[0], "k1": key[1]}
    warehouse.command(sql_beside(__file__, "check_batch.sql"), names)
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_raw")  # raw CCCDs: gone now
    return Checked(rows, batch, table)


def write_checked(
    warehouse: Warehouse,
    checked: Checked | None,
    source: str,
    beside: Callable[[], None] | None = None,
) -> tuple[int, int, dict[str, int]]:
    """Write a checked batch (rejects, identities, dose states) and empty its table; returns
    (loaded, rejected, reasons). `beside` runs on another thread while the batch is written
    and has finished when this returns (also for an empty batch, `checked` None)."""
    if checked is None:
        if beside is not None:
            beside()
        return 0, 0, {}
    rows, batch = checked.rows, checked.batch
    names = {"source": source, "batch": batch, "checked": checked.table}
    # Rejects and identities are written under a token of this attempt, never a replay's:
    # a kill while the engine commits a part can leave its block noted as written and the
    # part gone, and a replay under the same token would then be dropped for good. Neither
    # needs deduplication: the reject statements insert only rejects not already stored,
    # and an identity written twice is the same row (the table keeps the latest per key).
    warehouse.command(
        sql_beside(__file__, "reject_raw.sql"), names, dedup_token=attempt_token(batch)
    )
    # The identities and the dose states both read the checked table and nothing else of the
    # batch, so the identity insert (and the caller's `beside`, e.g. the next batch read and
    # checked) runs beside the ledger write: alone, each leaves one of two cores mostly idle.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="etl-beside") as pool:
        alongside = [
            pool.submit(
                warehouse.command,
                sql_beside(__file__, "identity_valid.sql"),
                names,
                dedup_token=attempt_token(batch),
            )
        ]
        if beside is not None:
            alongside.append(pool.submit(beside))
        warehouse.command("TRUNCATE TABLE {db:Identifier}.ledger_stage")
        warehouse.command(sql_beside(__file__, "stage_valid.sql"), names)
        report = write_staged(warehouse)
        for job in alongside:
            job.result()
    if len(report.conflicts):
        pairs = [(str(d), int(v)) for d, v in report.conflicts[["dose_id", "version"]].to_numpy()]
        warehouse.command(
            sql_beside(__file__, "reject_conflicts.sql"),
            {**names, "conflicts": pairs},
            dedup_token=attempt_token(batch),
        )
    reasons = dict(warehouse.rows(sql_beside(__file__, "batch_reasons.sql"), names))
    conflicting = rows - sum(reasons.values()) - report.new - report.changed - report.stale
    if conflicting:
        reasons["conflicting_version"] = conflicting
    warehouse.command("TRUNCATE TABLE {db:Identifier}.{checked:Identifier}", names)
    rejected = sum(reasons.values())
    return rows - rejected, rejected, {k: int(v) for k, v in reasons.items()}
