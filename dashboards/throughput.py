"""Site throughput indicators, as pure functions of the site register and dose counts.

Inputs are reads of :data:`dashboards.reads.READS`: the register (``sites``: opening minutes in
local time, daily capacity), doses per site and hour (``site_hours``), per site over the last days
(``site_totals``). "Now" is :func:`reference_time`: the wall clock while doses are arriving,
else the end of the last hour with doses (a stopped or historical campaign is shown as it
was when it last reported, and the page says so).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

import numpy as np
import pandas as pd

#: a campaign whose last dose is older than this is shown as of that dose, not of the clock
LIVE_WITHIN: Final = timedelta(days=1)
#: a site giving fewer doses a day than this share of its capacity is under capacity
UNDER_CAPACITY: Final = 0.5
CAPACITY_DAYS: Final = 7
RANKED: Final = 10


def reference_time(latest_hour: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """("now" for the dashboards, whether that is the live clock)."""
    if latest_hour is None or latest_hour >= now - LIVE_WITHIN:
        return now, True
    return latest_hour + timedelta(minutes=59), False


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def site_activity(
    sites: pd.DataFrame, hours: pd.DataFrame, moment: datetime, silent_hours: int
) -> pd.DataFrame:
    """One row per registered site for the day of `moment`, up to `moment`: ``site_id, name,
    province_code, site_type, daily_capacity, open_now, doses_today, last_hour, active_now,
    silent_minutes, silent``.

    * open now: the moment falls within its opening hours;
    * active now: it reported doses in the current or the previous hour;
    * silent: open now, and no dose for `silent_hours` since the later of its opening time
      and its last dose (``silent_minutes`` counts the gap; 0 when not open).
    """
    day_start = datetime.combine(moment.date(), datetime.min.time())
    today = hours[(hours["hour"] >= day_start) & (hours["hour"] <= moment)]
    per_site = today.groupby("site_id").agg(doses_today=("doses", "sum"), last_hour=("hour", "max"))
    frame = sites.join(per_site, on="site_id")
    frame["doses_today"] = frame["doses_today"].fillna(0).astype("int64")
    minute = _minute(moment)
    frame["open_now"] = (frame["opens_minute"] <= minute) & (minute < frame["closes_minute"])
    hour_start = moment.replace(minute=0, second=0, microsecond=0)
    frame["active_now"] = frame["last_hour"] >= hour_start - timedelta(hours=1)
    opened = pd.to_datetime(day_start) + pd.to_timedelta(frame["opens_minute"], unit="min")
    since_dose = frame["last_hour"] + pd.Timedelta(hours=1)
    since = np.maximum(opened.to_numpy(), since_dose.fillna(opened).to_numpy())
    gap = (pd.Timestamp(moment) - pd.to_datetime(since)) / pd.Timedelta(minutes=1)
    frame["silent_minutes"] = np.where(frame["open_now"], np.maximum(gap, 0), 0).astype("int64")
    frame["silent"] = frame["open_now"] & (frame["silent_minutes"] >= silent_hours * 60)
    return frame.reset_index(drop=True)


def province_activity(activity: pd.DataFrame) -> pd.DataFrame:
    """Per province: ``province_code, sites, open_now, active_now, silent, doses_today``."""
    return (
        activity.groupby("province_code", as_index=False)
        .agg(
            sites=("site_id", "count"),
            open_now=("open_now", "sum"),
            active_now=("active_now", "sum"),
            silent=("silent", "sum"),
            doses_today=("doses_today", "sum"),
        )
        .sort_values("province_code")
        .reset_index(drop=True)
    )


def capacity_use(sites: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Average doses a day over the `CAPACITY_DAYS` days of `totals` (``site_id, doses``:
    each site's doses in those days) against each site's daily capacity: ``site_id, name,
    province_code, daily_capacity, doses, per_day, use`` (use 0–1+, NaN without a
    capacity)."""
    doses = totals.groupby("site_id")["doses"].sum()
    frame = sites[["site_id", "name", "province_code", "daily_capacity"]].copy()
    frame["doses"] = doses.reindex(frame["site_id"]).fillna(0).astype("int64").to_numpy()
    frame["per_day"] = frame["doses"] / CAPACITY_DAYS
    capacity = frame["daily_capacity"].where(frame["daily_capacity"] > 0)
    frame["use"] = frame["per_day"] / capacity
    return frame.reset_index(drop=True)


def under_capacity(use: pd.DataFrame, share: float = UNDER_CAPACITY) -> pd.DataFrame:
    return use[use["use"] < share].sort_values(["use", "site_id"]).reset_index(drop=True)


def ranked(
    activity: pd.DataFrame, moment: datetime, count: int = RANKED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(top, bottom) `count` sites by doses today; the bottom only among sites whose
    opening time has passed by `moment` (a site that has not opened is not behind)."""
    columns = ["site_id", "name", "province_code", "doses_today", "daily_capacity"]
    top = activity.sort_values(["doses_today", "site_id"], ascending=[False, True]).head(count)
    opened = activity[activity["opens_minute"] <= _minute(moment)]
    bottom = opened.sort_values(["doses_today", "site_id"]).head(count)
    return top[columns].reset_index(drop=True), bottom[columns].reset_index(drop=True)


def heatmap(totals: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Doses as a day × hour-of-day grid (rows: every day `first` … `last`; columns 0–23)."""
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    frame = totals.assign(day=totals["hour"].dt.normalize(), hour_of_day=totals["hour"].dt.hour)
    grid = frame.pivot_table(
        index="day", columns="hour_of_day", values="doses", aggfunc="sum", fill_value=0
    )
    return grid.reindex(index=days, columns=range(24), fill_value=0).astype("int64")


def funnel_rates(funnel: pd.DataFrame) -> pd.DataFrame:
    """Funnel rows with ``checked_in_share`` and ``vaccinated_share`` of the registered."""
    registered = funnel["registered"].astype("float64").where(funnel["registered"] > 0)
    return funnel.assign(
        checked_in_share=funnel["checked_in"] / registered,
        vaccinated_share=funnel["vaccinated"] / registered,
    )


def backlog_days(backlog: pd.DataFrame) -> pd.DataFrame:
    """Backlog rows with ``days_of_backlog``: upcoming bookings ÷ the province's daily capacity."""
    capacity = backlog["daily_capacity"].astype("float64").where(backlog["daily_capacity"] > 0)
    return backlog.assign(days_of_backlog=backlog["upcoming"] / capacity)
