"""The dashboards' reads from the warehouse: one table, :data:`READS`, of one entry per
``.sql`` file in ``dashboards/sql/``, named by the file.

An entry holds the shape of the statement's result and how its value is cached (on the
data version, or on the versions of the ETL sources that write `tables`); the statement's
``{name:Type}`` placeholders are its parameters, and a run must pass exactly those (the
``province`` scope included: ``""`` means the whole country, a GSO code limits the query to
that province *inside the SQL*; the scope comes from the logged-in user, see
:func:`dashboards.auth.scope`). Times are naive local (Asia/Ho_Chi_Minh) datetimes.
Pages run an entry through :func:`dashboards.data.read` (memoized); tests run it on a
warehouse with :meth:`Read.run`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Final

import pandas as pd

from dashboards import stock
from geo.calendar import TIME_ZONE
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

#: columns that hold codes and ids: text, also when every value looks like a number
TEXT_COLUMNS: Final = ("province_code", "site_id", "vaccine_code", "lot_number", "level", "kind")
#: the read's cache key: the data version (every commit)
ANY_TABLE: Final = frozenset[str]()
#: the stock figures: cached on the stock source's version (a dose commit leaves them)
STOCK: Final = frozenset({"stock_movements"})


@dataclass(frozen=True)
class Read:
    """One statement of ``dashboards/sql`` (``<name>.sql``) and the shape of its result.

    The result has exactly `columns`, in that order, also when empty: `counts` as int64
    (missing: 0), `floats` as float64, `times` (instants) as naive local time, `days`
    (dates) as midnight timestamps; a column the SQL names differently is `renamed` first.
    `opening`, when set, is a file that opens the statement with ``WITH`` and common table
    expressions shared with other reads; the file continues that ``WITH`` list (its text
    follows the opening and a comma). `fixed` parameters are always passed (the caller
    names the others). `tables`: the warehouse tables whose sources' versions key the
    cached value (:func:`dashboards.data.read`); none: the data version.
    """

    name: str
    columns: tuple[str, ...]
    counts: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    days: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)
    opening: str = ""
    fixed: Mapping[str, object] = field(default_factory=dict)
    tables: frozenset[str] = ANY_TABLE

    @property
    def file(self) -> str:
        return f"{self.name}.sql"

    @property
    def sql(self) -> str:
        own = sql_beside(__file__, self.file)
        return f"{sql_beside(__file__, self.opening)},\n{own}" if self.opening else own

    @property
    def parameters(self) -> frozenset[str]:
        """The statement's placeholders but ``db`` (the warehouse adds that one)."""
        return _placeholders(self.sql)

    def run(self, warehouse: Warehouse, **parameters: object) -> pd.DataFrame:
        """The result for `parameters` and the `fixed` ones, which together must name
        exactly :attr:`parameters`."""
        given = {**self.fixed, **parameters}
        if set(given) != self.parameters:
            raise TypeError(
                f"{self.file} takes {sorted(self.parameters)}, was given {sorted(given)}"
            )
        return self.shaped(warehouse.frame(self.sql, given))

    def shaped(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (as the SQL returns it) in the shape of the result."""
        frame = frame.rename(columns=dict(self.renamed)).reindex(columns=list(self.columns))
        for column in self.counts:
            frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
        for column in self.floats:
            frame[column] = frame[column].astype("float64")
        for column in self.times:
            frame[column] = local_naive(frame[column])
        for column in self.days:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
        converted = (*self.counts, *self.floats, *self.times, *self.days)
        for column in self.columns:
            if column not in converted and frame[column].dtype.kind in "fO" and frame.empty:
                frame[column] = frame[column].astype(object)
        for column in TEXT_COLUMNS:
            if column in frame:
                frame[column] = frame[column].astype(str)
        return frame.reset_index(drop=True)


@cache
def _placeholders(sql: str) -> frozenset[str]:
    return frozenset(re.findall(r"\{(\w+):", sql)) - {"db"}


def local_naive(values: pd.Series) -> pd.Series:
    """Instants as naive Asia/Ho_Chi_Minh wall-clock times. clickhouse-connect returns
    DateTime64 columns with their zone and DateTime columns as naive UTC."""
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert(TIME_ZONE).dt.tz_localize(None).astype("datetime64[s]")


def day_end(day: date) -> datetime:
    """The local midnight that ends `day`."""
    return datetime.combine(day, time()) + timedelta(days=1)


def days_ending(day: date, days: int = 1) -> dict[str, datetime]:
    """``start`` and ``stop`` of the `days` whole local days ending with `day`: windows are
    whole days, so a cached read serves every request of its version whatever the clock."""
    stop = day_end(day)
    return {"start": stop - timedelta(days=days), "stop": stop}


def latest_hour(warehouse: Warehouse) -> datetime | None:
    """The latest local hour with doses anywhere (None: no doses yet)."""
    hour = warehouse.scalar(sql_beside(__file__, "latest_hour.sql"))
    return datetime.fromisoformat(hour) if hour else None


def source_versions(warehouse: Warehouse) -> dict[str, str]:
    """Per ETL source: its latest commit (ms) and number of commits."""
    rows = warehouse.rows(sql_beside(__file__, "source_versions.sql"))
    return {str(source): f"{int(last)}-{int(commits)}" for source, last, commits in rows}


CHECKPOINTS: Final = ("batches", "rows_read", "rows_loaded", "rows_rejected")

READS: Final[dict[str, Read]] = {
    read.name: read
    for read in (
        # doses per site and local hour in [start, stop)
        Read("site_hours", ("hour", "province_code", "site_id", "doses"),
             counts=("doses",), times=("hour",)),
        # doses per local hour in [start, stop)
        Read("hour_totals", ("hour", "doses"), counts=("doses",), times=("hour",)),
        # doses per site in [start, stop) (sites with doses)
        Read("site_totals", ("province_code", "site_id", "doses"), counts=("doses",)),
        # live doses administered in [start, stop): one row
        Read("doses_between", ("doses",), counts=("doses",)),
        # the site register
        Read("sites", ("site_id", "name", "province_code", "site_type", "daily_capacity",
                       "opens_minute", "closes_minute"),
             counts=("daily_capacity", "opens_minute", "closes_minute"), tables=frozenset({"sites"})),
        # minutes from check-in to dose, per level (site/province/all)
        Read("checkin_waits", ("level", "province_code", "site_id", "checkins", "median_minutes",
                               "p90_minutes"),
             counts=("checkins",), floats=("median_minutes", "p90_minutes"),
             opening="scope_and_given.sql"),
        # the registrations funnel for appointments in [start, stop), per level
        Read("funnel", ("level", "province_code", "site_id", "registered", "cancelled",
                        "checked_in", "vaccinated"),
             counts=("registered", "cancelled", "checked_in", "vaccinated"),
             opening="scope_and_given.sql"),
        # booked appointments per province as of `now`
        Read("backlog", ("province_code", "upcoming", "next_7_days", "overdue", "daily_capacity"),
             counts=("upcoming", "next_7_days", "overdue", "daily_capacity")),
        # stock on hand before `stop` (for the whole country a province's sites in one row)
        Read("stock_on_hand", ("level", "province_code", "site_id", "vaccine_code", "lot_number",
                               "expiry_date", "quantity"),
             counts=("quantity",), days=("expiry_date",), renamed={"place": "site_id"},
             tables=STOCK),
        # stock on hand per place and product, and what the sites it serves used
        Read("stock_supply", ("level", "province_code", "site_id", "vaccine_code", "on_hand",
                              "used_7d"),
             counts=("on_hand", "used_7d"), renamed={"place": "site_id"}, tables=STOCK),
        # sites under `threshold` days of supply
        Read("stock_low_sites", ("province_code", "site_id", "vaccine_code", "on_hand", "used_7d"),
             counts=("on_hand", "used_7d"), tables=STOCK),
        # stock-out days per site and product in use over `days` days from `first`
        Read("stock_outs", ("province_code", "site_id", "vaccine_code", "stock_out_days",
                            "on_hand"),
             counts=("stock_out_days", "on_hand"), fixed={"in_use": stock.IN_USE_DAYS},
             tables=STOCK),
        # doses administered and wasted per province and product in [start, stop)
        Read("stock_wastage", ("province_code", "vaccine_code", "administered", "open_vial",
                               "closed_vial"),
             counts=("administered", "open_vial", "closed_vial"), tables=STOCK),
        # site × product pairs moved in [start, stop), and those holding nothing: one row
        Read("stock_site_products", ("active", "stock_outs"), counts=("active", "stock_outs"),
             tables=STOCK),
        # transfers whose two legs do not cancel
        Read("unbalanced_transfers", ("transfer_id", "vaccine_code", "lot_number", "difference",
                                      "sent", "received", "places", "first_moved_at"),
             counts=("transfer_id", "difference", "sent", "received"), times=("first_moved_at",),
             tables=STOCK),
        # doses administered per day, province and product (the stock ledger)
        Read("stock_administered", ("day", "province_code", "vaccine_code", "stock_administered"),
             counts=("stock_administered",), days=("day",), tables=STOCK),
        # doses recorded per day, province and product (coverage_daily)
        Read("recorded_doses", ("day", "province_code", "vaccine_code", "doses"),
             counts=("doses",), days=("day",)),
        # per ETL source: its last checkpoint, batches, rows and seconds
        Read("checkpoint_sources", ("source", "last_committed_at", "last_position", *CHECKPOINTS,
                                    "seconds"),
             counts=("last_position", *CHECKPOINTS), floats=("seconds",),
             times=("last_committed_at",)),
        # ETL work per local hour in [start, stop)
        Read("checkpoint_hours", ("hour", *CHECKPOINTS, "seconds"),
             counts=CHECKPOINTS, floats=("seconds",), times=("hour",)),
        # rejected input rows per day, reason and province
        Read("rejects_daily", ("day", "reason", "province_code", "rejects"),
             counts=("rejects",), days=("day",)),
        # the most recent rejected rows of each reason
        Read("reject_examples", ("reason", "rejected_at", "source", "position", "dose_id",
                                 "province_code", "detail", "record"),
             times=("rejected_at",), fixed={"per_reason": 3}),
        # sites with doses that the site register does not hold
        Read("unknown_sites", ("province_code", "site_id", "doses", "last_hour"),
             counts=("doses",), times=("last_hour",)),
    )
}  # fmt: skip
