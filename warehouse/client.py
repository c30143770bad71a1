"""The warehouse client: one per process, the only door to ClickHouse.

Statements run on a small pool of clickhouse-connect clients (`POOL_SIZE`), one statement per
client at a time, so a long ETL insert does not hold up a page or a certificate lookup
running in another thread. For embedded chDB every client opens the same directory in this
process; they share one engine and run concurrently (tests/integration/test_warehouse.py
checks both the overlap and the results under concurrent writes and reads).

`connect(dsn, database)` accepts ``chdb:///dir`` (embedded chDB, in this process) or
``http(s)://user:password@host:port`` (a ClickHouse server). Both give a clickhouse-connect
client with the same API, so nothing above this module branches on the engine.

Every statement passes values as server-side parameters (``{name:Type}``); the database name
travels as ``{db:Identifier}``, added automatically. Insert settings are pinned here (no async
inserts, deduplication on), because ClickHouse 26.x defaults differ between engines and versions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import pandas as pd

if TYPE_CHECKING:
    from vaxviet.settings import Settings

Engine = Literal["chdb", "clickhouse"]

#: Settings sent with every insert: synchronous (also through Distributed tables on a
#: cluster, so an acknowledged insert is on its shard), deduplicated (also in views).
INSERT_SETTINGS: dict[str, Any] = {
    "async_insert": 0,
    "distributed_foreground_insert": 1,
    "wait_for_async_insert": 1,
    "insert_deduplicate": 1,
    "deduplicate_blocks_in_dependent_materialized_views": 1,
    # the ledger feeds three materialized views; running them in parallel halves the
    # insert time on 2 cores (bench/ledger_sql_path.py)
    "parallel_view_processing": 1,
    # no merge of the block being inserted as if it were a part already merged (collapsing
    # the ledger's signed rows, summing the aggregates, replacing the indexes): every read
    # already handles unmerged parts, so insert-time merging changes no answer, and it was
    # half of every ledger insert's cost with its views (bench/etl_files.py --views)
    "optimize_on_insert": 0,
}


#: Clients a process opens at most: statements beyond this many at once wait for one.
POOL_SIZE = 4


class _Clients:
    """The process's clients: the first one opened by `connect`, more on demand."""

    def __init__(self, first: Any, opener: Callable[[], Any] | None, size: int) -> None:
        self._idle = [first]
        self._all = [first]
        self._opener = opener
        self._size = size if opener is not None else 1
        self._ready = threading.Condition()
        self._closed = False

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        with self._ready:
            while not self._closed and not self._idle and len(self._all) >= self._size:
                self._ready.wait()
            if self._closed:
                raise WarehouseError("the warehouse connection is closed")
            client = self._idle.pop() if self._idle else None
            if client is None:
                assert self._opener is not None
                client = self._opener()
                self._all.append(client)
        try:
            yield client
        finally:
            with self._ready:
                self._idle.append(client)
                self._ready.notify()

    def close(self) -> None:
        with self._ready:
            for client in self._all:
                client.close()
            self._idle.clear()
            self._all.clear()
            self._size = 0
            self._closed = True
            self._ready.notify_all()  # statements waiting for a client fail instead


#: called as `observer(statement, seconds)` after every statement (`observe_statements`)
_observers: list[Callable[[str, float], None]] = []


@contextmanager
def observe_statements(observer: Callable[[str, float], None]) -> Iterator[None]:
    """Within the block, `observer(statement, seconds)` after every statement any Warehouse
    runs, from any thread: the SQL text, or ``insert_frame <table>`` / ``insert_arrow
    <table>`` for inserts of data. Benchmarks time statements with it and tests count them;
    outside such a block a statement pays one check of an empty list."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


@contextmanager
def _statement(label: str) -> Iterator[None]:
    if not _observers:
        yield
        return
    began = time.perf_counter()
    try:
        yield
    finally:
        spent = time.perf_counter() - began
        for observer in list(_observers):
            observer(label, spent)


class WarehouseError(Exception):
    """The warehouse cannot be reached or refused a statement; the message says which."""


def engine_of(dsn: str) -> Engine:
    """Which engine a DSN selects; raises WarehouseError for anything else."""
    scheme = urlsplit(dsn).scheme.lower()
    if scheme == "chdb":
        return "chdb"
    if scheme in ("http", "https"):
        return "clickhouse"
    raise WarehouseError(
        f"unsupported warehouse DSN scheme {scheme!r}: use chdb:///dir or http(s)://host:8123"
    )


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password:
        return dsn.replace(f":{parts.password}@", ":***@")
    return dsn


@dataclass
class Warehouse:
    """A connected warehouse: the client, its engine and the database holding the schema."""

    client: Any
    engine: Engine
    database: str
    dsn: str
    cluster: str = ""
    # One clickhouse-connect client is not safe for concurrent use: each statement borrows
    # one of the pool's (a lone `client` given to the constructor is a pool of one).
    _clients: _Clients | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._clients is None:
            self._clients = _Clients(self.client, None, 1)

    def _borrow(self) -> Any:
        assert self._clients is not None
        return self._clients.borrow()

    def _params(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        merged: dict[str, Any] = {"db": self.database}
        if parameters:
            merged.update(parameters)
        return merged

    def command(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        dedup_token: str | None = None,
    ) -> Any:
        """Run a statement; with `dedup_token`, as a deduplicated synchronous insert
        (``INSERT … SELECT``)."""
        settings = None
        if dedup_token is not None:
            if not dedup_token:
                raise ValueError("an empty deduplication token")
            settings = dict(INSERT_SETTINGS, insert_deduplication_token=dedup_token)
        with _statement(sql), self._borrow() as client:
            return client.command(sql, parameters=self._params(parameters), settings=settings)

    def rows(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with _statement(sql), self._borrow() as client:
            return list(client.query(sql, parameters=self._params(parameters)).result_rows)

    def scalar(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        result = self.rows(sql, parameters)
        return result[0][0] if result else None

    def frame(self, sql: str, parameters: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with _statement(sql), self._borrow() as client:
            return client.query_df(sql, parameters=self._params(parameters))

    def insert_frame(
        self,
        table: str,
        frame: pd.DataFrame,
        *,
        dedup_token: str,
        column_names: Sequence[str] | None = None,
    ) -> None:
        """Insert `frame` into `database.table` synchronously, deduplicated by `dedup_token`.

        The token must identify the content (derive it from the source range *and* a hash of
        the rows): a token reused with different rows silently drops those rows.
        """
        if not dedup_token:
            raise ValueError("an insert needs a deduplication token")
        settings = dict(INSERT_SETTINGS, insert_deduplication_token=dedup_token)
        with _statement(f"insert_frame {table}"), self._borrow() as client:
            client.insert_df(
                table,
                frame,
                database=self.database,
                column_names=list(column_names) if column_names else None,
                settings=settings,
            )

    def insert_arrow(self, table: str, data: Any, *, dedup_token: str) -> None:
        """Insert an Arrow table (columns named as the table's), like `insert_frame`."""
        if not dedup_token:
            raise ValueError("an insert needs a deduplication token")
        settings = dict(INSERT_SETTINGS, insert_deduplication_token=dedup_token)
        with _statement(f"insert_arrow {table}"), self._borrow() as client:
            client.insert_arrow(table, data, database=self.database, settings=settings)

    def server_version(self) -> str:
        return str(self.scalar("SELECT version()"))

    def close(self) -> None:
        assert self._clients is not None
        self._clients.close()

    def describe(self) -> str:
        return f"{self.engine} {_redact(self.dsn)} database {self.database}"


def _locked_elsewhere(directory: Path) -> bool:
    """Whether another process holds the chDB directory's lock (its ``status`` file)."""
    import fcntl

    status = directory / "status"
    if not status.exists():
        return False
    with status.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def connect_configured(settings: Settings) -> Warehouse:
    """The warehouse the settings name (DSN, database, cluster)."""
    return connect(settings.warehouse_dsn, settings.warehouse_database, settings.warehouse_cluster)


def connect(dsn: str, database: str = "vax", cluster: str = "") -> Warehouse:
    """Open the warehouse named by `dsn`. Call once per process and pass the result down."""
    import clickhouse_connect  # heavy import, kept out of module import time

    engine = engine_of(dsn)
    if engine == "chdb":
        path = urlsplit(dsn).path
        if not path:
            raise WarehouseError("a chdb DSN needs a directory: chdb:///absolute/path")
        Path(path).mkdir(parents=True, exist_ok=True)
    try:
        client = clickhouse_connect.get_client(dsn=dsn)
    except Exception as error:  # the driver raises several unrelated types
        if engine == "chdb" and _locked_elsewhere(Path(urlsplit(dsn).path)):
            raise WarehouseError(
                f"the embedded warehouse {urlsplit(dsn).path} is in use by another process "
                "(chDB allows one process per directory): stop that process, or point "
                "VAX_VAR_DIR or VAX_WAREHOUSE_DSN elsewhere"
            ) from error
        raise WarehouseError(f"cannot open the warehouse at {_redact(dsn)}: {error}") from error
    clients = _Clients(client, lambda: clickhouse_connect.get_client(dsn=dsn), POOL_SIZE)
    return Warehouse(
        client=client,
        engine=engine,
        database=database,
        dsn=dsn,
        cluster=cluster,
        _clients=clients,
    )
