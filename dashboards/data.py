"""What the dashboard pages read: the queries of :mod:`dashboards.queries`, memoized on the
data version with the portal's cache (:mod:`web.cache`: same backend, same keys on the
data version, same fallback when the warehouse is unreachable).

Windows are whole local days (``day`` + ``days``), so a cache entry serves every request
of that data version, whatever the clock says. The first argument of each is the province
scope, which is part of the cache key.

The stock figures and the site register are memoized on the versions of the ETL sources
that write their tables (:func:`memoize_tables`) instead of the whole data version: in live
mode doses commit every few seconds, stock tallies once a minute and the register seldom,
so a dose commit leaves them cached.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Final, TypeVar

import pandas as pd

from dashboards import queries
from vaxviet.services import current_services
from warehouse.client import Warehouse
from warehouse.sample import Sample
from warehouse.sample import sample as read_sample
from warehouse.sqlfiles import sql_beside
from web.cache import CACHE, DATA_SECONDS, is_stale, jittered, memoize_data

R = TypeVar("R")

#: the tables each ETL source writes (etl/stream.py, etl/operations.py; file drops write
#: doses and rejects); a source not named here counts as writing every table
SOURCE_TABLES: Final[dict[str, frozenset[str]]] = {
    "registry:doses": frozenset({"doses", "rejects"}),
    "registry:sites": frozenset({"sites"}),
    "registry:stock_movements": frozenset({"stock_movements"}),
    "registry:registrations": frozenset({"registrations"}),
    "registry:checkins": frozenset({"checkins"}),
    "registry:registry_sample": frozenset({"registry_sample"}),
}
FILE_TABLES: Final = frozenset({"doses", "rejects"})


def writes(source: str, tables: frozenset[str]) -> bool:
    """Whether commits of ETL `source` may change any of `tables`."""
    written = FILE_TABLES if source.startswith("file:") else SOURCE_TABLES.get(source)
    return written is None or bool(written & tables)


@memoize_data
def source_versions(warehouse: Warehouse) -> dict[str, str]:
    """Per ETL source: its latest commit (ms) and number of commits."""
    rows = warehouse.rows(sql_beside(queries.__file__, "source_versions.sql"))
    return {str(source): f"{int(last)}-{int(commits)}" for source, last, commits in rows}


def tables_version(tables: frozenset[str]) -> str:
    """A key that changes whenever a source that writes one of `tables` commits (and with
    the warehouse): the versions of those sources only."""
    services = current_services()
    warehouse = services.warehouse.describe() if services.warehouse else ""
    parts = [warehouse] + [
        f"{source}={version}"
        for source, version in sorted(source_versions().items())
        if writes(source, tables)
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def memoize_tables(*tables: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Memoize `function(warehouse, *args)` as ``f(*args)`` on the versions of the sources
    that write `tables` (:func:`tables_version`). A miss goes through
    :func:`web.cache.memoize_data` (same backend; the last value when the warehouse is
    down, which is then not stored under the new key)."""
    read = frozenset(tables)

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        fresh = memoize_data(function)
        name = function.__qualname__

        @functools.wraps(function)
        def cached(*arguments: Any) -> R:
            digest = hashlib.sha256(repr(arguments).encode()).hexdigest()[:16]
            key = f"tables:{tables_version(read)}:{name}:{digest}"
            boxed = CACHE.get(key)
            if boxed is not None:
                return boxed[0]
            value = fresh(*arguments)
            if not is_stale():
                CACHE.set(key, (value,), timeout=jittered(DATA_SECONDS))
            return value

        return cached

    return decorate


def _span(day: date, days: int) -> tuple[datetime, datetime]:
    stop = datetime.combine(day, time()) + timedelta(days=1)
    return stop - timedelta(days=days), stop


latest_hour = memoize_data(queries.latest_hour)
checkpoint_sources = memoize_data(queries.checkpoint_sources)


@memoize_tables("registry_sample")
def sample(warehouse: Warehouse) -> Sample:
    """The share of the country the data stands for (:func:`warehouse.sample.sample`)."""
    return read_sample(warehouse)


@memoize_tables("sites")
def sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return queries.sites(warehouse, province)


@memoize_data
def site_hours(warehouse: Warehouse, province: str, day: date, days: int = 1) -> pd.DataFrame:
    return queries.site_hours(warehouse, province, *_span(day, days))


@memoize_data
def doses_between(warehouse: Warehouse, province: str, start: datetime, stop: datetime) -> int:
    return queries.doses_between(warehouse, province, start, stop)


@memoize_data
def hour_totals(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.hour_totals(warehouse, province, *_span(day, days))


@memoize_data
def site_totals(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.site_totals(warehouse, province, *_span(day, days))


@memoize_data
def checkin_waits(warehouse: Warehouse, province: str, day: date) -> pd.DataFrame:
    return queries.checkin_waits(warehouse, province, *_span(day, 1))


@memoize_data
def funnel(warehouse: Warehouse, province: str, day: date) -> pd.DataFrame:
    return queries.funnel(warehouse, province, *_span(day, 1))


@memoize_data
def backlog(warehouse: Warehouse, province: str, now: datetime) -> pd.DataFrame:
    return queries.backlog(warehouse, province, now)


@memoize_tables("stock_movements")
def stock_on_hand(warehouse: Warehouse, province: str, day: date) -> pd.DataFrame:
    return queries.stock_on_hand(warehouse, province, _span(day, 1)[1])


@memoize_tables("stock_movements")
def stock_supply(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.stock_supply(warehouse, province, *_span(day, days))


@memoize_tables("stock_movements")
def stock_low_sites(
    warehouse: Warehouse, province: str, day: date, days: int, threshold: float
) -> pd.DataFrame:
    return queries.stock_low_sites(warehouse, province, *_span(day, days), days, threshold)


@memoize_tables("stock_movements")
def stock_outs(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.stock_outs(warehouse, province, day - timedelta(days=days - 1), days)


@memoize_tables("stock_movements")
def stock_wastage(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.stock_wastage(warehouse, province, *_span(day, days))


@memoize_tables("stock_movements")
def stock_site_products(
    warehouse: Warehouse, province: str, day: date, days: int
) -> tuple[int, int]:
    return queries.stock_site_products(warehouse, province, *_span(day, days))


@memoize_tables("stock_movements")
def unbalanced_transfers(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return queries.unbalanced_transfers(warehouse, province)


@memoize_tables("stock_movements")
def stock_administered(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.stock_administered(warehouse, province, *_span(day, days))


@memoize_data
def recorded_doses(warehouse: Warehouse, province: str, day: date, days: int) -> pd.DataFrame:
    return queries.recorded_doses(warehouse, province, *_span(day, days))


def administered_vs_doses(province: str, day: date, days: int) -> pd.DataFrame:
    """``day, province_code, vaccine_code, stock_administered, doses`` over the `days` days
    ending `day`: the stock ledger's administered doses (cached on the stock's version)
    beside the doses recorded (cached on the data version), 0 where one side has none."""
    keys = ["day", "province_code", "vaccine_code"]
    both = stock_administered(province, day, days).merge(
        recorded_doses(province, day, days), on=keys, how="outer"
    )
    for column in ("stock_administered", "doses"):
        both[column] = both[column].fillna(0).astype("int64")
    return both.sort_values(keys, ignore_index=True)


@memoize_data
def checkpoint_hours(warehouse: Warehouse, day: date, days: int) -> pd.DataFrame:
    return queries.checkpoint_hours(warehouse, *_span(day, days))


@memoize_data
def rejects_daily(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return queries.rejects_daily(warehouse, province)


@memoize_data
def reject_examples(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return queries.reject_examples(warehouse, province)


@memoize_data
def unknown_sites(warehouse: Warehouse, province: str) -> pd.DataFrame:
    return queries.unknown_sites(warehouse, province)


def reconciliation(day: date, days: int) -> dict[str, Any]:
    """:func:`etl.reconcile.compare` over the `days` days ending `day`, memoized on the data
    version: ``cells``, ``checkpoint``, ``rejected``, ``in_flight`` (counts) and
    ``differences`` (one row per differing province × day × vaccine cell)."""
    return _reconciliation(day, days)


@memoize_data
def _reconciliation(warehouse: Warehouse, day: date, days: int) -> dict[str, Any]:
    from dashboards.auth import registry_engine
    from etl.reconcile import compare

    found = compare(warehouse, registry_engine(), day - timedelta(days=days - 1), day)
    return {
        "cells": found.cells,
        "checkpoint": found.checkpoint,
        "rejected": len(found.rejected),
        "in_flight": len(found.in_flight),
        "differences": found.differences.copy(),
    }
