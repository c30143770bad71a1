"""The registry stream: dose records pulled by change sequence into the warehouse (then the
operational tables — sites, stock, registrations, check-ins — by `etl.operations`).

Each pass reads the doses whose ``change_seq`` is above the stream's checkpoint, in order,
in batches (chunked reads on SQLite, a server-side cursor on PostgreSQL), joined with their
citizens, and sends each batch through the same path as a file drop (`etl.batch.load_batches`:
rules, rejects, pseudonymisation, identity, signed ledger write; the next batch reaches the
engine while this one is written). The checkpoint (source
``registry:doses``, position = the batch's highest change_seq) is written only after the
batch's facts are in, so a crash replays the batch, which the state join and insert tokens
make a no-op. A corrected or voided dose comes back with a new change_seq and its new
version.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, text

from etl.batch import FILE_COLUMNS, RawBatch, insert_raw, load_batches
from etl.checkpoints import commit_checkpoint, last_position
from etl.operations import FIRST, LATER, stream_operations
from warehouse.client import Warehouse
from warehouse.pseudonyms import pseudonym_parts
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
    operations: dict[str, int] = field(default_factory=dict)  # rows per operational table
    operations_seconds: float = 0.0

    def absorb(self, later: StreamReport) -> None:
        """Add a later pass's counts to this one (the stream's running total)."""
        self.batches += later.batches
        self.read += later.read
        self.loaded += later.loaded
        self.rejected += later.rejected
        self.position = later.position
        self.seconds += later.seconds
        self.operations_seconds += later.operations_seconds
        for table, rows in later.operations.items():
            self.operations[table] = self.operations.get(table, 0) + rows

    def summary(self) -> dict[str, object]:
        return {
            "command": "stream",
            "source": SOURCE,
            "batches": self.batches,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "position": self.position,
            "operations": self.operations,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.read / self.seconds) if self.seconds else None,
        }


def _column(name: str, values: np.ndarray) -> pa.Array:
    """A registry column as file-drop text, converted by Arrow (no per-value Python).
    Registry times are UTC instants: PostgreSQL returns them with their zone, SQLite as
    text without an offset, which gets "Z" (no offset would mean local time)."""
    array = pa.array(values, from_pandas=True)
    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:
            array = pc.assume_timezone(array, "UTC")
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%S%z")
    if name == "administered_at" and pa.types.is_string(array.type):
        return pc.binary_join_element_wise(array, pa.scalar("Z"), "")
    return pc.cast(array, pa.string())


def registry_batches(engine: Engine, after: int, rows: int) -> Iterator[tuple[list[int], pa.Table]]:
    """(change_seq of each row, batch as file-drop text columns), changed after `after`.

    SQLite is read through its own cursor, not SQLAlchemy's result rows: the statement is
    plain text with no types to convert, and a Row per record cost about a sixth of the
    read (1.49 M rows: 12.1–12.9 s through SQLAlchemy, 10.6–10.8 s through the cursor, ad
    hoc). Other engines go through SQLAlchemy."""
    sql = sql_beside(__file__, "registry_doses.sql")
    with engine.connect() as connection:
        partitions: Iterator[Sequence[Sequence[object]]]
        if engine.dialect.name == "sqlite":
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.arraysize = rows
            cursor.execute(sql, {"after": after})
            partitions = iter(cursor.fetchmany, [])  # the cursor goes with the connection
        else:
            result = connection.execution_options(stream_results=True, yield_per=rows).execute(
                text(sql), {"after": after}
            )
            partitions = result.partitions(rows)
        width = len(FILE_COLUMNS) + 1
        for partition in partitions:
            # rows to columns: one object matrix (numpy's loop in C) is a third of the time
            # of zip(*rows) for the same rows (1.49 M rows: 0.77 s against 2.45 s, ad hoc)
            matrix = np.empty((len(partition), width), dtype=object)
            matrix[:] = partition
            table = pa.table(
                {name: _column(name, matrix[:, n]) for n, name in enumerate(FILE_COLUMNS)}
            )
            yield [int(seq) for seq in matrix[:, -1]], table


T = TypeVar("T")

#: Read the registry on a thread of its own, one batch further ahead (the Python path:
#: SQLite, or a registry the warehouse cannot reach). Without it the next batch is still read
#: beside this one's write (`etl.batch.load_batches`), but only once this one is checked.
#: `python -m bench.etl_stream` times SQLite both ways in one run.
READ_AHEAD = True


def prefetched(batches: Iterator[T], depth: int = 1) -> Iterator[T]:
    """`batches`, produced on a thread of their own up to `depth` ahead: the registry read
    (Python and SQLite) runs beside everything the warehouse does (chDB releases the
    interpreter while it works). The producer's error is raised here, in
    order; if the consumer stops early, the producer stops and closes `batches`."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        ready.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            outcome: tuple[str, Any] = ("end", None)
        except BaseException as error:  # handed to the consumer, raised there
            outcome = ("error", error)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        while not stop.is_set():
            try:
                ready.put(outcome, timeout=0.2)
                return
            except queue.Full:
                continue

    producer = threading.Thread(target=produce, name="registry-read", daemon=True)
    producer.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        producer.join(timeout=30)


@dataclass(frozen=True)
class Feed:
    """How the warehouse reads the registry's dose feed itself: the engine's table function
    (``sqlite`` or ``postgresql``) and its parameters."""

    kind: str
    parameters: dict[str, str]


def feed_for(engine: Engine, warehouse: Warehouse) -> Feed | None:
    """The direct feed when the warehouse can reach the registry (embedded chDB connects to
    PostgreSQL itself); None: rows go through Python. A ClickHouse server is not assumed to
    reach the registry's database. SQLite is read through Python too: ClickHouse's sqlite()
    reader did not see rows still in the write-ahead log (measured: a committed row became
    visible only after a WAL checkpoint), so a live registry would be read behind, and
    without the WAL's locks."""
    if warehouse.engine != "chdb":
        return None
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return Feed(
            "postgresql",
            {
                "host": f"{url.host or '127.0.0.1'}:{url.port or 5432}",
                "database": url.database or "",
                "user": url.username or "",
                "password": url.password or "",
            },
        )
    return None


class _Batches:
    """The stream's running counts, checkpoint after checkpoint."""

    def __init__(self, warehouse: Warehouse, report: StreamReport) -> None:
        self.warehouse, self.report = warehouse, report

    def done(self, after: int, position: int, counts: tuple[int, int, int], started: float) -> None:
        read, loaded, rejected = counts
        seconds = time.monotonic() - started
        commit_checkpoint(self.warehouse, SOURCE, after, position, counts, seconds)
        log.info(
            "stream batch change_seq %d-%d: read %d loaded %d rejected %d (%.0f rows/s)",
            after + 1, position, read, loaded, rejected, read / seconds if seconds else 0,
        )  # fmt: skip
        self.report.batches += 1
        self.report.read += read
        self.report.loaded += loaded
        self.report.rejected += rejected


def _pull(
    warehouse: Warehouse, feed: Feed, after: int, rows: int, key: tuple[int, int], batches: _Batches
) -> int:
    """Pull the feed after `after` in windows of change_seq sized for about `rows` doses;
    returns the position reached. A window ends at most at the highest change_seq seen when
    the pass began: registry writers take change numbers in commit order (one counter row),
    so everything up to it is committed and a checkpoint there skips nothing."""
    parameters = {**feed.parameters, "after": after}
    waiting, top = warehouse.rows(
        sql_beside(__file__, f"feed_pending_{feed.kind}.sql"), parameters
    )[0]
    if not waiting:
        return after
    top = int(top)
    window = max(1, (top - after) * rows // int(waiting))

    def windows() -> Iterator[RawBatch]:
        start = after
        while start < top:
            until = min(start + window, top)
            parameters = {**feed.parameters, "after": start, "until": until}
            yield RawBatch(start, until, partial(warehouse.command, pull, parameters))
            start = until

    pull = sql_beside(__file__, f"pull_doses_{feed.kind}.sql")
    started = time.monotonic()
    for batch, (loaded, rejected, _) in load_batches(warehouse, windows(), SOURCE, key):
        if loaded + rejected:  # an empty window commits nothing
            batches.done(batch.start, batch.end, (loaded + rejected, loaded, rejected), started)
            started = time.monotonic()
    return top


def _registry_raw(
    warehouse: Warehouse, tables: Iterator[tuple[list[int], pa.Table]], after: int
) -> Iterator[RawBatch]:
    """The registry's batches (change sequence numbers, rows) as batches for `load_batches`."""
    for seqs, table in tables:
        yield RawBatch(after, seqs[-1], partial(insert_raw, warehouse, table, SOURCE, after, seqs))
        after = seqs[-1]


#: Dose rows per batch when the warehouse pulls the registry's dose feed itself (PostgreSQL
#: into embedded chDB): no row passes through Python, and fewer, larger batches cost less per
#: row (`python -m bench.etl_stream --scale 0.01`, ad hoc, one run each: 181,527 dose rows/s
#: in batches of 1,000,000, 141,600 in batches of 200,000; runs of the same code here differ
#: by up to a fifth).
PULL_ROWS = 1_000_000
#: Rows per batch read through Python (SQLite, or a registry the warehouse cannot reach; in
#: batches of 1,000,000 the SQLite stream was slower, 77,266 against 90,952 dose rows/s),
#: and per batch of each operational table.
READ_ROWS = 200_000


def stream_once(
    warehouse: Warehouse, engine: Engine, key: bytes, rows: int | None = None
) -> StreamReport:
    """Load everything the registry changed since the checkpoint, then return; `rows` per
    batch (default: `PULL_ROWS` when the warehouse pulls the feed, else `READ_ROWS`)."""
    started = time.monotonic()
    report = StreamReport()
    batches = _Batches(warehouse, report)
    after = last_position(warehouse, SOURCE)
    parts = pseudonym_parts(key)
    # the sample fraction first: a fresh warehouse catching up on a simulated registry must
    # not show its first doses as the whole country's (the portal's denominators use it)
    report.operations = stream_operations(warehouse, engine, parts, rows or READ_ROWS, FIRST)
    feed = feed_for(engine, warehouse)
    if feed is not None:
        after = _pull(warehouse, feed, after, rows or PULL_ROWS, parts, batches)
    else:
        source = registry_batches(engine, after, rows or READ_ROWS)
        tables = prefetched(source) if READ_AHEAD else source
        batch_started = time.monotonic()  # batches overlap: each is timed from the last commit
        for batch, (loaded, rejected, _) in load_batches(
            warehouse, _registry_raw(warehouse, tables, after), SOURCE, parts
        ):
            counts = (loaded + rejected, loaded, rejected)
            batches.done(batch.start, batch.end, counts, batch_started)
            batch_started = time.monotonic()
            after = batch.end
    report.position = after
    operations_started = time.monotonic()
    report.operations |= stream_operations(warehouse, engine, parts, rows or READ_ROWS, LATER)
    report.operations_seconds = time.monotonic() - operations_started
    report.seconds = time.monotonic() - started
    return report
