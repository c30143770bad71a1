"""Vaccine stock at the national store, the province stores and the sites, day by day.

The seed (`registry.simulator`) and the live feed (`registry.live`) both keep their stock
ledger (``stock_movements``) with this model, so what the officials' stock page shows
(`dashboards.stock`: days of supply, wastage, stock-outs, expiring lots) comes from rules
a cold-chain officer would recognise:

* **Lots.** Each product's lots are received by the national store, named after the
  product and the day of receipt (``PFIZ-210816``), with the shelf life left on arrival of
  `SHELF_LIFE_DAYS` (an approximation: months for the mRNA and viral-vector products,
  a year for the inactivated ones). A lot expires at the start of its expiry date, at
  whichever place still holds some of it (an ``expired`` movement, closed-vial wastage);
  nothing is moved or used on or after that day.
* **Deliveries ahead of use.** Every `DELIVERY_EVERY_DAYS` days (from `DELIVERY_ANCHOR`)
  the national store receives, before dawn, enough to hold `NATIONAL_COVER_DAYS` days of
  use beyond that morning's orders, use being the larger of the last 7 days' consumption
  and a forecast when one is given (the seed's is the campaign plan: the national daily
  targets × the product mix). When the store cannot fill the provinces' orders between
  deliveries, an unscheduled delivery brings it to the orders plus `NATIONAL_SAFETY_DAYS`
  days of use: so stock always arrives, even for a live day years after the campaign,
  when every earlier lot has expired.
* **Restocking by a rule (min/max in days of supply),** each morning before sessions, in
  whole vials, first expiry first out (FEFO) at every level. A site that used a product in
  the last `IN_USE_DAYS` days (or has sessions booked today) is topped up to
  `SITE_MAX_DAYS` days of its last 7 days' average consumption (administered + wasted)
  when the morning's stock, less the day's booked need, would fall below `SITE_MIN_DAYS`
  days; at least `SITE_FLOOR_VIALS` vials, and always enough for the day's sessions. A
  province store orders from the national store the same way over its sites
  (`PROVINCE_MIN_DAYS` / `PROVINCE_MAX_DAYS`), plus what its sites ordered. Times: the
  national receipt at 05:00, national → province at 05:30, province → site at 06:00 (sites
  open at 06:30 at the earliest).
* **Use.** A site gives its day's doses from its oldest-expiry lots and records them daily
  per product and lot (``administered``), at its closing time. A stock-out is the event of
  a site ending a day with nothing left: its day's sessions needed more than its maximum
  level (a new product there, a surge), the restock covered exactly the day.
* **Open-vial loss** (``wasted``, `open_vial_loss`): a session of ``n`` doses of a product
  with ``v`` doses a vial opens ``ceil(n / v)`` vials and discards what the last one has
  left at the session's end (COVID-19 vaccines' opened vials are not kept to the next
  day): none for single-dose vials, at most ``v − 1`` a session, so the loss grows with
  the vial size and its share falls as sessions grow. A site's day of one product is one
  session.
* **Idle stock** stays where it is: a site that stops using a product keeps what it holds
  until it is used again or expires.

`StockState` is the model; its state (stock per place, product and lot, each site's
recent consumption, open vials) is rebuilt from existing movements by
`StockState.from_movements`, so the live feed carries on from a seeded registry.
`StockState.run_days` plays whole days (the seed); `StockState.advance` plays an interval of
doses at their own times (the live feed; it restocks a site during the day when its
sessions need more than it holds, and closes the day's sessions at each site's closing
time). Both return the movement rows (``transfer_id`` numbered from 0 in each answer:
`number_rows` adds the caller's serials) and the doses given per site, product and lot,
which `assign_lots` turns into each dose's lot number. `LiveStock` wraps it for the live
feed's database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import text

from geo.calendar import CAMPAIGN_START, TIME_ZONE
from registry import calibration

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: Expected doses a day per product code from a day on (a plan), or None.
Forecast = Callable[[date], Mapping[str, float]]

#: Shelf life left when a lot reaches the national store, in days (approximate: COVID-19
#: vaccines often arrived, donated ones especially, with a few months left).
SHELF_LIFE_DAYS: dict[str, int] = {
    "EU/1/21/1529": 120,  # AstraZeneca (Vaxzevria): 6 months at 2-8 °C
    "EU/1/20/1528": 180,  # Pfizer-BioNTech (Comirnaty): 9-12 months ultra-cold
    "EU/1/20/1507": 180,  # Moderna (Spikevax): 7-9 months frozen
    "Sputnik-V": 120,  # 6 months frozen
    "Abdala": 180,
    "EU/1/20/1525": 180,  # Janssen (Jcovden)
    "BBIBP-CorV": 365,  # Sinopharm: 24 months at 2-8 °C
    "Hayat-Vax": 365,  # the same product, filled in the UAE
}
DEFAULT_SHELF_LIFE_DAYS = 180
#: Scheduled national deliveries: every this many days from the anchor (a Monday, the
#: campaign's first day).
DELIVERY_EVERY_DAYS = 14
DELIVERY_ANCHOR = CAMPAIGN_START
NATIONAL_COVER_DAYS = 28
NATIONAL_SAFETY_DAYS = 7
PROVINCE_MIN_DAYS, PROVINCE_MAX_DAYS = 7, 21
SITE_MIN_DAYS, SITE_MAX_DAYS = 7, 14
#: A site in use keeps at least the first and tops up to at least the second (vials).
SITE_FLOOR_VIALS = (1, 2)
#: A site uses a product while it gave some in this many days (or has doses booked today).
IN_USE_DAYS = 28
#: Days of consumption averaged for "daily use" (as the dashboards' days of supply).
SUPPLY_WINDOW_DAYS = 7
#: Local minutes of the morning movements.
RECEIVE_MINUTE, PROVINCE_MINUTE, SITE_MINUTE = 5 * 60, 5 * 60 + 30, 6 * 60
DEFAULT_CLOSES_MINUTE = 17 * 60

MOVEMENT_COLUMNS = ["kind", "level", "province_code", "site_id", "vaccine_code", "lot_number",
                    "expiry_date", "quantity", "moved_at", "transfer_id"]  # fmt: skip
ADMINISTERED_COLUMNS = ["site_id", "vaccine_code", "day", "lot_number", "doses"]
NAT = np.datetime64("NaT", "ns")


def open_vial_loss(doses: npt.ArrayLike, vial_doses: npt.ArrayLike) -> IntArray:
    """Doses discarded from opened vials by sessions of `doses` doses of a product with
    `vial_doses` doses a vial: ``ceil(doses / vial) × vial − doses`` (0 for single-dose
    vials and for sessions that fill their vials)."""
    n = np.asarray(doses, dtype=np.int64)
    v = np.asarray(vial_doses, dtype=np.int64)
    return np.asarray(-n % v, dtype=np.int64)


@cache
def lot_prefixes() -> dict[str, str]:
    """A short manufacturer-style prefix for each product's lot numbers (e.g. ``PFIZ``)."""
    names = calibration.vaccines().set_index("code")["name"]
    return {
        code: ("".join(ch for ch in name.upper() if ch.isalpha())[:4] or "LOT").ljust(4, "X")
        for code, name in names.items()
    }


def _prefix(code: str) -> str:
    known = lot_prefixes().get(code)
    return known or ("".join(ch for ch in code.upper() if ch.isalnum())[:4] or "LOT").ljust(4, "X")


def lot_name(code: str, received: date) -> str:
    """The lot a product's delivery of `received` brings, e.g. ``PFIZ-210816``."""
    return f"{_prefix(code)}-{received:%y%m%d}"


def delivery_day(day: date, anchor: date = DELIVERY_ANCHOR) -> date:
    """The last scheduled national delivery day on or before `day`."""
    return day - timedelta(days=(day - anchor).days % DELIVERY_EVERY_DAYS)


def scheduled_lot_numbers(codes: pd.Series, day: date) -> pd.Series:
    """The lot each product would have from the last scheduled delivery on or before `day`
    (a lot name of the model's scheme, e.g. for a correction naming another lot)."""
    suffix = f"-{delivery_day(day):%y%m%d}"
    prefixes = {code: _prefix(code) for code in codes.unique()}
    return (codes.map(prefixes).astype("string") + suffix).astype(object)


def plan_forecast(targets: pd.DataFrame, horizon: int = NATIONAL_COVER_DAYS) -> Forecast:
    """The campaign plan as a forecast: per product, the mean daily doses of the next
    `horizon` days of `targets` (``date, doses``) split by the day's product mix."""
    days = pd.to_datetime(targets["date"])
    rows = []
    for day, doses in zip(days, targets["doses"].to_numpy(dtype=float), strict=True):
        codes, shares = calibration.vaccine_mix(day.date())
        rows.append(dict(zip(codes, doses * shares, strict=True)))
    plan = pd.DataFrame(rows, index=days).fillna(0.0)
    # mean over [day, day + horizon): a reversed rolling mean
    ahead = plan[::-1].rolling(horizon, min_periods=1).mean()[::-1]
    table = {
        day.date(): row for day, row in zip(ahead.index, ahead.to_dict("records"), strict=True)
    }

    def forecast(day: date) -> Mapping[str, float]:
        return table.get(day, {})

    return forecast


@dataclass
class _Rows:
    """Movement rows being built, as parallel arrays (place / lot indices)."""

    kind: list[IntArray]
    place: list[IntArray]
    lot: list[IntArray]
    quantity: list[IntArray]
    at: list[npt.NDArray[np.datetime64]]
    transfer: list[IntArray]


KINDS = ("received", "transferred", "administered", "wasted", "expired")
RECEIVED, TRANSFERRED, ADMINISTERED, WASTED, EXPIRED = range(5)


def _ceil_to(x: FloatArray | IntArray, vial: IntArray) -> IntArray:
    """`x` (≥ 0 where it matters) rounded up to whole vials."""
    return (np.ceil(np.maximum(x, 0) / vial) * vial).astype(np.int64)


def _cumsum_by(group: IntArray, values: IntArray) -> IntArray:
    """Running sums of `values` within each `group` (in the given order)."""
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    total = np.cumsum(values[order])
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    base = (total - values[order])[first]
    out = np.empty_like(total)
    out[order] = total - base[np.cumsum(first) - 1]
    return out


def _fefo(stock: IntArray, start: IntArray, end: IntArray) -> IntArray:
    """Take the doses [start, end) of each row's stock counted through its lots in column
    order (first expiry first): the amount taken from each lot."""
    top = np.cumsum(stock, axis=1)
    low = top - stock
    return np.maximum(np.minimum(end[:, None], top) - np.maximum(start[:, None], low), 0)


class StockState:
    """Stock per place (national, province stores, sites), product and lot; see the module
    docstring for the rules. `sites` needs ``site_id, province_code`` and may have
    ``closes_minute`` (a session ends then); `vaccines` ``code, vial_doses``."""

    def __init__(
        self,
        sites: pd.DataFrame,
        vaccines: pd.DataFrame | None = None,
        *,
        forecast: Forecast | None = None,
        anchor: date = DELIVERY_ANCHOR,
    ) -> None:
        vaccines = calibration.vaccines() if vaccines is None else vaccines
        self.codes = [str(code) for code in vaccines["code"]]
        self.code_index = {code: k for k, code in enumerate(self.codes)}
        self.vial = vaccines["vial_doses"].fillna(10).to_numpy(dtype=np.int64)
        self.shelf = np.array([SHELF_LIFE_DAYS.get(c, DEFAULT_SHELF_LIFE_DAYS) for c in self.codes])
        self.forecast = forecast
        self.anchor = anchor
        self.site_ids = sites["site_id"].astype(str).to_numpy(dtype=object)
        self.site_index = {site: i for i, site in enumerate(self.site_ids)}
        site_provinces = sites["province_code"].astype(str).to_numpy(dtype=object)
        self.province_codes = np.array(sorted(set(site_provinces)), dtype=object)
        self.site_province = np.searchsorted(self.province_codes, site_provinces).astype(np.int64)
        closes = sites.get("closes_minute")
        self.closes = (
            np.full(len(sites), DEFAULT_CLOSES_MINUTE, dtype=np.int64)
            if closes is None
            else closes.fillna(DEFAULT_CLOSES_MINUTE).to_numpy(dtype=np.int64)
        )
        n_sites, n_products = len(self.site_ids), len(self.codes)
        self.n_provinces = len(self.province_codes)
        self.first_site = 1 + self.n_provinces
        n_places = self.first_site + n_sites
        # lots: metadata forever (global ids), stock only for the lots some place holds
        self.lot_names: list[str] = []
        self.lot_product: list[int] = []
        self.lot_expiry: list[date] = []
        self._lot_arrays: tuple[IntArray, IntArray] | None = None  # product, expiry ordinal
        self.lot_by_name: dict[str, int] = {}
        self.columns = np.zeros(0, dtype=np.int64)  # global lot id of each stock column
        self.stock = np.zeros((n_places, 0), dtype=np.int64)
        self.open_left = np.zeros((n_sites, n_products), dtype=np.int64)
        self.used_today = np.zeros((n_sites, n_products), dtype=np.int64)
        self.last_use_at = np.full((n_sites, n_products), NAT)
        self.history: dict[date, IntArray] = {}  # day -> consumption per site and product
        self.last_use = np.full((n_sites, n_products), -(10**6), dtype=np.int64)  # ordinal
        self.day: date | None = None
        self._rows = _Rows([], [], [], [], [], [])
        self._transfers = 0
        self._administered: list[tuple[IntArray, int, date, IntArray, IntArray]] = []

    # -- rebuilding from the ledger ---------------------------------------------------------
    @classmethod
    def from_movements(
        cls,
        movements: pd.DataFrame,
        sites: pd.DataFrame,
        vaccines: pd.DataFrame | None = None,
        **options: Any,
    ) -> StockState:
        """The state the `movements` (``stock_movements`` rows: ``kind, level,
        province_code, site_id, vaccine_code, lot_number, expiry_date, quantity, moved_at``)
        leave: on hand per place, product and lot (negative balances read as empty), each
        site's consumption of its last days, and the day of the last movement."""
        moved = local_times(movements["moved_at"]) if len(movements) else pd.Series(dtype=object)
        keys = ["level", "province_code", "site_id", "vaccine_code", "lot_number", "expiry_date"]
        frame = movements.assign(province_code=movements["province_code"].fillna(""),
                                 site_id=movements["site_id"].fillna(""))  # fmt: skip
        balances = frame.groupby(keys, as_index=False, dropna=False)["quantity"].sum()
        used = frame["kind"].isin(["administered", "wasted"])
        recent = frame.loc[used, ["site_id", "vaccine_code", "quantity"]].assign(
            moved_at=moved[used]
        )
        last = moved.max() if len(movements) else None
        return cls.restore(balances, recent, last, sites, vaccines, **options)

    @classmethod
    def restore(
        cls,
        balances: pd.DataFrame,
        recent_use: pd.DataFrame,
        last_moved_at: pd.Timestamp | None,
        sites: pd.DataFrame,
        vaccines: pd.DataFrame | None = None,
        **options: Any,
    ) -> StockState:
        """The state from per-lot balances (``level, province_code, site_id, vaccine_code,
        lot_number, expiry_date, quantity``), the consumption rows of the last days
        (``site_id, vaccine_code, quantity`` (negative), ``moved_at``) and the time of the
        last movement (the state's day)."""
        state = cls(sites, vaccines, **options)
        balances = balances[balances["quantity"] > 0]
        balances = balances[balances["vaccine_code"].isin(state.code_index)]
        for row in (
            balances[["lot_number", "vaccine_code", "expiry_date"]]
            .drop_duplicates("lot_number")
            .itertuples(index=False)
        ):  # one per lot, not per movement
            state._lot(str(row.lot_number), state.code_index[row.vaccine_code],
                       pd.Timestamp(row.expiry_date).date())  # fmt: skip
        if len(balances):
            place = state._places(balances["level"], balances["province_code"], balances["site_id"])
            known = place >= 0
            lots = balances["lot_number"].map(state.lot_by_name).to_numpy(dtype=np.int64)
            state._add_columns(np.unique(lots[known]))
            column = np.searchsorted(state.columns, lots[known])
            np.add.at(state.stock, (place[known], column), balances["quantity"].to_numpy()[known])
        if last_moved_at is not None and not pd.isna(last_moved_at):
            state.day = pd.Timestamp(last_moved_at).tz_convert(TIME_ZONE).date()
            if len(recent_use):
                days = local_times(recent_use["moved_at"]).dt.date
                sites_at = recent_use["site_id"].map(state.site_index)
                products = recent_use["vaccine_code"].map(state.code_index)
                ok = sites_at.notna() & products.notna()
                frame = pd.DataFrame({"site": sites_at[ok].astype(int), "k": products[ok].astype(int),
                                      "day": days[ok], "used": -recent_use["quantity"][ok]})  # fmt: skip
                for day, part in frame.groupby("day"):
                    ordinal = day.toordinal()
                    index = (part["site"].to_numpy(), part["k"].to_numpy())
                    np.maximum.at(state.last_use, index, ordinal)
                    if (state.day - day).days <= SUPPLY_WINDOW_DAYS:
                        used = np.zeros_like(state.used_today)
                        np.add.at(used, index, part["used"].to_numpy(dtype=np.int64))
                        if day == state.day:
                            state.used_today = used
                        else:
                            state.history[day] = used
        return state

    def _places(self, level: pd.Series, province: pd.Series, site: pd.Series) -> IntArray:
        """Place index of each row (-1 when unknown)."""
        level = level.to_numpy(dtype=object)
        provinces = province.fillna("").astype(str).to_numpy(dtype=object)
        position = np.searchsorted(self.province_codes, provinces)
        position = np.minimum(position, max(self.n_provinces - 1, 0))
        known_province = (
            self.province_codes[position] == provinces if self.n_provinces else position < 0
        )
        sites = site.fillna("").map(self.site_index).fillna(-1).to_numpy(dtype=np.int64)
        return np.select(
            [level == "national", (level == "province") & known_province,
             (level == "site") & (sites >= 0)],
            [0, 1 + position, self.first_site + sites],
            -1,
        ).astype(np.int64)  # fmt: skip

    # -- lots and columns -------------------------------------------------------------------
    def _lot(self, name: str, k: int, expiry: date) -> int:
        lot = self.lot_by_name.get(name)
        if lot is None:
            lot = len(self.lot_names)
            self.lot_names.append(name)
            self.lot_product.append(k)
            self.lot_expiry.append(expiry)
            self.lot_by_name[name] = lot
            self._lot_arrays = None
        return lot

    def _lot_table(self) -> tuple[IntArray, IntArray]:
        """Product and expiry (day ordinal) of every lot."""
        if self._lot_arrays is None:
            self._lot_arrays = (
                np.array(self.lot_product, dtype=np.int64),
                np.array([expiry.toordinal() for expiry in self.lot_expiry], dtype=np.int64),
            )
        return self._lot_arrays

    def _add_columns(self, lots: IntArray) -> None:
        new = np.setdiff1d(lots, self.columns)
        if not len(new):
            return
        columns = np.concatenate([self.columns, new])
        order = np.argsort(columns, kind="stable")
        stock = np.concatenate([self.stock, np.zeros((len(self.stock), len(new)), np.int64)], 1)
        self.columns, self.stock = columns[order], stock[:, order]

    def _fefo_columns(self, k: int) -> IntArray:
        """Stock columns of product `k`, first expiry first."""
        product, expiry = self._lot_table()
        mine = np.flatnonzero(product[self.columns] == k)
        return mine[np.lexsort((self.columns[mine], expiry[self.columns[mine]]))]

    def on_hand_by_product(self) -> IntArray:
        """Stock per place and product."""
        product = self._lot_table()[0][self.columns]
        totals = np.zeros((len(self.stock), len(self.codes)), dtype=np.int64)
        for k in np.unique(product):
            totals[:, k] = self.stock[:, product == k].sum(axis=1)
        return totals

    def on_hand(self) -> pd.DataFrame:
        """Stock per place, product and lot (positive rows), in the ledger's columns."""
        place, column = np.nonzero(self.stock)
        lots = self.columns[column]
        frame = self._place_columns(place)
        frame["vaccine_code"] = [self.codes[self.lot_product[lot]] for lot in lots]
        frame["lot_number"] = [self.lot_names[lot] for lot in lots]
        frame["expiry_date"] = [self.lot_expiry[lot] for lot in lots]
        frame["quantity"] = self.stock[place, column]
        return frame

    def _place_columns(self, place: IntArray) -> pd.DataFrame:
        is_site = place >= self.first_site
        is_province = (place >= 1) & ~is_site
        site = np.where(is_site, place - self.first_site, 0)
        province = np.where(is_site, self.site_province[site], place - 1)
        codes = np.array([*self.province_codes, None], dtype=object)  # index -1: national
        sites = np.array([*self.site_ids, None], dtype=object)
        return pd.DataFrame(
            {
                "level": np.select([is_site, is_province], ["site", "province"], "national"),
                "province_code": codes[np.where(is_site | is_province, province, -1)],
                "site_id": sites[np.where(is_site, site, -1)],
            }
        )

    # -- movement rows ------------------------------------------------------------------------
    def _emit(self, kind: int, place: IntArray, lot: IntArray, quantity: IntArray,
              at: npt.NDArray[np.datetime64], transfer: IntArray | None = None) -> None:  # fmt: skip
        if not len(place):
            return
        rows = self._rows
        rows.kind.append(np.full(len(place), kind))
        rows.place.append(np.asarray(place, dtype=np.int64))
        rows.lot.append(np.asarray(lot, dtype=np.int64))
        rows.quantity.append(np.asarray(quantity, dtype=np.int64))
        rows.at.append(np.broadcast_to(np.asarray(at, dtype="datetime64[ns]"), len(place)))
        rows.transfer.append(np.full(len(place), -1) if transfer is None else transfer)

    def _move(self, source: IntArray, target: IntArray, column: IntArray, quantity: IntArray,
              at: npt.NDArray[np.datetime64]) -> None:  # fmt: skip
        """Transfers `quantity` of each column from `source` to `target` places: two rows
        sharing a transfer id each."""
        if not len(source):
            return
        np.subtract.at(self.stock, (source, column), quantity)
        np.add.at(self.stock, (target, column), quantity)
        ids = np.arange(self._transfers, self._transfers + len(source))
        self._transfers += len(source)
        lots = self.columns[column]
        at = np.broadcast_to(np.asarray(at, dtype="datetime64[ns]"), len(source))
        self._emit(TRANSFERRED, source, lots, -quantity, at, ids)
        self._emit(TRANSFERRED, target, lots, quantity, at, ids)

    def drain(self) -> pd.DataFrame:
        """The movement rows made since the last drain (``transfer_id`` from 0)."""
        rows = self._rows
        self._rows = _Rows([], [], [], [], [], [])
        self._transfers = 0
        if not rows.kind:
            return pd.DataFrame(columns=MOVEMENT_COLUMNS)
        place = np.concatenate(rows.place)
        lots = np.concatenate(rows.lot)
        frame = self._place_columns(place)
        products = np.array(self.lot_product, dtype=np.int64)[lots]
        frame.insert(0, "kind", np.array(KINDS, dtype=object)[np.concatenate(rows.kind)])
        frame["vaccine_code"] = np.array(self.codes, dtype=object)[products]
        frame["lot_number"] = np.array(self.lot_names, dtype=object)[lots]
        frame["expiry_date"] = pd.to_datetime(
            np.array(self.lot_expiry, dtype="datetime64[D]")[lots]
        )
        frame["quantity"] = np.concatenate(rows.quantity)
        frame["moved_at"] = pd.DatetimeIndex(np.concatenate(rows.at)).tz_localize(TIME_ZONE)
        transfer = np.concatenate(rows.transfer)
        frame["transfer_id"] = pd.array(np.where(transfer >= 0, transfer, 0), dtype="Int64")
        frame.loc[transfer < 0, "transfer_id"] = pd.NA
        return frame

    def _drain_administered(self) -> pd.DataFrame:
        parts = self._administered
        self._administered = []
        if not parts:
            return pd.DataFrame(columns=ADMINISTERED_COLUMNS)
        sites = np.concatenate([part[0] for part in parts])
        products = np.concatenate([np.full(len(part[0]), part[1]) for part in parts])
        days = np.concatenate([np.full(len(part[0]), part[2], dtype=object) for part in parts])
        lots = np.concatenate([part[3] for part in parts])
        return pd.DataFrame(
            {
                "site_id": self.site_ids[sites],
                "vaccine_code": np.array(self.codes, dtype=object)[products],
                "day": days,
                "lot_number": np.array(self.lot_names, dtype=object)[lots],
                "doses": np.concatenate([part[4] for part in parts]),
            }
        )

    # -- the clock ----------------------------------------------------------------------------
    def _local_time(self, day: date, minutes: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
        start = np.datetime64(day, "ns")
        return start + (np.asarray(minutes, dtype=np.int64) * 60_000_000_000).astype("m8[ns]")

    def _roll_to(self, day: date, morning: npt.NDArray[np.datetime64] | None = None,
                 need: IntArray | None = None) -> None:  # fmt: skip
        """Start `day`: close the sessions of the day before, remove what expires by then,
        and restock by the rule (`need`: the closed doses the day's sessions will take, when
        known). `morning` replaces the scheduled times (national, province, site) when
        earlier."""
        if self.day is not None and day <= self.day:
            return
        if self.day is not None:
            self._close_sessions(np.ones(len(self.site_ids), dtype=bool), self.day)
            self.history[self.day] = self.used_today
            self.used_today = np.zeros_like(self.used_today)
            self.history = {
                d: used for d, used in self.history.items()
                if (day - d).days <= SUPPLY_WINDOW_DAYS
            }  # fmt: skip
        self.day = day
        self._expire(day)
        times = self._local_time(day, [RECEIVE_MINUTE, PROVINCE_MINUTE, SITE_MINUTE])
        if morning is not None:
            times = np.minimum(times, morning)
        self._restock(day, need, scheduled=True, national_at=times[0], province_at=times[1],
                      site_at=times[2])  # fmt: skip

    def _expire(self, day: date) -> None:
        """Lots whose expiry date is on or before `day` leave every place holding them, at
        the start of their expiry date."""
        if not len(self.columns):
            return
        ordinal = self._lot_table()[1][self.columns]
        gone = ordinal <= day.toordinal()
        if not gone.any():
            return
        place, column = np.nonzero(self.stock[:, gone])
        columns = np.flatnonzero(gone)[column]
        lots = self.columns[columns]
        at = np.array([self.lot_expiry[lot] for lot in lots], dtype="datetime64[ns]")
        self._emit(EXPIRED, place, lots, -self.stock[place, columns], at)
        keep = ~gone
        self.columns, self.stock = self.columns[keep], self.stock[:, keep]

    def _daily_use(self) -> FloatArray:
        """Each site's average daily consumption per product over the last days."""
        total = np.zeros(self.used_today.shape, dtype=np.float64)
        assert self.day is not None
        for day, used in self.history.items():
            if 0 < (self.day - day).days <= SUPPLY_WINDOW_DAYS:
                total += used
        return total / SUPPLY_WINDOW_DAYS

    # -- restocking ---------------------------------------------------------------------------
    def _restock(self, day: date, need: IntArray | None, *, scheduled: bool,
                 national_at: Any, province_at: Any, site_at: Any) -> None:  # fmt: skip
        """Orders by the rule, filled first expiry first: sites from their province, provinces
        from the national store, the national store from deliveries. `need` [site, product]:
        closed doses the sites must have now. Unscheduled (`scheduled` false): only sites
        whose stock cannot cover `need` order."""
        n_sites = len(self.site_ids)
        vial = self.vial[None, :]
        need = np.zeros(self.open_left.shape, dtype=np.int64) if need is None else need
        # a site with no consumption in its last days (a product new to it, the first day
        # of a live feed) takes the day's need as its daily use: its first delivery holds
        # days of it, not just the sessions of the day, which would leave it at zero
        use = self._daily_use()
        use = np.where(use > 0, use, need)
        held = self.on_hand_by_product()
        site_held = held[self.first_site :] - self.open_left
        in_use = ((day.toordinal() - self.last_use) <= IN_USE_DAYS) | (need > 0)
        low, high = SITE_FLOOR_VIALS
        minimum = np.where(in_use, np.maximum(SITE_MIN_DAYS * use, low * vial), 0)
        maximum = np.where(in_use, np.maximum(SITE_MAX_DAYS * use, high * vial), 0)
        if scheduled:
            reorder = (site_held - need < minimum) | (site_held < need)
        else:
            reorder = site_held < need
        site_order = np.where(reorder, _ceil_to(np.maximum(maximum, need) - site_held, vial), 0)
        if not site_order.any() and not scheduled:
            return
        # provinces
        province_use = np.zeros((self.n_provinces, len(self.codes)))
        np.add.at(province_use, self.site_province, use)
        requested = np.zeros((self.n_provinces, len(self.codes)), dtype=np.int64)
        np.add.at(requested, self.site_province, site_order)
        province_held = held[1 : self.first_site]
        if scheduled:
            reorder = province_held - requested < PROVINCE_MIN_DAYS * province_use
            target = PROVINCE_MAX_DAYS * province_use + requested
        else:
            reorder = province_held < requested
            target = requested.astype(np.float64)
        province_order = np.where(reorder, _ceil_to(target - province_held, vial), 0)
        # the national store
        wanted = province_order.sum(axis=0)
        rate = use.sum(axis=0)
        if self.forecast is not None:
            plan = self.forecast(day)
            rate = np.maximum(rate, [plan.get(code, 0.0) for code in self.codes])
        national_held = held[0]
        delivery = np.zeros(len(self.codes), dtype=np.int64)
        if scheduled and (day - self.anchor).days % DELIVERY_EVERY_DAYS == 0:
            delivery = _ceil_to(NATIONAL_COVER_DAYS * rate + wanted - national_held, self.vial)
        short = national_held + delivery < wanted
        delivery = np.where(
            short,
            _ceil_to(wanted + NATIONAL_SAFETY_DAYS * rate - national_held, self.vial),
            delivery,
        )
        for k in np.flatnonzero(delivery > 0):
            self._receive(int(k), day, int(delivery[k]), national_at)
        province_at = np.broadcast_to(np.asarray(province_at, dtype="datetime64[ns]"),
                                      self.n_provinces)  # fmt: skip
        site_at = np.broadcast_to(np.asarray(site_at, dtype="datetime64[ns]"), n_sites)
        for k in np.flatnonzero(province_order.sum(axis=0) > 0):
            self._send(int(k), np.zeros(self.n_provinces, dtype=np.int64),
                       1 + np.arange(self.n_provinces), province_order[:, k], province_at)  # fmt: skip
        for k in np.flatnonzero(site_order.sum(axis=0) > 0):
            self._send(int(k), 1 + self.site_province, self.first_site + np.arange(n_sites),
                       site_order[:, k], site_at)  # fmt: skip

    def _receive(self, k: int, day: date, quantity: int, at: Any) -> None:
        code = self.codes[k]
        lot = self._lot(lot_name(code, day), k, day + timedelta(days=int(self.shelf[k])))
        self._add_columns(np.array([lot]))
        column = int(np.searchsorted(self.columns, lot))
        self.stock[0, column] += quantity
        self._emit(RECEIVED, np.array([0]), np.array([lot]), np.array([quantity]),
                   np.asarray(at, dtype="datetime64[ns]"))  # fmt: skip

    def _send(self, k: int, source: IntArray, target: IntArray, quantity: IntArray,
              at: npt.NDArray[np.datetime64]) -> None:  # fmt: skip
        """Each target gets `quantity` of product `k` from its source place, first expiry
        first (targets of one source are served in order)."""
        wanted = np.flatnonzero(quantity > 0)
        source, target, quantity, at = source[wanted], target[wanted], quantity[wanted], at[wanted]
        columns = self._fefo_columns(k)
        stock = self.stock[np.ix_(source, columns)]
        # each target's interval within its source's stock
        end = _cumsum_by(source, quantity)
        start = end - quantity
        if (end > stock.sum(axis=1)).any():
            raise AssertionError("a store was asked for more than it holds")
        taken = _fefo(stock, start, end)
        row, column = np.nonzero(taken)
        self._move(source[row], target[row], columns[column], taken[row, column], at[row])

    # -- use ----------------------------------------------------------------------------------
    def _use(self, doses: IntArray, first_at: npt.NDArray[np.datetime64],
             last_at: npt.NDArray[np.datetime64]) -> None:  # fmt: skip
        """Sites give `doses` [site, product] between `first_at` and `last_at` [site]: from
        the open vial first, then new vials (ordered first if the site holds too few),
        first expiry first; recorded as administered at `last_at`."""
        assert self.day is not None
        vial = self.vial[None, :]
        from_open = np.minimum(doses, self.open_left)
        rest = doses - from_open
        new_vials = -(-rest // vial)
        need = new_vials * vial
        closed = self.on_hand_by_product()[self.first_site :] - self.open_left
        if (closed < need).any():
            self._restock(self.day, need, scheduled=False, national_at=first_at.min(),
                          province_at=self._province_min(first_at), site_at=first_at)  # fmt: skip
        for k in np.flatnonzero(doses.sum(axis=0) > 0):
            sites = np.flatnonzero(doses[:, k] > 0)
            row, places, lots, quantity = self._take_at_sites(int(k), sites, doses[sites, k])
            self._emit(ADMINISTERED, places, lots, -quantity, last_at[sites[row]])
            self._administered.append((sites[row], int(k), self.day, lots, quantity))
        self.open_left = self.open_left - from_open + need - rest
        self.used_today += doses
        used = doses > 0
        self.last_use[used] = self.day.toordinal()
        self.last_use_at = np.where(used, np.fmax(self.last_use_at, last_at[:, None]),
                                    self.last_use_at)  # fmt: skip

    def _take_at_sites(
        self, k: int, sites: IntArray, doses: IntArray
    ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Take `doses` of product `k` out of the stock of `sites` (site indices), first
        expiry first. Per lot taken from: the index into `sites`, the place, the lot and the
        quantity."""
        columns = self._fefo_columns(k)
        rows = self.first_site + sites
        taken = _fefo(self.stock[np.ix_(rows, columns)], np.zeros(len(sites), np.int64), doses)
        row, column = np.nonzero(taken)
        quantity = taken[row, column]
        self.stock[rows[row], columns[column]] -= quantity
        return row, rows[row], self.columns[columns[column]], quantity

    def _province_min(self, at: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
        out = np.full(self.n_provinces, np.datetime64("2262-01-01", "ns"))
        np.minimum.at(out, self.site_province, at)
        return out

    def _close_sessions(self, sites: npt.NDArray[np.bool_], day: date) -> None:
        """The sessions of `sites` end: what their open vials have left is wasted, at the
        site's closing time on `day` (or its last dose, if later)."""
        open_left = np.where(sites[:, None], self.open_left, 0)
        if not open_left.any():
            return
        closes = self._local_time(day, self.closes)
        for k in np.flatnonzero(open_left.sum(axis=0) > 0):
            chosen = np.flatnonzero(open_left[:, k] > 0)
            row, places, lots, quantity = self._take_at_sites(int(k), chosen, open_left[chosen, k])
            at = np.fmax(closes[chosen], self.last_use_at[chosen, k])[row]
            self._emit(WASTED, places, lots, -quantity, at)
            self.used_today[chosen, k] += open_left[chosen, k]
            self.open_left[chosen, k] = 0
            self.last_use_at[chosen, k] = NAT

    # -- public entry points --------------------------------------------------------------
    def _indices(self, usage: pd.DataFrame) -> tuple[IntArray, IntArray]:
        """Site and product index of each usage row."""
        site = usage["site_id"].map(self.site_index)
        k = usage["vaccine_code"].map(self.code_index)
        if site.isna().any() or k.isna().any():
            raise KeyError("usage names a site or product the stock model does not know")
        return site.to_numpy(dtype=np.int64), k.to_numpy(dtype=np.int64)

    def _matrix(self, site: IntArray, k: IntArray, doses: IntArray) -> IntArray:
        out = np.zeros(self.open_left.shape, dtype=np.int64)
        np.add.at(out, (site, k), doses)
        return out

    def run_days(
        self, usage: pd.DataFrame, days: Iterable[date]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Play whole `days` (in order; each after the state's day): ``usage`` gives doses per
        ``site_id, vaccine_code, day``. Each day: expiries, the morning restock (knowing the
        day's sessions), the sessions, their open-vial loss at each site's closing time.
        Returns (movement rows, doses given per ``site_id, vaccine_code, day, lot_number``
        in first-expiry-first order)."""
        site, k = self._indices(usage)
        usage_days = usage["day"].to_numpy(dtype=object)
        counts = usage["doses"].to_numpy(dtype=np.int64)
        for day in days:
            today = usage_days == day
            doses = self._matrix(site[today], k[today], counts[today])
            need = _ceil_to(doses, self.vial[None, :])
            self._roll_to(day, need=need)
            if doses.any():
                closes = self._local_time(day, self.closes)
                self._use(doses, closes, closes)
                self._close_sessions(doses.sum(axis=1) > 0, day)
        return self.drain(), self._drain_administered()

    def advance(
        self, usage: pd.DataFrame, until: pd.Timestamp | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Play doses at their own times (the live feed): ``usage`` rows ``site_id,
        vaccine_code, doses, at`` (local, tz-aware), then move the clock to `until` (closing
        sessions whose site has closed, expiries and the morning restock of a new day).
        Returns what `run_days` returns."""
        if len(usage):
            at = local_times(usage["at"])
            local_days = at.dt.date
            for day in sorted(local_days.unique()):
                part = usage.loc[local_days == day]
                times = at[local_days == day].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
                self._roll_to(day, morning=np.full(3, times.min()))  # late rows: the state's day
                site, k = self._indices(part)
                doses = self._matrix(site, k, part["doses"].to_numpy(dtype=np.int64))
                first = np.full(len(self.site_ids), np.datetime64("2262-01-01", "ns"))
                last = np.full(len(self.site_ids), np.datetime64("1970-01-01", "ns"))
                np.minimum.at(first, site, times)
                np.maximum.at(last, site, times)
                self._use(doses, first, last)
        if until is not None:
            local = pd.Timestamp(until).tz_convert(TIME_ZONE)
            self._roll_to(
                local.date(), morning=np.full(3, np.datetime64(local.tz_localize(None), "ns"))
            )
            minute = local.hour * 60 + local.minute
            assert self.day is not None
            if local.date() == self.day:
                self._close_sessions(self.closes <= minute, self.day)
        return self.drain(), self._drain_administered()


def local_times(values: pd.Series) -> pd.Series:
    """Instants (aware, or UTC text from SQLite) as local times."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(TIME_ZONE)
    return pd.to_datetime(values, utc=True, format="mixed").dt.tz_convert(TIME_ZONE)


def assign_lots(doses: pd.DataFrame, administered: pd.DataFrame) -> pd.Series:
    """The lot of each dose (``site_id, vaccine_code, day, administered_at``): a site's
    doses of a product on a day, in time order, take the lots it administered that day
    (``administered``: ``site_id, vaccine_code, day, lot_number, doses`` in first-expiry-
    first order) in that order. The counts must match."""
    keys = ["site_id", "vaccine_code", "day"]
    # one integer per (site, product, day) on both sides, sorted on it
    both = pd.concat([doses[keys], administered[keys]], ignore_index=True)
    group = both.groupby(keys, sort=True).ngroup().to_numpy()
    dose_group, given_group = group[: len(doses)], group[len(doses) :]
    times = pd.to_datetime(doses["administered_at"]).to_numpy()
    order = np.lexsort((np.arange(len(doses)), times, dose_group))
    given = np.argsort(given_group, kind="stable")  # first expiry first within a group
    counts = administered["doses"].to_numpy(np.int64)[given]
    lots = np.repeat(administered["lot_number"].to_numpy(dtype=object)[given], counts)
    if (
        len(lots) != len(doses)
        or (np.repeat(given_group[given], counts) != dose_group[order]).any()
    ):
        raise ValueError(f"{len(doses)} doses but {len(lots)} administered, or not alike")
    result = np.empty(len(doses), dtype=object)
    result[order] = lots
    return pd.Series(result, index=doses.index, name="lot_number")


def number_rows(
    frames: Sequence[pd.DataFrame], movement_serial: int, transfer_serial: int
) -> tuple[pd.DataFrame, int, int]:
    """The movement rows of `frames` (each as `StockState` answers them, transfer ids from
    0) in one frame, with ``movement_id`` from `movement_serial` and transfer ids from
    `transfer_serial`; returns it and the next serials."""
    numbered = []
    for frame in frames:
        if not len(frame):
            continue
        transfer = frame["transfer_id"].astype("Int64")
        numbered.append(frame.assign(transfer_id=transfer + transfer_serial))
        if transfer.notna().any():
            transfer_serial += int(transfer.max()) + 1
    movements = (
        pd.concat(numbered, ignore_index=True)
        if numbered
        else pd.DataFrame(columns=MOVEMENT_COLUMNS)
    )
    movements.insert(0, "movement_id", np.arange(movement_serial, movement_serial + len(movements)))
    return movements, movement_serial + len(movements), transfer_serial


def check_ledger(movements: pd.DataFrame) -> list[str]:
    """The model's invariants on a ledger (``stock_movements`` rows): problems found, none
    when it holds. No place, product and lot is ever below zero (after all the movements of
    one instant), nothing moves a lot on or after its expiry date except its expiry, a
    site administers only what it has received, each transfer's two rows cancel."""
    problems: list[str] = []
    frame = movements.assign(
        moved_at=local_times(movements["moved_at"]),
        province_code=movements["province_code"].fillna(""),
        site_id=movements["site_id"].fillna(""),
    )
    keys = ["level", "province_code", "site_id", "vaccine_code", "lot_number"]
    instant = frame.groupby([*keys, "moved_at"], as_index=False)["quantity"].sum()
    instant = instant.sort_values([*keys, "moved_at"], kind="stable")
    balance = instant.groupby(keys)["quantity"].cumsum()
    if (balance < 0).any():
        problems.append(f"{int((balance < 0).sum())} negative balances")
    expiry = pd.to_datetime(frame["expiry_date"]).dt.date
    late = (frame["kind"] != "expired") & (frame["moved_at"].dt.date >= expiry)
    if late.any():
        problems.append(f"{int(late.sum())} movements on or after their lot's expiry")
    expired = frame[frame["kind"] == "expired"]
    if (expired["moved_at"].dt.date != pd.to_datetime(expired["expiry_date"]).dt.date).any():
        problems.append("expiries away from the expiry date")
    transfers = frame[frame["kind"] == "transferred"].groupby("transfer_id")["quantity"]
    if len(transfers.size()) and ((transfers.sum() != 0) | (transfers.size() != 2)).any():
        problems.append("transfers whose two rows do not cancel")
    return problems


class LiveStock:
    """The stock model for the live feed: its state rebuilt from the registry, lots for the
    feed's doses, and the movement rows of each interval (numbered after the registry's)."""

    BALANCES = (
        "SELECT level, province_code, site_id, vaccine_code, lot_number, expiry_date, "
        "sum(quantity) AS quantity FROM stock_movements "
        "GROUP BY level, province_code, site_id, vaccine_code, lot_number, expiry_date "
        "HAVING sum(quantity) > 0"
    )
    LAST = "SELECT max(moved_at), max(movement_id), max(transfer_id) FROM stock_movements"
    RECENT = (
        "SELECT site_id, vaccine_code, quantity, moved_at FROM stock_movements "
        "WHERE kind IN ('administered', 'wasted') AND moved_at >= :since"
    )

    def __init__(self, state: StockState, movement_serial: int, transfer_serial: int) -> None:
        self.state = state
        self.movement_serial = movement_serial
        self.transfer_serial = transfer_serial
        self.pending: list[pd.DataFrame] = []

    @classmethod
    def load(cls, engine: Any, sites: pd.DataFrame) -> LiveStock:
        with engine.connect() as connection:
            result = connection.execute(text(cls.BALANCES))
            balances = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            last, movement, transfer = connection.execute(text(cls.LAST)).one()
            recent = pd.DataFrame(columns=["site_id", "vaccine_code", "quantity", "moved_at"])
            last_at = None
            if last is not None:
                last_at = local_times(pd.Series([last])).iloc[0]
                since = (last_at - pd.Timedelta(days=IN_USE_DAYS + 1)).tz_convert("UTC")
                bound: object = (
                    since.strftime("%Y-%m-%d %H:%M:%S")
                    if connection.dialect.name == "sqlite"
                    else since.to_pydatetime()
                )
                result = connection.execute(text(cls.RECENT), {"since": bound})
                recent = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        state = StockState.restore(balances, recent, last_at, sites)
        return cls(state, int(movement or 0) + 1, int(transfer or 0) + 1)

    def lots(self, doses: pd.DataFrame, fallback: pd.Series | None = None) -> pd.Series:
        """Give `doses` (``site_id, vaccine_code, administered_at``) from stock: their lots
        (first expiry first at their site); the movements wait for `movements`. Doses at a
        site the model does not know keep `fallback`."""
        known = doses["site_id"].isin(self.state.site_index)
        mine = doses.loc[known]
        usage = pd.DataFrame({"site_id": mine["site_id"], "vaccine_code": mine["vaccine_code"],
                              "doses": 1, "at": mine["administered_at"]})  # fmt: skip
        before = self.state.day
        moved, given = self.state.advance(usage)
        self.pending.append(moved)
        out = pd.Series(fallback if fallback is not None else None, index=doses.index, dtype=object)
        if len(mine):
            days = local_times(mine["administered_at"]).dt.date
            if before is not None:  # doses dated before the state's day are booked on it
                days = days.where(days >= before, before)
            out.loc[known] = assign_lots(mine.assign(day=days), given)
        return out

    def movements(self, doses: pd.DataFrame | None, start: pd.Timestamp,
                  end: pd.Timestamp) -> list[pd.DataFrame]:  # fmt: skip
        """The interval's movement rows up to `end` (with ids), as frames to insert."""
        moved, _ = self.state.advance(
            pd.DataFrame(columns=["site_id", "vaccine_code", "doses", "at"]), end
        )
        frames, self.pending = [*self.pending, moved], []
        frame, self.movement_serial, self.transfer_serial = number_rows(
            frames, self.movement_serial, self.transfer_serial
        )
        return [frame] if len(frame) else []


def site_sessions(usage: pd.DataFrame, vaccines: pd.DataFrame) -> pd.DataFrame:
    """Open-vial loss of each session (``site_id, vaccine_code, day, doses``): adds
    ``vial_doses`` and ``wasted``."""
    vial = usage["vaccine_code"].map(vaccines.set_index("code")["vial_doses"]).fillna(10)
    return usage.assign(vial_doses=vial.astype(np.int64),
                        wasted=open_vial_loss(usage["doses"], vial.astype(np.int64)))  # fmt: skip


__all__: Sequence[str] = [
    "LiveStock", "StockState", "assign_lots", "check_ledger", "number_rows", "open_vial_loss",
    "plan_forecast", "scheduled_lot_numbers",
]  # fmt: skip
