"""Vaccine stock indicators, as pure functions of the daily stock ledger.

The input is the stock movements summed per day (the page reads the same figures as SQL
aggregates, the ``stock_*`` reads of :data:`dashboards.reads.READS`): signed quantities
(+ in, − out) per
``day, level, province_code, site_id, vaccine_code, lot_number, expiry_date, kind``. Kinds:
``received`` (into the national store), ``transferred`` (out of one store, into another),
``administered`` (doses given at a site), ``wasted`` (doses lost from opened vials),
``expired`` (unopened vials past their expiry date, removed).

Definitions follow WHO's vaccine management practice and DHIS2's immunization stock
package; each is written out in :data:`DEFINITIONS` (shown on the page):

* **stock on hand** — the sum of all movements of a place, product and lot up to the end of
  the day;
* **consumption** — doses administered plus doses wasted from opened vials;
* **days of supply** — stock on hand ÷ average daily consumption over the last 7 days of the
  sites the place serves (a site: itself; a provincial store: the province's sites; the
  national store: every site);
* **wastage rate** — doses lost ÷ (doses administered + doses lost), split into open-vial
  (``wasted``) and closed-vial (``expired``) wastage, which add up to it;
* **stock-out days** — days in the last 30 whose closing balance of a product at a site was
  zero or less, counted from the site's first movement of that product, for the products
  the site still uses (moved in the last 90 days);
* **expiring lots** — lots with stock whose expiry date falls within 30 days (or has passed).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

PLACE: Final = ["level", "province_code", "site_id"]
CONSUMED_KINDS: Final = ("administered", "wasted")
LOST_KINDS: Final = ("wasted", "expired")
SUPPLY_WINDOW_DAYS: Final = 7
EXPIRY_WINDOW_DAYS: Final = 30
STOCK_OUT_WINDOW_DAYS: Final = 30
LOW_COVER_DAYS: Final = 3.0
#: A site uses a product it moved in this many days (stock-outs count only such products).
IN_USE_DAYS: Final = 90

DEFINITIONS: Final[dict[str, tuple[str, str]]] = {
    "on_hand": (
        "Tồn kho: tổng các lần nhập (+) và xuất (−) của một kho, một loại vắc xin, một lô, đến hết ngày.",
        "Stock on hand: the sum of every movement in (+) and out (−) of a place, product and lot, "
        "up to the end of the day.",
    ),
    "consumption": (
        "Sử dụng: số liều đã tiêm cộng số liều hủy từ lọ đã mở.",
        "Consumption: doses administered plus doses discarded from opened vials.",
    ),
    "days_of_supply": (
        "Số ngày đủ dùng: tồn kho ÷ mức sử dụng trung bình mỗi ngày trong 7 ngày qua của các "
        "điểm tiêm mà kho phục vụ (điểm tiêm: chính nó; kho tỉnh: các điểm tiêm của tỉnh; kho "
        "quốc gia: mọi điểm tiêm). Cảnh báo khi dưới 3 ngày.",
        "Days of supply: stock on hand ÷ average daily consumption over the last 7 days of the "
        "sites the place serves (a site: itself; a provincial store: the province's sites; the "
        "national store: every site). Alert below 3 days.",
    ),
    "wastage": (
        "Tỷ lệ hao hụt (WHO): liều hao hụt ÷ (liều đã tiêm + liều hao hụt); gồm hao hụt lọ đã "
        "mở (hủy sau khi mở) và lọ chưa mở (hết hạn), cộng lại bằng tỷ lệ chung.",
        "Wastage rate (WHO): doses lost ÷ (doses administered + doses lost); split into "
        "open-vial (discarded after opening) and closed-vial (expired unopened) wastage, which "
        "add up to it.",
    ),
    "stock_out": (
        "Ngày hết hàng: số ngày trong 30 ngày qua mà tồn cuối ngày của một loại vắc xin tại "
        "điểm tiêm bằng 0 hoặc âm, tính từ lần nhận đầu tiên, với các loại vắc xin điểm tiêm "
        "còn dùng (có nhập hoặc xuất trong 90 ngày qua).",
        "Stock-out days: days in the last 30 whose closing balance of a product at a site was "
        "zero or less, counted from the site's first movement of that product, for the "
        "products the site still uses (moved in the last 90 days).",
    ),
    "expiring": (
        "Lô sắp hết hạn: lô còn tồn có hạn dùng trong vòng 30 ngày tới (hoặc đã quá hạn).",
        "Expiring lots: lots with stock whose expiry date is within the next 30 days (or has "
        "passed).",
    ),
}


def _day(value: date) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _until(daily: pd.DataFrame, as_of: date) -> pd.DataFrame:
    return daily[pd.to_datetime(daily["day"]) <= _day(as_of)]


def on_hand(daily: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Stock per place, product and lot at the end of `as_of` (rows with stock ≠ 0):
    ``level, province_code, site_id, vaccine_code, lot_number, expiry_date, quantity``."""
    keys = [*PLACE, "vaccine_code", "lot_number", "expiry_date"]
    stock = _until(daily, as_of).groupby(keys, as_index=False, observed=True)["quantity"].sum()
    stock = stock[stock["quantity"] != 0]
    return stock.sort_values(keys).reset_index(drop=True)


def consumption(daily: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Doses consumed (administered + wasted, as positive numbers) per site and product in
    the days `first` … `last`: ``province_code, site_id, vaccine_code, used``."""
    days = pd.to_datetime(daily["day"])
    used = daily[daily["kind"].isin(CONSUMED_KINDS) & (days >= _day(first)) & (days <= _day(last))]
    frame = used.groupby(["province_code", "site_id", "vaccine_code"], as_index=False)[
        "quantity"
    ].sum()
    frame["used"] = -frame.pop("quantity")
    return frame


def days_of_supply(daily: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per place and product: ``level, province_code, site_id, vaccine_code, on_hand,
    used_7d, daily_use, days_of_supply`` (NaN days when nothing was used)."""
    first = as_of - timedelta(days=SUPPLY_WINDOW_DAYS - 1)
    stock = (
        on_hand(daily, as_of).groupby([*PLACE, "vaccine_code"], as_index=False)["quantity"].sum()
    )
    stock = stock.rename(columns={"quantity": "on_hand"})
    used = consumption(daily, first, as_of)
    by_site = used.groupby(["site_id", "vaccine_code"])["used"].sum()
    by_province = used.groupby(["province_code", "vaccine_code"])["used"].sum()
    by_product = used.groupby("vaccine_code")["used"].sum()
    site_keys = pd.MultiIndex.from_frame(stock[["site_id", "vaccine_code"]])
    province_keys = pd.MultiIndex.from_frame(stock[["province_code", "vaccine_code"]])
    served = np.select(
        [stock["level"] == "site", stock["level"] == "province"],
        [
            by_site.reindex(site_keys).to_numpy(dtype="float64"),
            by_province.reindex(province_keys).to_numpy(dtype="float64"),
        ],
        by_product.reindex(stock["vaccine_code"]).to_numpy(dtype="float64"),
    )
    stock["used_7d"] = np.nan_to_num(served).astype("int64")
    return with_supply_days(stock).sort_values([*PLACE, "vaccine_code"]).reset_index(drop=True)


def with_supply_days(stock: pd.DataFrame) -> pd.DataFrame:
    """Adds ``daily_use`` and ``days_of_supply`` to rows of ``on_hand, used_7d`` (NaN days
    when nothing was used)."""
    stock = stock.copy()
    stock["daily_use"] = stock["used_7d"] / SUPPLY_WINDOW_DAYS
    in_use = stock["daily_use"].where(stock["daily_use"] > 0)
    stock["days_of_supply"] = stock["on_hand"] / in_use
    return stock


def expiring_lots(
    daily: pd.DataFrame, as_of: date, within: int = EXPIRY_WINDOW_DAYS
) -> pd.DataFrame:
    """:func:`expiring` of the stock on hand at the end of `as_of`."""
    return expiring(on_hand(daily, as_of), as_of, within)


def expiring(held: pd.DataFrame, as_of: date, within: int = EXPIRY_WINDOW_DAYS) -> pd.DataFrame:
    """Lots with stock expiring by `as_of` + `within` days (expired ones included): the
    on-hand columns plus ``days_left`` (negative: expired that many days ago)."""
    stock = held[held["quantity"] > 0]
    expiry = pd.to_datetime(stock["expiry_date"])
    stock = stock.assign(days_left=(expiry - _day(as_of)).dt.days.astype("int64"))
    soon = stock[stock["days_left"] <= within]
    return soon.sort_values(["days_left", *PLACE, "vaccine_code"]).reset_index(drop=True)


def wastage(
    daily: pd.DataFrame,
    first: date,
    last: date,
    by: tuple[str, ...] = ("province_code", "vaccine_code"),
) -> pd.DataFrame:
    """Per `by` in the days `first` … `last`: ``administered, open_vial, closed_vial, lost,
    wastage_rate, open_vial_rate, closed_vial_rate`` (rates 0–1; NaN when nothing moved)."""
    days = pd.to_datetime(daily["day"])
    window = daily[(days >= _day(first)) & (days <= _day(last))]
    window = window[window["kind"].isin(("administered", *LOST_KINDS))]
    table = window.pivot_table(
        index=list(by), columns="kind", values="quantity", aggfunc="sum", fill_value=0
    )
    table = (-table).reindex(columns=["administered", *LOST_KINDS], fill_value=0)
    table = table.rename(columns={"wasted": "open_vial", "expired": "closed_vial"})
    table.columns.name = None
    table = table.reset_index()
    return with_rates(table)


def with_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Adds ``lost`` and the three rates to a frame of ``administered, open_vial,
    closed_vial`` counts (also used for totals over several rows)."""
    table = table.copy()
    table["lost"] = table["open_vial"] + table["closed_vial"]
    base = (table["administered"] + table["lost"]).astype("float64")
    base = base.where(base > 0)
    table["wastage_rate"] = table["lost"] / base
    table["open_vial_rate"] = table["open_vial"] / base
    table["closed_vial_rate"] = table["closed_vial"] / base
    return table


def overall_wastage_rate(table: pd.DataFrame) -> float:
    """The wastage rate of all the rows of `table` (``administered, open_vial,
    closed_vial`` counts) together; NaN when nothing was administered or lost."""
    total = table[["administered", "open_vial", "closed_vial"]].sum().to_frame().T
    return float(with_rates(total)["wastage_rate"].iloc[0])


def stock_out_days(
    daily: pd.DataFrame, as_of: date, window: int = STOCK_OUT_WINDOW_DAYS
) -> pd.DataFrame:
    """Per site and product with at least one stock-out day in the `window` days ending
    `as_of`: ``province_code, site_id, vaccine_code, stock_out_days, on_hand``."""
    columns = ["province_code", "site_id", "vaccine_code", "stock_out_days", "on_hand"]
    sites = _until(daily[daily["level"] == "site"], as_of)
    if sites.empty:
        return pd.DataFrame(columns=columns)
    keys = ["province_code", "site_id", "vaccine_code"]
    net = sites.assign(day=pd.to_datetime(sites["day"])).groupby([*keys, "day"])["quantity"].sum()
    start = net.index.get_level_values("day").min()
    calendar = pd.date_range(start, _day(as_of), freq="D")
    wide = net.unstack(keys).reindex(calendar, fill_value=0).fillna(0)
    balance = wide.cumsum()
    started = (wide != 0).cumsum() > 0  # from the first movement on
    out = (balance <= 0) & started
    last_days = out.index >= _day(as_of) - pd.Timedelta(days=window - 1)
    # in use: moved in the last IN_USE_DAYS (a product the site stopped giving long ago is
    # not out of stock there; an ongoing stock-out still is)
    recent = sites[pd.to_datetime(sites["day"]) > _day(as_of) - pd.Timedelta(days=IN_USE_DAYS)]
    in_use = pd.MultiIndex.from_frame(recent[keys].drop_duplicates())
    counts = out[last_days].sum()
    counts = counts[counts.index.isin(in_use)]
    result = pd.DataFrame({"stock_out_days": counts, "on_hand": balance.iloc[-1]}).reset_index()
    result = result.rename(
        columns={"level_0": "province_code", "level_1": "site_id", "level_2": "vaccine_code"}
    )
    result = result[result["stock_out_days"] > 0][columns]
    result["stock_out_days"] = result["stock_out_days"].astype("int64")
    result["on_hand"] = result["on_hand"].astype("int64")
    return result.sort_values(
        ["stock_out_days", *keys], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def low_cover(supply: pd.DataFrame, threshold: float = LOW_COVER_DAYS) -> pd.DataFrame:
    """Places whose days of supply are below `threshold` while the product is in use."""
    low = supply[(supply["daily_use"] > 0) & (supply["on_hand"] / supply["daily_use"] < threshold)]
    return low.sort_values("days_of_supply").reset_index(drop=True)
