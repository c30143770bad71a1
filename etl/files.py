"""File drops → the warehouse: CSV, NDJSON or Parquet in the file-drop format (DESIGN.md).

Each file is read in batches (Arrow, every field as text) and each batch goes through the
path every source shares (`etl.batch.load_batches`); a batch's checkpoint is committed once
its facts are in (`etl.checkpoints`), so a rerun skips committed batches. The source name
carries the file's content hash, so a renamed copy is recognised and an edited file is a
new source.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from etl.batch import FILE_COLUMNS, RawBatch, insert_raw, load_batches
from etl.checkpoints import commit_checkpoint, last_position
from warehouse.client import Warehouse
from warehouse.pseudonyms import pseudonym_parts

#: the source of a file drop is ``file:<content digest>:<file name>``
FILE_SOURCE_PREFIX: Final = "file:"

log = logging.getLogger(__name__)

#: Rows per batch of a file drop. Fewer, larger batches cost less CPU per row: 5 M rows from
#: Parquet took 31-32 CPU-s in batches of 1,000,000 and 42-43 in batches of 500,000 (ad hoc,
#: /usr/bin/time-style rusage around etl.files.load_file; most of the difference is parts
#: merged during the load), at about 1.2 GiB more peak memory.
BATCH_ROWS = 1_000_000
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
    source = f"{FILE_SOURCE_PREFIX}{content_hash(path)[:16]}:{path.name}"
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
