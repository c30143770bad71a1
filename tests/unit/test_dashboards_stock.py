"""Stock indicators on a small hand-made ledger whose answers are worked out by hand.

The ledger (product P, lots L1 expiring 20 Aug 2021 and L2 expiring 31 Dec 2021):

* 1 Aug: the national store receives 1000 of L1 and 500 of L2 and sends 600 of L1 to
  province 01;
* 2 Aug: province 01 sends 200 to site S1 and 100 to site S2;
* 4-10 Aug: S1 gives 20 doses a day (140) and discards 7 from open vials on 5 Aug;
  S2 gives 25 a day on 4-7 Aug (100) and is empty from the end of 7 Aug;
* 9 Aug: 20 of L2 expire unopened in the national store.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboards import stock

AS_OF = date(2021, 8, 10)
L1_EXPIRY, L2_EXPIRY = "2021-08-20", "2021-12-31"


def movement(
    day: str, level: str, province: str, site: str, lot: str, kind: str, quantity: int
) -> dict[str, object]:
    expiry = L1_EXPIRY if lot == "L1" else L2_EXPIRY
    return {
        "day": day, "level": level, "province_code": province, "site_id": site, "vaccine_code": "P",
        "lot_number": lot, "expiry_date": expiry, "kind": kind, "quantity": quantity,
    }  # fmt: skip


def ledger() -> pd.DataFrame:
    rows = [
        movement("2021-08-01", "national", "", "", "L1", "received", 1000),
        movement("2021-08-01", "national", "", "", "L2", "received", 500),
        movement("2021-08-01", "national", "", "", "L1", "transferred", -600),
        movement("2021-08-01", "province", "01", "", "L1", "transferred", 600),
        movement("2021-08-02", "province", "01", "", "L1", "transferred", -300),
        movement("2021-08-02", "site", "01", "S1", "L1", "transferred", 200),
        movement("2021-08-02", "site", "01", "S2", "L1", "transferred", 100),
        movement("2021-08-05", "site", "01", "S1", "L1", "wasted", -7),
        movement("2021-08-09", "national", "", "", "L2", "expired", -20),
    ]
    rows += [
        movement(f"2021-08-{d:02d}", "site", "01", "S1", "L1", "administered", -20)
        for d in range(4, 11)
    ]
    rows += [
        movement(f"2021-08-{d:02d}", "site", "01", "S2", "L1", "administered", -25)
        for d in range(4, 8)
    ]
    frame = pd.DataFrame(rows)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["expiry_date"] = pd.to_datetime(frame["expiry_date"])
    return frame


def test_stock_on_hand_per_place_and_lot() -> None:
    got = stock.on_hand(ledger(), AS_OF)
    table = {(r.level, r.site_id, r.lot_number): r.quantity for r in got.itertuples()}
    assert table == {
        ("national", "", "L1"): 400,
        ("national", "", "L2"): 480,
        ("province", "", "L1"): 300,
        ("site", "S1", "L1"): 53,  # S2 is empty: no row
    }
    earlier = stock.on_hand(ledger(), date(2021, 8, 3))
    assert earlier.loc[earlier["site_id"] == "S2", "quantity"].tolist() == [100]


def test_days_of_supply_use_the_consumption_of_the_sites_served() -> None:
    got = stock.days_of_supply(ledger(), AS_OF).set_index(["level", "site_id"])
    # 7 days 4-10 Aug: S1 used 140 + 7 = 147, S2 100: the province and the nation 247
    assert got.loc[("site", "S1"), "used_7d"] == 147
    assert got.loc[("site", "S1"), "days_of_supply"] == pytest.approx(53 / (147 / 7))
    assert got.loc[("province", ""), "days_of_supply"] == pytest.approx(300 / (247 / 7))
    assert got.loc[("national", ""), "on_hand"] == 880
    assert got.loc[("national", ""), "days_of_supply"] == pytest.approx(880 / (247 / 7))
    low = stock.low_cover(stock.days_of_supply(ledger(), AS_OF))
    assert low["site_id"].tolist() == ["S1"]  # 2.5 days


def test_days_of_supply_without_use_is_unknown_not_infinite() -> None:
    got = stock.days_of_supply(ledger(), date(2021, 8, 3))
    assert got["used_7d"].eq(0).all()
    assert got["days_of_supply"].isna().all()
    assert stock.low_cover(got).empty


def test_lots_expiring_within_30_days() -> None:
    got = stock.expiring_lots(ledger(), AS_OF)
    assert set(
        zip(got["level"], got["lot_number"], got["quantity"], got["days_left"], strict=True)
    ) == {
        ("national", "L1", 400, 10),
        ("province", "L1", 300, 10),
        ("site", "L1", 53, 10),
    }
    assert stock.expiring_lots(ledger(), date(2021, 7, 20)).empty  # L1 was 31 days away
    expired = stock.expiring_lots(ledger(), date(2021, 8, 22))
    assert expired["days_left"].eq(-2).all()


def test_wastage_rates_split_open_and_closed_vials() -> None:
    got = stock.wastage(ledger(), date(2021, 8, 4), AS_OF).set_index("province_code")
    province = got.loc["01"]
    assert (province["administered"], province["open_vial"], province["closed_vial"]) == (240, 7, 0)
    assert province["wastage_rate"] == pytest.approx(7 / 247)
    assert province["open_vial_rate"] + province["closed_vial_rate"] == pytest.approx(7 / 247)
    national = got.loc[""]
    assert (national["closed_vial"], national["wastage_rate"]) == (20, 1.0)
    total = stock.with_rates(got[["administered", "open_vial", "closed_vial"]].sum().to_frame().T)
    assert total["wastage_rate"].iloc[0] == pytest.approx(27 / 267)


def test_wastage_is_unknown_when_nothing_moved() -> None:
    got = stock.with_rates(
        pd.DataFrame({"administered": [0], "open_vial": [0], "closed_vial": [0]})
    )
    assert np.isnan(got["wastage_rate"].iloc[0])


def test_stock_out_days_count_empty_closing_balances() -> None:
    got = stock.stock_out_days(ledger(), AS_OF)
    assert got[["site_id", "stock_out_days", "on_hand"]].values.tolist() == [
        ["S2", 4, 0]
    ]  # 7-10 Aug
    assert stock.stock_out_days(ledger(), date(2021, 8, 8))["stock_out_days"].tolist() == [2]
    assert stock.stock_out_days(ledger(), AS_OF, window=2)["stock_out_days"].tolist() == [2]
    assert stock.stock_out_days(ledger(), date(2021, 8, 6)).empty


def test_a_product_the_site_stopped_using_is_not_out_of_stock() -> None:
    """S2 ran out on 7 Aug and got nothing since: an ongoing stock-out, listed on 10 Aug and
    still 80 days later; long after (more than `IN_USE_DAYS` without a movement) S2 no
    longer uses the product, and an empty shelf there is not a stock-out."""
    assert stock.stock_out_days(ledger(), AS_OF)["site_id"].tolist() == ["S2"]
    later = AS_OF + timedelta(days=80)
    assert stock.stock_out_days(ledger(), later)["site_id"].tolist() == ["S2"]
    gone = AS_OF + timedelta(days=stock.IN_USE_DAYS + 5)
    assert stock.stock_out_days(ledger(), gone).empty


def test_the_overall_wastage_rate_adds_the_rows_up_first() -> None:
    rows = pd.DataFrame({"administered": [90, 10], "open_vial": [6, 0], "closed_vial": [4, 0]})
    assert stock.overall_wastage_rate(rows) == 10 / 110  # not the mean of 0.1 and 0
    assert math.isnan(stock.overall_wastage_rate(rows.iloc[0:0]))
