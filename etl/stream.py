"""The registry stream: dose records pulled by change sequence into the warehouse.

Each pass reads the doses whose ``change_seq`` is above the stream's checkpoint, in order,
in batches (chunked reads on SQLite, a server-side cursor on PostgreSQL), joined with their
citizens, and sends each batch through the same path as a file drop (`etl.files.load_batch`:
rules, rejects, pseudonymisation, identity, signed ledger write). The checkpoint (source
``registry:doses``, position = the batch's highest change_seq) is written only after the
batch's facts are in, so a crash replays the batch, which the state join and insert tokens
make a no-op. A corrected or voided dose comes back with a new change_seq and its new
version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import Engine, text

from etl.files import FILE_COLUMNS, commit_checkpoint, last_position, load_batch, pseudonym_parts
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)

SOURCE = "registry:doses"


@dataclass
class StreamReport:
    batches: int = 0
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    position: int = 0
    seconds: float = 0.0

    def absorb(self, later: StreamReport) -> None:
        """Add a later pass's counts to this one (the stream's running total)."""
        self.batches += later.batches
        self.read += later.read
        self.loaded += later.loaded
        self.rejected += later.rejected
        self.position = later.position
        self.seconds += later.seconds

    def summary(self) -> dict[str, object]:
        return {
            "command": "stream",
            "source": SOURCE,
            "batches": self.batches,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "position": self.position,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.read / self.seconds) if self.seconds else None,
        }


def _text(name: str, value: object) -> str | None:
    """A registry value as file-drop text. Registry times are UTC instants: SQLite returns
    them as text without an offset, so the offset is added (no offset would mean local)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if name == "administered_at":
        return f"{value}Z"
    return str(value)


def registry_batches(engine: Engine, after: int, rows: int) -> Iterator[tuple[list[int], pa.Table]]:
    """(change_seq of each row, batch as file-drop text columns), changed after `after`."""
    query = text(sql_beside(__file__, "registry_doses.sql"))
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=rows).execute(
            query, {"after": after}
        )
        for partition in result.partitions(rows):
            columns = list(zip(*partition, strict=True))
            table = pa.table(
                {
                    name: pa.array([_text(name, v) for v in values], pa.string())
                    for name, values in zip(FILE_COLUMNS, columns[:-1], strict=True)
                }
            )
            yield [int(seq) for seq in columns[-1]], table


def stream_once(
    warehouse: Warehouse, engine: Engine, key: bytes, rows: int = 200_000
) -> StreamReport:
    """Load everything the registry changed since the checkpoint, then return."""
    started = time.monotonic()
    report = StreamReport()
    after = last_position(warehouse, SOURCE)
    parts = pseudonym_parts(key)
    for seqs, table in registry_batches(engine, after, rows):
        position = seqs[-1]
        batch_started = time.monotonic()
        loaded, rejected, _ = load_batch(warehouse, table, SOURCE, after, parts, seqs)
        seconds = time.monotonic() - batch_started
        commit_checkpoint(
            warehouse, SOURCE, after, position, (table.num_rows, loaded, rejected), seconds
        )
        log.info(
            "stream batch change_seq %d-%d: read %d loaded %d rejected %d (%.0f rows/s)",
            after + 1, position, table.num_rows, loaded, rejected,
            table.num_rows / seconds if seconds else 0,
        )  # fmt: skip
        report.batches += 1
        report.read += table.num_rows
        report.loaded += loaded
        report.rejected += rejected
        after = position
    report.position = after
    report.seconds = time.monotonic() - started
    return report
