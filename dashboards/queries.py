"""The dashboards' reads from the warehouse: one ``.sql`` file in ``dashboards/sql/`` each.

Every function takes the warehouse and the ``province`` scope first: ``""`` means the whole
country, a GSO code limits the query to that province *inside the SQL* (the scope comes
from the logged-in user, see :func:`dashboards.auth.scope`). Times are naive local
(Asia/Ho_Chi_Minh) datetimes. Results are DataFrames with the columns each documents;
caching is the caller's business (:mod:`dashboards.data`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

LOCAL_ZONE = "Asia/Ho_Chi_Minh"


def _frame(
    warehouse: Warehouse,
    name: str,
    parameters: dict[str, object],
    columns: Sequence[str],
    counts: Sequence[str] = (),
    times: Sequence[str] = (),
    days: Sequence[str] = (),
) -> pd.DataFrame:
    """The query's result with exactly `columns` (also when empty): `counts` as int64,
    `times` (instants) as naive local time, `days` (dates) as midnight timestamps."""
    return _typed(
        warehouse.frame(sql_beside(__file__, name), parameters), columns, counts, times, days
    )


def _typed(
    frame: pd.DataFrame,
    columns: Sequence[str],
    counts: Sequence[str] = (),
    times: Sequence[str] = (),
    days: Sequence[str] = (),
) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    for column in counts:
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    for column in times:
        frame[column] = local_naive(frame[column])
    for column in days:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    for column in columns:
        if (
            column not in (*counts, *times, *days)
            and frame[column].dtype.kind in "fO"
            and frame.empty
        ):
            frame[column] = frame[column].astype(object)
    for column in ("province_code", "site_id", "vaccine_code", "lot_number", "level", "kind"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)


def local_naive(values: pd.Series) -> pd.Series:
    """Instants as naive Asia/Ho_Chi_Minh wall-clock times. clickhouse-connect returns
    DateTime64 columns with their zone and DateTime columns as naive UTC."""
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert(LOCAL_ZONE).dt.tz_localize(None).astype("datetime64[s]")


def latest_hour(warehouse: Warehouse) -> datetime | None:
    """The latest local hour with doses anywhere (None: no doses yet)."""
    hour = warehouse.scalar(sql_beside(__file__, "latest_hour.sql"))
    return datetime.fromisoformat(hour) if hour else None


def _window(province: str, start: datetime, stop: datetime) -> dict[str, object]:
    return {"province": province, "start": start, "stop": stop}


def site_hours(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``hour, province_code, site_id, doses`` in [start, stop)."""
    return _frame(
        warehouse,
        "site_hours.sql",
        _window(province, start, stop),
        ("hour", "province_code", "site_id", "doses"),
        ("doses",),
        ("hour",),
    )


def hour_totals(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``hour, doses`` in [start, stop)."""
    return _frame(
        warehouse,
        "hour_totals.sql",
        _window(province, start, stop),
        ("hour", "doses"),
        ("doses",),
        ("hour",),
    )


def site_totals(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``province_code, site_id, doses`` in [start, stop) (sites with doses)."""
    return _frame(
        warehouse,
        "site_totals.sql",
        _window(province, start, stop),
        ("province_code", "site_id", "doses"),
        ("doses",),
    )


SITE_COLUMNS = (
    "site_id",
    "name",
    "province_code",
    "site_type",
    "daily_capacity",
    "opens_minute",
    "closes_minute",
)


def sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    """The site register: ``site_id, name, province_code, site_type, daily_capacity,
    opens_minute, closes_minute``."""
    return _frame(
        warehouse,
        "sites.sql",
        {"province": province},
        SITE_COLUMNS,
        ("daily_capacity", "opens_minute", "closes_minute"),
    )


def checkin_waits(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``level`` (site/province/all), ``province_code, site_id, checkins, median_minutes,
    p90_minutes`` for check-ins in [start, stop) followed by a dose (site rows only within
    a province)."""
    frame = _frame(
        warehouse,
        "checkin_waits.sql",
        _window(province, start, stop),
        ("level", "province_code", "site_id", "checkins", "median_minutes", "p90_minutes"),
        ("checkins",),
    )
    for column in ("median_minutes", "p90_minutes"):
        frame[column] = frame[column].astype("float64")
    return frame


def funnel(warehouse: Warehouse, province: str, start: datetime, stop: datetime) -> pd.DataFrame:
    """``level`` (site/province), ``province_code, site_id, registered, cancelled,
    checked_in, vaccinated`` for appointments in [start, stop) (site rows only within a
    province)."""
    return _frame(
        warehouse,
        "funnel.sql",
        _window(province, start, stop),
        (
            "level",
            "province_code",
            "site_id",
            "registered",
            "cancelled",
            "checked_in",
            "vaccinated",
        ),
        ("registered", "cancelled", "checked_in", "vaccinated"),
    )


def backlog(warehouse: Warehouse, province: str, now: datetime) -> pd.DataFrame:
    """``province_code, upcoming, next_7_days, overdue, daily_capacity`` of booked
    appointments."""
    return _frame(
        warehouse,
        "backlog.sql",
        {"province": province, "now": now},
        ("province_code", "upcoming", "next_7_days", "overdue", "daily_capacity"),
        ("upcoming", "next_7_days", "overdue", "daily_capacity"),
    )


HELD_COLUMNS = (
    "level",
    "province_code",
    "site_id",
    "vaccine_code",
    "lot_number",
    "expiry_date",
    "quantity",
)


def _place_as_site(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"place": "site_id"})


def stock_on_hand(warehouse: Warehouse, province: str, stop: datetime) -> pd.DataFrame:
    """Stock on hand before `stop` (:data:`HELD_COLUMNS`); for the whole country the sites
    of a province in one row (``level`` site, ``site_id`` "")."""
    frame = warehouse.frame(
        sql_beside(__file__, "stock_on_hand.sql"), {"province": province, "stop": stop}
    )
    return _typed(_place_as_site(frame), HELD_COLUMNS, ("quantity",), days=("expiry_date",))


def stock_supply(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``level, province_code, site_id, vaccine_code, on_hand, used_7d`` (the consumption of
    the sites each place serves in [start, stop))."""
    frame = warehouse.frame(
        sql_beside(__file__, "stock_supply.sql"), _window(province, start, stop)
    )
    return _typed(
        _place_as_site(frame),
        ("level", "province_code", "site_id", "vaccine_code", "on_hand", "used_7d"),
        ("on_hand", "used_7d"),
    )


def stock_low_sites(
    warehouse: Warehouse,
    province: str,
    start: datetime,
    stop: datetime,
    days: int,
    threshold: float,
) -> pd.DataFrame:
    """Sites under `threshold` days of supply: ``province_code, site_id, vaccine_code,
    on_hand, used_7d``."""
    return _frame(
        warehouse,
        "stock_low_sites.sql",
        {**_window(province, start, stop), "days": days, "threshold": threshold},
        ("province_code", "site_id", "vaccine_code", "on_hand", "used_7d"),
        ("on_hand", "used_7d"),
    )


def stock_outs(warehouse: Warehouse, province: str, first: date, days: int) -> pd.DataFrame:
    """``province_code, site_id, vaccine_code, stock_out_days, on_hand`` (sites with any)."""
    return _frame(
        warehouse,
        "stock_outs.sql",
        {"province": province, "first": first, "days": days},
        ("province_code", "site_id", "vaccine_code", "stock_out_days", "on_hand"),
        ("stock_out_days", "on_hand"),
    )


def stock_wastage(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``province_code, vaccine_code, administered, open_vial, closed_vial`` in [start, stop)."""
    return _frame(
        warehouse,
        "stock_wastage.sql",
        _window(province, start, stop),
        ("province_code", "vaccine_code", "administered", "open_vial", "closed_vial"),
        ("administered", "open_vial", "closed_vial"),
    )


def unbalanced_transfers(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return _frame(
        warehouse,
        "unbalanced_transfers.sql",
        {"province": province},
        (
            "transfer_id",
            "vaccine_code",
            "lot_number",
            "difference",
            "sent",
            "received",
            "places",
            "first_moved_at",
        ),
        ("transfer_id", "difference", "sent", "received"),
        ("first_moved_at",),
    )


def stock_administered(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``day, province_code, vaccine_code, stock_administered`` in [start, stop)."""
    return _frame(
        warehouse,
        "stock_administered.sql",
        _window(province, start, stop),
        ("day", "province_code", "vaccine_code", "stock_administered"),
        ("stock_administered",),
        days=("day",),
    )


def recorded_doses(
    warehouse: Warehouse, province: str, start: datetime, stop: datetime
) -> pd.DataFrame:
    """``day, province_code, vaccine_code, doses`` in [start, stop) (coverage_daily)."""
    return _frame(
        warehouse,
        "recorded_doses.sql",
        _window(province, start, stop),
        ("day", "province_code", "vaccine_code", "doses"),
        ("doses",),
        days=("day",),
    )


def checkpoint_sources(warehouse: Warehouse) -> pd.DataFrame:
    frame = _frame(
        warehouse,
        "checkpoint_sources.sql",
        {},
        (
            "source",
            "last_committed_at",
            "last_position",
            "batches",
            "rows_read",
            "rows_loaded",
            "rows_rejected",
            "seconds",
        ),
        ("last_position", "batches", "rows_read", "rows_loaded", "rows_rejected"),
        ("last_committed_at",),
    )
    frame["seconds"] = frame["seconds"].astype("float64")
    return frame


def checkpoint_hours(warehouse: Warehouse, start: datetime, stop: datetime) -> pd.DataFrame:
    frame = _frame(
        warehouse,
        "checkpoint_hours.sql",
        {"start": start, "stop": stop},
        ("hour", "batches", "rows_read", "rows_loaded", "rows_rejected", "seconds"),
        ("batches", "rows_read", "rows_loaded", "rows_rejected"),
        ("hour",),
    )
    frame["seconds"] = frame["seconds"].astype("float64")
    return frame


def rejects_daily(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return _frame(
        warehouse,
        "rejects_daily.sql",
        {"province": province},
        ("day", "reason", "province_code", "rejects"),
        ("rejects",),
        days=("day",),
    )


def reject_examples(warehouse: Warehouse, province: str, per_reason: int = 3) -> pd.DataFrame:
    return _frame(
        warehouse,
        "reject_examples.sql",
        {"province": province, "per_reason": per_reason},
        (
            "reason",
            "rejected_at",
            "source",
            "position",
            "dose_id",
            "province_code",
            "detail",
            "record",
        ),
        (),
        ("rejected_at",),
    )


def unknown_sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return _frame(
        warehouse,
        "unknown_sites.sql",
        {"province": province},
        ("province_code", "site_id", "doses", "last_hour"),
        ("doses",),
        ("last_hour",),
    )
