"""The portal's reads from the warehouse: a few small queries, each a ``.sql`` file in
``portal/sql/``. Everything else (as-of totals, roll-ups, time series) is derived from
their results by the pure functions in :mod:`portal.metrics`.

Every function takes the :class:`~warehouse.client.Warehouse` it reads and returns a
DataFrame with the columns it documents; caching is the caller's business
(:mod:`web.cache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import pandas as pd

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

#: Columns of :func:`province_daily`.
DAILY_COLUMNS = ("day", "province_code", "dose1", "dose2", "boosters", "full", "doses")
COUNT_COLUMNS = ("dose1", "dose2", "boosters", "full", "doses")

#: A product missing from the vaccine table completes its primary series at this dose.
DEFAULT_SERIES_DOSES = 2


@lru_cache(maxsize=1)
def _series_lengths() -> tuple[tuple[str, ...], tuple[int, ...]]:
    from geo.products import campaign_products as vaccines  # the one table of products

    table = vaccines()
    return tuple(table["code"]), tuple(int(n) for n in table["primary_doses"])


def series_lengths() -> dict[str, int]:
    """Doses in each product's primary series (e.g. 1 for Janssen ``EU/1/20/1525``, 3 for
    Abdala), from ``geo/products.csv``."""
    codes, doses = _series_lengths()
    return dict(zip(codes, doses, strict=True))


def province_daily(warehouse: Warehouse) -> pd.DataFrame:
    """Doses per (day, province_code): ``dose1`` (people's first doses), ``dose2``,
    ``boosters`` (doses beyond their product's primary series), ``full`` (doses completing
    it), ``doses`` (all). Both judge a dose by its own product and number
    (:func:`series_lengths`). ``day`` is ``datetime64``; rows whose doses net to zero are
    left out."""
    codes, lengths = _series_lengths()
    frame = warehouse.frame(
        sql_beside(__file__, "province_daily.sql"),
        {"series_codes": list(codes), "series_doses": list(lengths)},
    )
    return _typed(frame, DAILY_COLUMNS, COUNT_COLUMNS)


def province_daily_known(warehouse: Warehouse, known_on: date) -> pd.DataFrame:
    """:func:`province_daily` as the platform knew it on the local day `known_on`: the same
    columns and rows, counting only the doses whose *current* state is valid and was recorded
    (``recorded_at``: for the ETL's loads, when the warehouse loaded it) on or before
    `known_on` (``coverage_known``, docs/warehouse.md). A dose recorded late
    counts for its day of administration from the day it was recorded; a dose corrected
    after `known_on` is missing (its state current on `known_on` is superseded: that part is
    not in the warehouse), a voided one is missing for every day. So every figure
    :mod:`portal.metrics` derives from :func:`province_daily` can be derived "as known on
    `known_on`" from this frame; on or after the latest recording it equals
    :func:`province_daily`."""
    codes, lengths = _series_lengths()
    frame = warehouse.frame(
        sql_beside(__file__, "province_daily_known.sql"),
        {"known_on": known_on, "series_codes": list(codes), "series_doses": list(lengths)},
    )
    return _typed(frame, DAILY_COLUMNS, COUNT_COLUMNS)


def vaccine_mix(warehouse: Warehouse, as_of: date, provinces: Sequence[str] = ()) -> pd.DataFrame:
    """Doses given up to `as_of` per ``province_code``, ``vaccine_code`` and
    ``dose_number`` (all provinces when `provinces` is empty)."""
    frame = warehouse.frame(
        sql_beside(__file__, "vaccine_mix.sql"), {"as_of": as_of, "provinces": list(provinces)}
    )
    frame = _typed(frame, ("province_code", "vaccine_code", "dose_number", "doses"), ("doses",))
    frame["dose_number"] = frame["dose_number"].astype("int64")
    return frame


def site_counts(warehouse: Warehouse, as_of: date, provinces: Sequence[str] = ()) -> pd.DataFrame:
    """Sites with at least one valid dose up to `as_of`, per ``province_code`` (``sites``)."""
    frame = warehouse.frame(
        sql_beside(__file__, "site_counts.sql"), {"as_of": as_of, "provinces": list(provinces)}
    )
    return _typed(frame, ("province_code", "sites"), ("sites",))


#: Columns of :func:`correction_counts`.
CORRECTION_COLUMNS = ("area_code", "period", "received", "approved", "rejected", "median_days")


def correction_counts(warehouse: Warehouse) -> pd.DataFrame:
    """Citizens' correction requests per ``area_code`` (provinces and ``VN``) and ``period``
    (``datetime64``: 1970-01-01 for the whole span, a month's first day for the country's
    months): ``received``, ``approved``, ``rejected`` in the period and ``median_days`` to
    resolution of those resolved in it (NaN when none). :mod:`portal.backlog` publishes it."""
    frame = warehouse.frame(sql_beside(__file__, "corrections.sql"))
    frame = _typed(frame, CORRECTION_COLUMNS, ("received", "approved", "rejected"))
    frame["area_code"] = frame["area_code"].astype(str)
    frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[s]")
    frame["median_days"] = frame["median_days"].astype("float64")
    return frame


#: Columns of :func:`supply_stock` and :func:`supply_registrations`.
SUPPLY_STOCK_COLUMNS = ("day", "province_code", "delivered", "net")
SUPPLY_REGISTRATION_COLUMNS = ("day", "province_code", "added", "removed")


def supply_stock(warehouse: Warehouse) -> pd.DataFrame:
    """Stock per (day, province_code) of the province's store and sites, every product:
    ``delivered`` (doses received from outside the province: national -> province or site
    transfers, transfers from another province, direct deliveries) and ``net`` (the day's
    change of the stock they hold). :mod:`portal.supply` derives on hand from it."""
    frame = warehouse.frame(sql_beside(__file__, "supply_stock.sql"))
    return _typed(frame, SUPPLY_STOCK_COLUMNS, ("delivered", "net"))


def supply_registrations(warehouse: Warehouse) -> pd.DataFrame:
    """App registrations not cancelled, per (day, province_code) of their site: ``added``
    (registered that day) and ``removed`` (their slot was the day before).
    :mod:`portal.supply` derives the pending registrations from it."""
    frame = warehouse.frame(sql_beside(__file__, "supply_registrations.sql"))
    return _typed(frame, SUPPLY_REGISTRATION_COLUMNS, ("added", "removed"))


def _typed(frame: pd.DataFrame, columns: Sequence[str], counts: Sequence[str]) -> pd.DataFrame:
    """`frame` with exactly `columns` (also when empty), counts as int64, codes as str."""
    frame = frame.reindex(columns=list(columns))
    for column in counts:
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ("province_code", "vaccine_code"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    if "day" in frame:
        frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[s]")
    return frame.reset_index(drop=True)
