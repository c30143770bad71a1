"""What the pages and the API read: the queries of :mod:`portal.queries`, memoized on the
data version (:mod:`web.cache`), and the metrics derived from them.

Every denominator uses the data's sample fraction (:func:`sample`, streamed from the registry
with the data, so it is keyed on the same data version as the figures it scales).

Call these inside a request (or app context) of a server built by
``vaxviet.server.create_server``; they raise :class:`web.cache.DataUnavailableError` when the
warehouse cannot be reached and nothing is cached.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from geo.calendar import TIME_ZONE
from portal import backlog, metrics, queries, supply
from portal.metrics import Denominator, Level
from warehouse.client import Warehouse
from warehouse.sample import Sample
from warehouse.sample import sample as read_sample
from web.cache import memoize_data, memoize_derived

province_daily = memoize_data(queries.province_daily)
correction_counts = memoize_data(queries.correction_counts)
supply_stock = memoize_data(queries.supply_stock)
supply_registrations = memoize_data(queries.supply_registrations)


@memoize_data
def _sample(warehouse: Warehouse) -> Sample:
    return read_sample(warehouse)


def sample() -> Sample:
    """The share of the country the data stands for (1.0, not simulated, for real data)."""
    return _sample()


def areas(level: Level) -> pd.DataFrame:
    """:func:`portal.metrics.areas` with populations × the data's sample fraction."""
    return metrics.areas(level, sample().fraction)


@memoize_data
def _vaccine_mix(warehouse: Warehouse, as_of: date, provinces: tuple[str, ...]) -> pd.DataFrame:
    return queries.vaccine_mix(warehouse, as_of, provinces)


@memoize_data
def _site_counts(warehouse: Warehouse, as_of: date, provinces: tuple[str, ...]) -> pd.DataFrame:
    return queries.site_counts(warehouse, as_of, provinces)


def vaccine_mix(as_of: date, provinces: tuple[str, ...] = ()) -> pd.DataFrame:
    return _vaccine_mix(as_of, tuple(sorted(provinces)))


def site_counts(as_of: date, provinces: tuple[str, ...] = ()) -> pd.DataFrame:
    return _site_counts(as_of, tuple(sorted(provinces)))


def span() -> tuple[date, date] | None:
    """First and last day with doses (None: no data yet)."""
    return metrics.data_span(province_daily())


def latest_day() -> date | None:
    days = span()
    return days[1] if days else None


@memoize_derived
def coverage(as_of: date, level: Level, denominator: Denominator) -> pd.DataFrame:
    """:func:`portal.metrics.coverage` of the doses given up to `as_of`."""
    return metrics.coverage(
        metrics.totals_as_of(province_daily(), as_of), level, denominator, sample().fraction
    )


@memoize_derived
def timeseries(
    level: Level, codes: tuple[str, ...], denominator: Denominator = "total"
) -> pd.DataFrame:
    """:func:`portal.metrics.timeseries` over the whole campaign for `codes` of `level`."""
    return metrics.timeseries(
        province_daily(), level, codes, denominator=denominator, fraction=sample().fraction
    )


def recent_doses(as_of: date) -> dict[str, float]:
    return metrics.recent_doses(province_daily(), as_of)


@memoize_derived
def corrections() -> pd.DataFrame:
    """The public backlog of correction requests, small counts withheld
    (:func:`portal.backlog.backlog`: the country and the 63 provinces over the whole span,
    then the country per month)."""
    provinces = tuple(metrics.areas("province")["area_code"])
    return backlog.backlog(correction_counts(), provinces)


@memoize_derived
def supply_table() -> pd.DataFrame:
    """Supply, registrations and doses per province and day (:func:`portal.supply.supply_table`:
    the 63 provinces over the days with any movement, registration or dose). Counts are the
    data's own (a sample's, not scaled up)."""
    provinces = tuple(metrics.areas("province")["area_code"])
    today = pd.Timestamp.now(tz=TIME_ZONE).tz_localize(None).normalize()
    return supply.supply_table(
        supply_stock(), supply_registrations(), province_daily(), provinces, today
    )


def supply_span() -> tuple[date, date] | None:
    """First and last day of :func:`supply_table` (None: no data yet)."""
    days = supply_table()["day"]
    if days.empty:
        return None
    return days.min().date(), days.max().date()
