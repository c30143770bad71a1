"""What the dashboard pages read: :func:`read`, the one runner of the reads of
:data:`dashboards.reads.READS`, memoized with the portal's cache (:mod:`web.cache`: same
backend, same keys on the data version, same fallback when the warehouse is unreachable).
The province scope is a parameter of every read that has one, so it is part of the key.

The stock figures and the site register are memoized on the versions of the ETL sources
that write their tables (a read's ``tables``, :func:`memoize_tables`) instead of the whole
data version: in live mode doses commit every few seconds, stock tallies once a minute and
the register seldom, so a dose commit leaves them cached. Which source writes which table
comes from the ETL's own definitions (:data:`etl.stream.SOURCE`, :data:`etl.operations.FLOWS`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Final, TypeVar

import pandas as pd

from dashboards import reads
from dashboards.reads import READS, days_ending
from etl.files import FILE_SOURCE_PREFIX
from etl.operations import FLOWS
from etl.stream import SOURCE as DOSE_SOURCE
from vaxviet.services import current_services
from warehouse.client import Warehouse
from warehouse.sample import Sample
from warehouse.sample import sample as read_sample
from web.cache import CACHE, DATA_SECONDS, is_stale, jittered, memoize_data

R = TypeVar("R")

#: what the dose sources write: the doses and the rejects
DOSE_TABLES: Final = frozenset({"doses", "rejects"})
#: the tables each ETL source writes: the registry's dose stream, and each operational
#: flow its own table; a source not named here counts as writing every table
SOURCE_TABLES: Final[dict[str, frozenset[str]]] = {
    DOSE_SOURCE: DOSE_TABLES,
    **{flow.source: frozenset({flow.table}) for flow in FLOWS},
}


def writes(source: str, tables: frozenset[str]) -> bool:
    """Whether commits of ETL `source` may change any of `tables` (a file drop writes the
    doses and the rejects)."""
    written = DOSE_TABLES if source.startswith(FILE_SOURCE_PREFIX) else SOURCE_TABLES.get(source)
    return written is None or bool(written & tables)


@memoize_data
def _source_versions(warehouse: Warehouse) -> dict[str, str]:
    return reads.source_versions(warehouse)


def tables_version(tables: frozenset[str]) -> str:
    """A key that changes whenever a source that writes one of `tables` commits (and with
    the warehouse): the versions of those sources only."""
    services = current_services()
    warehouse = services.warehouse.describe() if services.warehouse else ""
    parts = [warehouse] + [
        f"{source}={version}"
        for source, version in sorted(_source_versions().items())
        if writes(source, tables)
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def on_tables(tables: frozenset[str], fresh: Callable[..., R], *arguments: Any) -> R:
    """``fresh(*arguments)`` (a :func:`web.cache.memoize_data` function) memoized on the
    versions of the sources that write `tables` (:func:`tables_version`). A miss goes
    through `fresh` (same backend; the last value when the warehouse is down, which is then
    not stored under the new key)."""
    digest = hashlib.sha256(repr(arguments).encode()).hexdigest()[:16]
    key = f"tables:{tables_version(tables)}:{fresh.__qualname__}:{digest}"
    boxed = CACHE.get(key)
    if boxed is not None:
        return boxed[0]
    value = fresh(*arguments)
    if not is_stale():
        CACHE.set(key, (value,), timeout=jittered(DATA_SECONDS))
    return value


def memoize_tables(*tables: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Memoize `function(warehouse, *args)` as ``f(*args)`` on the versions of the sources
    that write `tables` (:func:`on_tables`)."""
    written = frozenset(tables)

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        fresh = memoize_data(function)

        @functools.wraps(function)
        def cached(*arguments: Any) -> R:
            return on_tables(written, fresh, *arguments)

        return cached

    return decorate


@memoize_data
def _run(warehouse: Warehouse, name: str, parameters: tuple[tuple[str, Any], ...]) -> Any:
    return READS[name].run(warehouse, **dict(parameters))


def read(name: str, **parameters: Any) -> pd.DataFrame:
    """The read `name` of :data:`dashboards.reads.READS` for `parameters` (exactly the
    statement's, ``province`` first among them), memoized on the data version or, for a
    read with ``tables``, on the versions of the sources that write them. Parameters must
    have a stable ``repr`` (dates, strings, numbers)."""
    arguments = tuple(sorted(parameters.items()))
    tables = READS[name].tables
    frame: pd.DataFrame = (
        on_tables(tables, _run, name, arguments) if tables else _run(name, arguments)
    )
    return frame


latest_hour = memoize_data(reads.latest_hour)


@memoize_tables("registry_sample")
def sample(warehouse: Warehouse) -> Sample:
    """The share of the country the data stands for (:func:`warehouse.sample.sample`)."""
    return read_sample(warehouse)


def administered_vs_doses(province: str, day: date, days: int) -> pd.DataFrame:
    """``day, province_code, vaccine_code, stock_administered, doses`` over the `days` days
    ending `day`: the stock ledger's administered doses (cached on the stock's version)
    beside the doses recorded (cached on the data version), 0 where one side has none."""
    keys = ["day", "province_code", "vaccine_code"]
    window = days_ending(day, days)
    both = read("stock_administered", province=province, **window).merge(
        read("recorded_doses", province=province, **window), on=keys, how="outer"
    )
    for column in ("stock_administered", "doses"):
        both[column] = both[column].fillna(0).astype("int64")
    return both.sort_values(keys, ignore_index=True)


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
