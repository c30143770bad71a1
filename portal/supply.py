"""Supply, registrations and doses side by side, per province and local day: the public
view of what may be holding a province back (``/supply``, ``/api/v1/supply``). Pure: the
inputs are the aggregates of :func:`portal.queries.supply_stock`,
:func:`portal.queries.supply_registrations` and :func:`portal.queries.province_daily`; no
site appears in them or in the result.

Definitions (:data:`DEFINITIONS`, shown on the page and in docs/portal.md):

* **delivered** — doses that reached the province's places (its store and its sites) that
  day from outside it: transfers from the national store or another province, and direct
  deliveries (``received``). Movements within the province (store → site) deliver nothing;
* **on hand** — the stock held by the province's store and its sites at the end of the
  day, every product and lot (the running sum of their movements);
* **doses** — valid doses given that day at the province's sites (the dose records, as
  every other figure of the portal counts them);
* **doses_avg7** — the mean doses a day over the 7 days ending that day;
* **days of supply** — on hand ÷ doses_avg7; null when no dose was given in those 7 days;
* **pending** — app registrations made by the end of the day for a slot that day or later,
  at the province's sites, whose status is not ``cancelled``. The registry keeps only the
  current status of a registration, not when it changed: attendance and no-shows happen
  at the slot, so they are placed right, but a cancellation is not dated, so a
  registration cancelled later counts in none of its days (for past days the figure is a
  lower bound; for the latest day it is exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

#: days in the window of the mean daily doses that days of supply divide by
WINDOW_DAYS: Final = 7
#: columns of :func:`supply_table`
COLUMNS: Final = (
    "day", "province_code", "delivered", "on_hand", "days_of_supply", "pending", "doses",
    "doses_avg7",
)  # fmt: skip

DEFINITIONS: Final[dict[str, tuple[str, str]]] = {
    "delivered": (
        "Nhận về: số liều đến kho tỉnh và các điểm tiêm của tỉnh trong ngày từ bên ngoài "
        "tỉnh (kho quốc gia, tỉnh khác, giao thẳng); điều chuyển trong tỉnh (kho tỉnh → "
        "điểm tiêm) không tính.",
        "Delivered: doses that reached the province's store and sites that day from outside "
        "the province (the national store, another province, direct deliveries); moves "
        "within the province (its store → its sites) do not count.",
    ),
    "on_hand": (
        "Tồn kho: số liều kho tỉnh và các điểm tiêm của tỉnh đang giữ vào cuối ngày, mọi "
        "loại vắc xin và lô.",
        "On hand: the doses held by the province's store and its sites at the end of the "
        "day, every product and lot.",
    ),
    "days_of_supply": (
        f"Số ngày đủ dùng: tồn kho ÷ số liều tiêm trung bình mỗi ngày trong {WINDOW_DAYS} "
        "ngày tính đến hết ngày đó; để trống khi không có liều nào được tiêm trong những "
        "ngày ấy.",
        f"Days of supply: on hand ÷ the mean doses given a day over the {WINDOW_DAYS} days "
        "ending that day; empty when no dose was given in those days.",
    ),
    "pending": (
        "Đăng ký chờ tiêm: số lượt đăng ký qua ứng dụng, thực hiện đến hết ngày, cho một "
        "buổi tiêm vào ngày đó hoặc sau đó, tại các điểm tiêm của tỉnh, chưa bị hủy. Hệ "
        "thống chỉ lưu trạng thái hiện tại của mỗi đăng ký, không lưu thời điểm thay đổi: "
        "một đăng ký bị hủy về sau không được tính vào ngày nào, nên với các ngày đã qua "
        "đây là giới hạn dưới (với ngày mới nhất là số chính xác).",
        "Pending registrations: app registrations made by the end of the day for a slot "
        "that day or later, at the province's sites, not cancelled. The registry keeps only "
        "each registration's current status, not when it changed: a registration cancelled "
        "later counts in none of its days, so for past days the figure is a lower bound "
        "(for the latest day it is exact).",
    ),
    "doses": (
        "Liều đã tiêm: số liều hợp lệ đã tiêm trong ngày tại các điểm tiêm của tỉnh.",
        "Doses given: valid doses given that day at the province's sites.",
    ),
}


def _days(frame: pd.DataFrame, column: str | None = None) -> pd.Series:
    chosen = frame if column is None else frame[frame[column] != 0]
    return pd.to_datetime(chosen["day"])


def supply_span(
    stock: pd.DataFrame,
    registrations: pd.DataFrame,
    doses: pd.DataFrame,
    today: pd.Timestamp | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The days the view covers: from the first day with a movement, a registration or a
    dose to the last such day (a registration counts on the day it was made, not on its
    slot's), but never past `today` when given: a record dated later is an error of its
    source (a registration "made" years ahead), not news; None when there is none."""
    days = pd.concat([_days(stock), _days(registrations, "added"), _days(doses)])
    if today is not None:
        days = days[days <= today]
    if days.empty:
        return None
    return days.min().normalize(), days.max().normalize()


def _wide(
    frame: pd.DataFrame, column: str, calendar: pd.DatetimeIndex, provinces: Sequence[str]
) -> pd.DataFrame:
    """`column` as a calendar × province table (0 where nothing happened); days outside
    the calendar are dropped."""
    if frame.empty:
        return pd.DataFrame(0, index=calendar, columns=list(provinces), dtype="int64")
    table = frame.assign(day=pd.to_datetime(frame["day"])).pivot_table(
        index="day", columns="province_code", values=column, aggfunc="sum", fill_value=0
    )
    return table.reindex(index=calendar, columns=list(provinces), fill_value=0).fillna(0)


def supply_table(
    stock: pd.DataFrame,
    registrations: pd.DataFrame,
    doses: pd.DataFrame,
    provinces: Sequence[str],
    today: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per province of `provinces` and day of :func:`supply_span`, ordered by
    province and day: :data:`COLUMNS` (``day`` as ``datetime64``, counts ``int64``,
    ``doses_avg7`` and ``days_of_supply`` float, the latter NaN when no dose was given in
    the window). `stock` has ``day, province_code, delivered, net``; `registrations` ``day,
    province_code, added, removed``; `doses` ``day, province_code, doses``."""
    span = supply_span(stock, registrations, doses, today)
    if span is None:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in COLUMNS}).assign(
            day=pd.Series(dtype="datetime64[s]"),
            province_code=pd.Series(dtype=object),
            days_of_supply=pd.Series(dtype="float64"),
            doses_avg7=pd.Series(dtype="float64"),
        )[list(COLUMNS)]
    calendar = pd.date_range(span[0], span[1], freq="D")
    # running sums start with the first event, which is never before the calendar's start
    # (a registration's removal comes after its addition)
    delivered = _wide(stock, "delivered", calendar, provinces)
    on_hand = _wide(stock, "net", calendar, provinces).cumsum()
    given = _wide(doses, "doses", calendar, provinces)
    avg7 = given.rolling(WINDOW_DAYS, min_periods=1).sum() / WINDOW_DAYS
    cover = on_hand / avg7.where(avg7 > 0)
    pending = (
        _wide(registrations, "added", calendar, provinces)
        - _wide(registrations, "removed", calendar, provinces)
    ).cumsum()
    parts = {
        "delivered": delivered,
        "on_hand": on_hand,
        "days_of_supply": cover,
        "pending": pending,
        "doses": given,
        "doses_avg7": avg7,
    }
    columns = {name: table.to_numpy().T.ravel() for name, table in parts.items()}
    frame = pd.DataFrame(
        {
            "day": np.tile(calendar.to_numpy(), len(provinces)),
            "province_code": np.repeat(np.asarray(list(provinces), dtype=object), len(calendar)),
            **columns,
        }
    )
    for name in ("delivered", "on_hand", "pending", "doses"):
        frame[name] = frame[name].astype("int64")
    for name in ("days_of_supply", "doses_avg7"):
        frame[name] = frame[name].astype("float64")
    frame["day"] = frame["day"].astype("datetime64[s]")
    return frame[list(COLUMNS)]
