"""The dashboards' reads from the warehouse: one ``.sql`` file in ``dashboards/sql/`` each.

Every function takes the warehouse and the ``province`` scope first: ``""`` means the whole
country, a GSO code limits the query to that province *inside the SQL* (the scope comes
from the logged-in user, see :func:`dashboards.auth.scope`). Times are naive local
(Asia/Ho_Chi_Minh) datetimes. Results are DataFrames with the columns of the function's
:class:`Query`; caching is the caller's business (:mod:`dashboards.data`).

A function's signature names its parameters; its :class:`Query` holds the file and the
shape of the result, and checks that the parameters passed are exactly the statement's
``{name:Type}`` placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Final

import pandas as pd

from dashboards import stock
from geo.calendar import TIME_ZONE
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

#: columns that hold codes and ids: text, also when every value looks like a number
TEXT_COLUMNS: Final = ("province_code", "site_id", "vaccine_code", "lot_number", "level", "kind")


@dataclass(frozen=True)
class Query:
    """One statement of ``dashboards/sql`` and the shape of its result.

    The result has exactly `columns`, in that order, also when empty: `counts` as int64
    (missing: 0), `floats` as float64, `times` (instants) as naive local time, `days`
    (dates) as midnight timestamps; a column the SQL names differently is `renamed` first.
    `opening`, when set, is a file that opens the statement with ``WITH`` and common table
    expressions shared with other queries; `file` continues that ``WITH`` list (its text
    follows the opening and a comma).
    """

    file: str
    columns: tuple[str, ...]
    counts: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    days: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)
    opening: str = ""

    @property
    def sql(self) -> str:
        own = sql_beside(__file__, self.file)
        return f"{sql_beside(__file__, self.opening)},\n{own}" if self.opening else own

    @property
    def parameters(self) -> frozenset[str]:
        """The statement's placeholders but ``db`` (the warehouse adds that one)."""
        return _placeholders(self.sql)

    def run(self, warehouse: Warehouse, **parameters: object) -> pd.DataFrame:
        """The result for `parameters`, which must name exactly :attr:`parameters`."""
        if set(parameters) != self.parameters:
            raise TypeError(
                f"{self.file} takes {sorted(self.parameters)}, was given {sorted(parameters)}"
            )
        return self.shaped(warehouse.frame(self.sql, parameters))

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


def latest_hour(warehouse: Warehouse) -> datetime | None:
    """The latest local hour with doses anywhere (None: no doses yet)."""
    hour = warehouse.scalar(sql_beside(__file__, "latest_hour.sql"))
    return datetime.fromisoformat(hour) if hour else None


SITE_HOURS: Final = Query(
    "site_hours.sql",
    ("hour", "province_code", "site_id", "doses"),
    counts=("doses",),
    times=("hour",),
)


def site_hours(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses per site and local hour in [start, stop)."""
    return SITE_HOURS.run(warehouse, province=province, start=start, stop=stop)


HOUR_TOTALS: Final = Query("hour_totals.sql", ("hour", "doses"), counts=("doses",), times=("hour",))


def hour_totals(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses per local hour in [start, stop)."""
    return HOUR_TOTALS.run(warehouse, province=province, start=start, stop=stop)


SITE_TOTALS: Final = Query(
    "site_totals.sql", ("province_code", "site_id", "doses"), counts=("doses",)
)


def site_totals(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses per site in [start, stop) (sites with doses)."""
    return SITE_TOTALS.run(warehouse, province=province, start=start, stop=stop)


DOSES_BETWEEN: Final = Query("doses_between.sql", ("doses",), counts=("doses",))


def doses_between(warehouse: Warehouse, province: str, start: datetime, stop: datetime) -> int:
    """Live doses administered in [start, stop)."""
    frame = DOSES_BETWEEN.run(warehouse, province=province, start=start, stop=stop)
    return int(frame["doses"].sum())


SITES: Final = Query(
    "sites.sql",
    ("site_id", "name", "province_code", "site_type", "daily_capacity",
     "opens_minute", "closes_minute"),
    counts=("daily_capacity", "opens_minute", "closes_minute"),
)  # fmt: skip


def sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    """The site register."""
    return SITES.run(warehouse, province=province)


CHECKIN_WAITS: Final = Query(
    "checkin_waits.sql",
    ("level", "province_code", "site_id", "checkins", "median_minutes", "p90_minutes"),
    counts=("checkins",),
    floats=("median_minutes", "p90_minutes"),
    opening="scope_and_given.sql",
)


def checkin_waits(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Minutes from check-in to dose for check-ins in [start, stop) followed by a dose, per
    ``level`` (site/province/all; site rows only within a province)."""
    return CHECKIN_WAITS.run(warehouse, province=province, start=start, stop=stop)


FUNNEL: Final = Query(
    "funnel.sql",
    ("level", "province_code", "site_id", "registered", "cancelled", "checked_in", "vaccinated"),
    counts=("registered", "cancelled", "checked_in", "vaccinated"),
    opening="scope_and_given.sql",
)


def funnel(warehouse: Warehouse, province: str, start: datetime, stop: datetime) -> pd.DataFrame:
    """The registrations funnel for appointments in [start, stop), per ``level``
    (site/province; site rows only within a province)."""
    return FUNNEL.run(warehouse, province=province, start=start, stop=stop)


BACKLOG: Final = Query(
    "backlog.sql",
    ("province_code", "upcoming", "next_7_days", "overdue", "daily_capacity"),
    counts=("upcoming", "next_7_days", "overdue", "daily_capacity"),
)


def backlog(warehouse: Warehouse, province: str, now: datetime) -> pd.DataFrame:
    """Booked appointments per province as of `now`."""
    return BACKLOG.run(warehouse, province=province, now=now)


STOCK_ON_HAND: Final = Query(
    "stock_on_hand.sql",
    ("level", "province_code", "site_id", "vaccine_code", "lot_number", "expiry_date", "quantity"),
    counts=("quantity",),
    days=("expiry_date",),
    renamed={"place": "site_id"},
)


def stock_on_hand(warehouse: Warehouse, province: str, stop: datetime) -> pd.DataFrame:
    """Stock on hand before `stop`; for the whole country the sites of a province in one
    row (``level`` site, ``site_id`` "")."""
    return STOCK_ON_HAND.run(warehouse, province=province, stop=stop)


STOCK_SUPPLY: Final = Query(
    "stock_supply.sql",
    ("level", "province_code", "site_id", "vaccine_code", "on_hand", "used_7d"),
    counts=("on_hand", "used_7d"),
    renamed={"place": "site_id"},
)


def stock_supply(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Stock on hand per place and product, and the consumption in [start, stop) of the
    sites each place serves."""
    return STOCK_SUPPLY.run(warehouse, province=province, start=start, stop=stop)


STOCK_LOW_SITES: Final = Query(
    "stock_low_sites.sql",
    ("province_code", "site_id", "vaccine_code", "on_hand", "used_7d"),
    counts=("on_hand", "used_7d"),
)


def stock_low_sites(
    warehouse: Warehouse,
    province: str,
    start: datetime,
    stop: datetime,
    days: int,
    threshold: float,
) -> pd.DataFrame:
    """Sites under `threshold` days of supply."""
    return STOCK_LOW_SITES.run(
        warehouse, province=province, start=start, stop=stop, days=days, threshold=threshold
    )


STOCK_OUTS: Final = Query(
    "stock_outs.sql",
    ("province_code", "site_id", "vaccine_code", "stock_out_days", "on_hand"),
    counts=("stock_out_days", "on_hand"),
)


def stock_outs(warehouse: Warehouse, province: str, first: date, days: int) -> pd.DataFrame:
    """Stock-out days per site and product in use over `days` days from `first` (sites with
    any; in use: moved in the `stock.IN_USE_DAYS` up to the window's end)."""
    return STOCK_OUTS.run(
        warehouse, province=province, first=first, days=days, in_use=stock.IN_USE_DAYS
    )


STOCK_WASTAGE: Final = Query(
    "stock_wastage.sql",
    ("province_code", "vaccine_code", "administered", "open_vial", "closed_vial"),
    counts=("administered", "open_vial", "closed_vial"),
)


def stock_wastage(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses administered and wasted per province and product in [start, stop)."""
    return STOCK_WASTAGE.run(warehouse, province=province, start=start, stop=stop)


STOCK_SITE_PRODUCTS: Final = Query(
    "stock_site_products.sql", ("active", "stock_outs"), counts=("active", "stock_outs")
)


def stock_site_products(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> tuple[int, int]:
    """(site × product pairs with a stock movement in [start, stop), how many of them hold
    no stock at `stop`)."""
    frame = STOCK_SITE_PRODUCTS.run(warehouse, province=province, start=start, stop=stop)
    return int(frame["active"].sum()), int(frame["stock_outs"].sum())


UNBALANCED_TRANSFERS: Final = Query(
    "unbalanced_transfers.sql",
    ("transfer_id", "vaccine_code", "lot_number", "difference", "sent", "received",
     "places", "first_moved_at"),
    counts=("transfer_id", "difference", "sent", "received"),
    times=("first_moved_at",),
)  # fmt: skip


def unbalanced_transfers(warehouse: Warehouse, province: str) -> pd.DataFrame:
    """Transfers whose two legs do not cancel (what left one store did not arrive)."""
    return UNBALANCED_TRANSFERS.run(warehouse, province=province)


STOCK_ADMINISTERED: Final = Query(
    "stock_administered.sql",
    ("day", "province_code", "vaccine_code", "stock_administered"),
    counts=("stock_administered",),
    days=("day",),
)


def stock_administered(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses administered per day, province and product in [start, stop) (stock ledger)."""
    return STOCK_ADMINISTERED.run(warehouse, province=province, start=start, stop=stop)


RECORDED_DOSES: Final = Query(
    "recorded_doses.sql",
    ("day", "province_code", "vaccine_code", "doses"),
    counts=("doses",),
    days=("day",),
)


def recorded_doses(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """Doses recorded per day, province and product in [start, stop) (coverage_daily)."""
    return RECORDED_DOSES.run(warehouse, province=province, start=start, stop=stop)


CHECKPOINT_SOURCES: Final = Query(
    "checkpoint_sources.sql",
    ("source", "last_committed_at", "last_position", "batches", "rows_read",
     "rows_loaded", "rows_rejected", "seconds"),
    counts=("last_position", "batches", "rows_read", "rows_loaded", "rows_rejected"),
    floats=("seconds",),
    times=("last_committed_at",),
)  # fmt: skip


def checkpoint_sources(warehouse: Warehouse) -> pd.DataFrame:
    """Per ETL source: its last checkpoint, batches, rows and seconds."""
    return CHECKPOINT_SOURCES.run(warehouse)


CHECKPOINT_HOURS: Final = Query(
    "checkpoint_hours.sql",
    ("hour", "batches", "rows_read", "rows_loaded", "rows_rejected", "seconds"),
    counts=("batches", "rows_read", "rows_loaded", "rows_rejected"),
    floats=("seconds",),
    times=("hour",),
)


def checkpoint_hours(warehouse: Warehouse, start: datetime, stop: datetime) -> pd.DataFrame:
    """ETL work per local hour in [start, stop)."""
    return CHECKPOINT_HOURS.run(warehouse, start=start, stop=stop)


REJECTS_DAILY: Final = Query(
    "rejects_daily.sql",
    ("day", "reason", "province_code", "rejects"),
    counts=("rejects",),
    days=("day",),
)


def rejects_daily(warehouse: Warehouse, province: str) -> pd.DataFrame:
    """Rejected input rows per day, reason and province."""
    return REJECTS_DAILY.run(warehouse, province=province)


REJECT_EXAMPLES: Final = Query(
    "reject_examples.sql",
    ("reason", "rejected_at", "source", "position", "dose_id", "province_code",
     "detail", "record"),
    times=("rejected_at",),
)  # fmt: skip


def reject_examples(warehouse: Warehouse, province: str, per_reason: int = 3) -> pd.DataFrame:
    """The `per_reason` most recent rejected rows of each reason."""
    return REJECT_EXAMPLES.run(warehouse, province=province, per_reason=per_reason)


UNKNOWN_SITES: Final = Query(
    "unknown_sites.sql",
    ("province_code", "site_id", "doses", "last_hour"),
    counts=("doses",),
    times=("last_hour",),
)


def unknown_sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    """Sites with doses that the site register does not hold."""
    return UNKNOWN_SITES.run(warehouse, province=province)
