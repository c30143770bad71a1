"""The registry's operational records, streamed beside the doses: vaccination sites, stock
movements, app registrations and desk check-ins (the internal dashboards read them), the
registry's sample fraction (``registry_sample``: the share of the country a simulated
registry stands for, which every denominator of the portal uses; a real registry has no row),
citizens' correction requests (``correction_requests``: only their kind, province, state
and times, for the public backlog; the citizen, the claim and the reason stay in the registry)
and the doses' superseded versions (the registry's append-only ``dose_versions``, landing in
``dose_revisions``: what a dose said before a correction or a void, for the figures as
published on a past day; no citizen).

Each table flows by its own change sequence (source ``registry:<table>``), in batches, with
its own checkpoint committed after the batch's rows are in, like the doses. The registry's
constraints already hold these rows to their rules (a stock movement's sign, a site's
opening hours), so there are no rejects here; the warehouse keeps the latest version of each
row (ReplacingMergeTree by change_seq, schema 0014). Registrations and check-ins name a
citizen: the CCCD goes through an in-memory scratch table (``etl_ops_raw``) and is replaced
by its citizen key inside ClickHouse, as for doses. Insert tokens carry the source range and
a digest of the rows, so a replayed batch lands once and a changed range is not dropped.
When an insert leaves its table no larger (dropped as a repeat), the batch's change sequence
numbers are counted in the table, and if rows are missing the batch is inserted again.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, text

from etl.checkpoints import commit_checkpoint, last_position
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)

UTC_MS = pa.timestamp("ms", tz="UTC")


def _instants(values: tuple[object, ...]) -> pa.Array:
    """Registry instants (aware datetimes from PostgreSQL, UTC text from SQLite: whole
    seconds from the bulk writers, microseconds from SQLAlchemy's own SQLite type) as UTC."""
    array = pa.array(values, from_pandas=True)
    if pa.types.is_string(array.type) or pa.types.is_null(array.type):
        array = pc.assume_timezone(pc.cast(array, pa.timestamp("us")), "UTC")
    return pc.cast(array, UTC_MS, safe=False)


def _typed(kind: pa.DataType, fill: object = None) -> Callable[[tuple[object, ...]], pa.Array]:
    def convert(values: tuple[object, ...]) -> pa.Array:
        array = pc.cast(pa.array(values, from_pandas=True), kind)
        return pc.fill_null(array, fill) if fill is not None else array

    return convert


_STRING, _EMPTY = _typed(pa.string()), _typed(pa.string(), "")


@dataclass(frozen=True)
class Flow:
    """One registry table: its columns (name → converter, in the query's order), and the
    warehouse table it lands in directly, or the SQL that pseudonymises it from
    ``etl_ops_raw``."""

    table: str
    columns: dict[str, Callable[[tuple[object, ...]], pa.Array]]
    via_scratch: bool = False
    #: the warehouse table, when its name is not the registry's
    target: str = ""

    @property
    def source(self) -> str:
        return f"registry:{self.table}"

    @property
    def landing(self) -> str:
        """The warehouse table the flow's rows land in."""
        return self.target or self.table


_SCRATCH = {
    "row_id": _typed(pa.uint64()),
    "citizen_id": _STRING,
    "site_id": _STRING,
    "at_1": _instants,
    "at_2": _instants,
    "status": _EMPTY,
    "change_seq": _typed(pa.uint64()),
}

FLOWS = (
    Flow(
        "sites",
        {
            "site_id": _STRING,
            "name": _STRING,
            "province_code": _STRING,
            "site_type": _STRING,
            "daily_capacity": _typed(pa.uint32()),
            "opens_minute": _typed(pa.uint16()),
            "closes_minute": _typed(pa.uint16()),
            "change_seq": _typed(pa.uint64()),
        },
    ),
    Flow(
        "stock_movements",
        {
            "movement_id": _typed(pa.uint64()),
            "kind": _STRING,
            "level": _STRING,
            "province_code": _EMPTY,
            "site_id": _EMPTY,
            "vaccine_code": _STRING,
            "lot_number": _STRING,
            "expiry_date": _typed(pa.date32()),
            "quantity": _typed(pa.int64()),
            "moved_at": _instants,
            "transfer_id": _typed(pa.uint64(), 0),
            "change_seq": _typed(pa.uint64()),
        },
    ),
    Flow("registrations", _SCRATCH, via_scratch=True),
    Flow("checkins", _SCRATCH, via_scratch=True),
    Flow(
        "registry_sample",
        {
            "id": _typed(pa.uint8()),
            "fraction": _typed(pa.float64()),
            "simulated": _typed(pa.bool_()),
            "description": _EMPTY,
            "recorded_at": _instants,
            "change_seq": _typed(pa.uint64()),
        },
    ),
    Flow(
        "correction_requests",
        {
            "request_id": _typed(pa.uint64()),
            "kind": _STRING,
            "province_code": _STRING,
            "status": _STRING,
            "filed_at": _instants,
            "resolved_at": _instants,
            "change_seq": _typed(pa.uint64()),
        },
    ),
    Flow(
        "dose_versions",
        {
            "dose_id": _STRING,
            "version": _typed(pa.uint32()),
            "status": _STRING,
            "province_code": _STRING,
            "site_id": _STRING,
            "vaccine_code": _STRING,
            "dose_number": _typed(pa.uint8()),
            "administered_at": _instants,
            "recorded_at": _instants,
            "superseded_at": _instants,
            "change_seq": _typed(pa.uint64()),
        },
        target="dose_revisions",
    ),
)


def registry_rows(engine: Engine, flow: Flow, after: int, rows: int) -> Iterator[pa.Table]:
    """The flow's rows changed after `after`, in change order, as Arrow tables of `rows`."""
    query = text(sql_beside(__file__, f"registry_{flow.table}.sql"))
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=rows).execute(
            query, {"after": after}
        )
        for partition in result.partitions(rows):
            columns = list(zip(*partition, strict=True))
            yield pa.table(
                {
                    name: convert(values)
                    for (name, convert), values in zip(flow.columns.items(), columns, strict=True)
                }
            )


def _digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def _rows(warehouse: Warehouse, table: str) -> int:
    """Rows of `table` now (from part metadata: no scan)."""
    return int(warehouse.scalar(f"SELECT count() FROM {{db:Identifier}}.{table}"))


def _landed(warehouse: Warehouse, table: str, after: int, position: int) -> int:
    """Distinct change sequence numbers of `table` in (after, position]: the registry's
    counter is shared by every table, so these are exactly the batch's rows."""
    return int(
        warehouse.scalar(
            f"SELECT uniqExact(change_seq) FROM {{db:Identifier}}.{table} "
            "WHERE change_seq > {after:UInt64} AND change_seq <= {position:UInt64}",
            {"after": after, "position": position},
        )
    )


def load_flow_batch(
    warehouse: Warehouse, flow: Flow, table: pa.Table, after: int, key: tuple[int, int]
) -> int:
    """Land one batch of `flow` (rows changed after `after`) and commit its checkpoint."""
    started = time.monotonic()
    position = int(pc.max(table.column("change_seq")).as_py())
    token = f"{flow.source}:{after}-{position}:{_digest(table)}"
    expected = int(pc.count_distinct(table.column("change_seq")).as_py())

    def insert(token: str) -> None:
        if flow.via_scratch:
            warehouse.command(
                sql_beside(__file__, f"ops_{flow.table}.sql"),
                {"k0": key[0], "k1": key[1]},
                dedup_token=token,
            )
        else:
            warehouse.insert_arrow(flow.landing, table, dedup_token=token)

    if flow.via_scratch:
        warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_ops_raw")
        warehouse.insert_arrow("etl_ops_raw", table, dedup_token=f"{token}:raw")
    before = _rows(warehouse, flow.landing)
    insert(token)
    # The table grew: the batch's part is in (one part: the tables are not partitioned).
    # It did not (dropped as a repeat, or a merge folded as many rows meanwhile): look for
    # the batch's rows, a scan of change_seq kept off the usual path.
    if (
        _rows(warehouse, flow.landing) <= before
        and (landed := _landed(warehouse, flow.landing, after, position)) < expected
    ):
        # A replay under the batch's token was dropped although rows of the batch are
        # missing: a kill while the engine committed the earlier attempt's part left its
        # block noted as written and the part gone. Insert again under a token of this
        # attempt (rows that are there land twice; the table keeps one per id).
        log.warning(
            "%s rows after change_seq %d: %d of %d missing after the insert; inserting again",
            flow.landing, after, expected - landed, expected,
        )  # fmt: skip
        insert(f"{token}:again:{uuid.uuid4().hex}")
    if flow.via_scratch:
        warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_ops_raw")  # CCCDs: gone
    seconds = time.monotonic() - started
    count = table.num_rows
    commit_checkpoint(warehouse, flow.source, after, position, (count, count, 0), seconds)
    return position


#: the flow streamed before the doses: the share of the country the doses stand for, which
#: every denominator uses, must be in the warehouse before the first dose is shown
FIRST: Final = ("registry_sample",)
#: the flows streamed after the doses
LATER: Final = tuple(flow.table for flow in FLOWS if flow.table not in FIRST)


def stream_operations(
    warehouse: Warehouse,
    engine: Engine,
    key: tuple[int, int],
    rows: int = 200_000,
    tables: tuple[str, ...] | None = None,
) -> dict[str, int]:
    """Bring the operational tables (all, or the registry tables named in `tables`) up to
    the registry; rows loaded per warehouse table."""
    loaded: dict[str, int] = {}
    for flow in FLOWS:
        if tables is not None and flow.table not in tables:
            continue
        after = last_position(warehouse, flow.source)
        count = 0
        for table in registry_rows(engine, flow, after, rows):
            after = load_flow_batch(warehouse, flow, table, after, key)
            count += table.num_rows
        if count:
            log.info("stream %s: %d rows up to change_seq %d", flow.landing, count, after)
        loaded[flow.landing] = count
    return loaded
