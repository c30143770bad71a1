"""File drops → the warehouse: CSV, NDJSON or Parquet in the file-drop format (DESIGN.md).

Each file is read in batches (Arrow, every field as text) and each batch goes through the
warehouse in a fixed order, all of it inside ClickHouse:

1. ``etl_raw`` (in memory) ← the batch as read, with each row's position in the file;
2. ``etl_checked`` or ``etl_checked_next``, alternately (in memory) ← the rules evaluated
   once (``etl_raw_checked``), with the CCCD replaced by its citizen key (keyed SipHash-128
   with the pseudonym key) and the phone by its keyed hash; ``etl_raw`` is emptied: raw
   CCCDs never reach disk;
3. ``etl_rejects`` ← rows that break a rule, without identity fields;
4. ``citizen_identity`` ← name, date of birth, sex and the phone hash, one row per person;
5. ``ledger_stage`` ← valid rows as dose states, then `warehouse.ledger.write_staged`
   writes the signed rows; same-version conflicts are rejected as ``conflicting_version``;
6. ``etl_checkpoints`` ← (source, rows consumed), by the caller: a rerun skips committed
   batches.

The source name carries the file's content hash, so a renamed copy is recognised and an
edited file is a new source. Inserts of fixed content carry tokens derived from the
source and batch range, so a replayed batch lands once; the ledger write is idempotent by
its state join. One loader at a time per warehouse.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.client import Warehouse
from warehouse.ledger import write_staged
from warehouse.pseudonyms import pseudonym_parts as pseudonym_parts
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)

FILE_COLUMNS = [
    "dose_id", "version", "status", "citizen_id", "full_name", "date_of_birth", "sex",
    "phone", "province_code", "site_id", "vaccine_code", "lot_number", "dose_number",
    "administered_at",
]  # fmt: skip
#: Rows per batch of a file drop. Fewer, larger batches cost less CPU per row: 5 M rows from
#: Parquet took 31-32 CPU-s in batches of 1,000,000 and 42-43 in batches of 500,000 (ad hoc,
#: /usr/bin/time-style rusage around etl.files.load_file; most of the difference is parts
#: merged during the load), at about 1.2 GiB more peak memory.
BATCH_ROWS = 1_000_000
#: The two tables a batch's checked rows alternate between (schema 0011, 0018): one batch
#: is written from one while the next is checked into the other.
CHECKED = ("etl_checked", "etl_checked_next")
SUFFIXES = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".parquet": "parquet"}


class FileDropError(Exception):
    """A file cannot be read as a file drop; the message says why."""


@dataclass
class LoadReport:
    source: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "skipped_already_loaded": self.skipped,
            "reasons": self.reasons,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.read / self.seconds) if self.seconds else None,
        }


def file_kind(path: Path) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise FileDropError(f"{path}: unknown file type (use .csv, .ndjson/.jsonl or .parquet)")
    return kind


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _as_text(table: pa.Table) -> pa.Table:
    """The file-drop columns as text (absent ones null); other columns are ignored."""
    columns = []
    for name in FILE_COLUMNS:
        if name in table.column_names:
            column = table.column(name)
            if name == "date_of_birth" and pa.types.is_timestamp(column.type):
                column = pc.strftime(column, format="%Y-%m-%d")  # JSON readers guess dates
            elif not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                column = pc.cast(column, pa.string())
            columns.append(column.cast(pa.string()))
        else:
            columns.append(pa.nulls(table.num_rows, pa.string()))
    return pa.table(columns, names=FILE_COLUMNS)


def read_batches(path: Path, rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """The file in batches of about `rows` rows, every field as text."""
    kind = file_kind(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield _as_text(pa.Table.from_batches([batch]))
        elif kind == "csv":
            import pyarrow.csv as pa_csv

            reader = pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(block_size=64 << 20),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(FILE_COLUMNS, pa.string()),
                    strings_can_be_null=True,
                ),
            )
            # Arrow reads blocks of block_size bytes; batches are cut to `rows` rows
            pending = pa.table({name: pa.array([], pa.string()) for name in FILE_COLUMNS})
            for block in reader:
                pending = pa.concat_tables([pending, _as_text(pa.Table.from_batches([block]))])
                while pending.num_rows >= rows:
                    yield pending.slice(0, rows)
                    pending = pending.slice(rows)
            if pending.num_rows:
                yield pending
        else:
            yield from _ndjson_batches(path, rows)
    except (pa.ArrowInvalid, OSError) as error:
        raise FileDropError(f"{path}: cannot read as {kind}: {error}") from error


def _ndjson_batches(path: Path, rows: int) -> Iterator[pa.Table]:
    """NDJSON read line by line with numbers kept as their text (Arrow's JSON reader guesses
    types, turning "…Z" times into naive ones and refusing mixed columns). The slow format:
    prefer CSV or Parquet for volume."""
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_int=str, parse_float=str)
            except json.JSONDecodeError as error:
                raise FileDropError(f"{path}: line {number} is not JSON: {error.msg}") from None
            if not isinstance(record, dict):
                raise FileDropError(f"{path}: line {number} is not a JSON object")
            records.append(record)
            if len(records) >= rows:
                yield _records_table(records)
                records = []
    if records:
        yield _records_table(records)


def _records_table(records: list[dict[str, Any]]) -> pa.Table:
    columns = {
        name: [None if r.get(name) is None else str(r[name]) for r in records]
        for name in FILE_COLUMNS
    }
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def refresh_reference(warehouse: Warehouse, provinces: list[str], vaccines: list[str]) -> None:
    """Replace the codes input is checked against."""
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_reference")
    rows = pa.table(
        {
            "kind": ["province"] * len(provinces) + ["vaccine"] * len(vaccines),
            "code": [*provinces, *vaccines],
        }
    )
    warehouse.insert_arrow("etl_reference", rows, dedup_token=f"reference:{time.time_ns()}")


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
    warehouse.command(sql_beside(__file__, "reject_raw.sql"), names, dedup_token=_attempt(batch))
    # The identities and the dose states both read the checked table and nothing else of the
    # batch, so the identity insert (and the caller's `beside`, e.g. the next batch read and
    # checked) runs beside the ledger write: alone, each leaves one of two cores mostly idle.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="etl-beside") as pool:
        alongside = [
            pool.submit(
                warehouse.command,
                sql_beside(__file__, "identity_valid.sql"),
                names,
                dedup_token=_attempt(batch),
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
            dedup_token=_attempt(batch),
        )
    reasons = dict(warehouse.rows(sql_beside(__file__, "batch_reasons.sql"), names))
    conflicting = rows - sum(reasons.values()) - report.new - report.changed - report.stale
    if conflicting:
        reasons["conflicting_version"] = conflicting
    warehouse.command("TRUNCATE TABLE {db:Identifier}.{checked:Identifier}", names)
    rejected = sum(reasons.values())
    return rows - rejected, rejected, {k: int(v) for k, v in reasons.items()}


def _attempt(batch: str) -> str:
    """A deduplication token unique to this statement of this attempt at `batch`."""
    return f"{batch}:attempt:{uuid.uuid4().hex}"


def last_position(warehouse: Warehouse, source: str) -> int:
    """Where the source's committed batches end (0 when none)."""
    return int(warehouse.scalar(sql_beside(__file__, "last_position.sql"), {"source": source}) or 0)


def commit_checkpoint(
    warehouse: Warehouse,
    source: str,
    start: int,
    position: int,
    counts: tuple[int, int, int],
    seconds: float,
) -> None:
    """Record that `source` is loaded up to `position` (after the batch's facts landed);
    `counts` are the batch's rows read, loaded and rejected."""
    read, loaded, rejected = counts
    token = f"{source}:{start}-{position}"
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token, "
        "rows_read, rows_loaded, rows_rejected, seconds) VALUES ({source:String}, "
        "{position:UInt64}, {token:String}, {read:UInt64}, {loaded:UInt64}, "
        "{rejected:UInt64}, {seconds:Float64})",
        {"source": source, "position": position, "token": token, "read": read,
         "loaded": loaded, "rejected": rejected, "seconds": seconds},
        dedup_token=_attempt(token),  # see write_checked; a committed batch is never replayed
    )  # fmt: skip


def _unloaded(
    warehouse: Warehouse, path: Path, batch_rows: int, source: str, done: int, report: LoadReport
) -> Iterator[RawBatch]:
    """The file's batches after position `done` (those up to it are committed already),
    counting every row read and every row skipped in `report`."""
    position = 0
    for table in read_batches(path, batch_rows):
        start, position = position, position + table.num_rows
        report.read += table.num_rows
        if position <= done:
            report.skipped += table.num_rows
            continue
        yield RawBatch(start, position, partial(insert_raw, warehouse, table, source, start))


def load_file(
    warehouse: Warehouse, path: Path, key: bytes, batch_rows: int = BATCH_ROWS
) -> LoadReport:
    """Load one file drop, resuming after its last committed batch."""
    started = time.monotonic()
    source = f"file:{content_hash(path)[:16]}:{path.name}"
    report = LoadReport(source=source)
    done = last_position(warehouse, source)
    parts = pseudonym_parts(key)
    batch_started = time.monotonic()  # batches overlap: each is timed from the last commit
    for batch, (loaded, rejected, reasons) in load_batches(
        warehouse, _unloaded(warehouse, path, batch_rows, source, done, report), source, parts
    ):
        read = batch.end - batch.start
        seconds = time.monotonic() - batch_started
        commit_checkpoint(
            warehouse, source, batch.start, batch.end, (read, loaded, rejected), seconds
        )
        report.loaded += loaded
        report.rejected += rejected
        for reason, count in reasons.items():
            report.reasons[reason] = report.reasons.get(reason, 0) + count
        log.info(
            "batch %s rows %d-%d: read %d loaded %d rejected %d in %.2f s (%.0f rows/s)",
            source, batch.start + 1, batch.end, read, loaded, rejected, seconds,
            read / seconds if seconds else 0,
        )  # fmt: skip
        batch_started = time.monotonic()
    report.seconds = time.monotonic() - started
    return report
