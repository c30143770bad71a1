"""The stock model (`registry.stock`) on small inline data: its invariants hold whatever the
use, lots go first expiry first out, expiries happen on the real date, open-vial loss
follows the vial and session sizes, and the live path restocks from nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from geo.calendar import CAMPAIGN_START, TIME_ZONE
from registry import stock
from registry.stock import StockState, assign_lots, check_ledger, number_rows, open_vial_loss

START = CAMPAIGN_START  # the stock's delivery anchor
SITES = pd.DataFrame(
    {
        "site_id": ["01-0001", "01-0002", "02-0001", "03-0001"],
        "province_code": ["01", "01", "02", "03"],
        "closes_minute": [17 * 60, 19 * 60, 16 * 60 + 30, 21 * 60],
    }
)
#: single-dose, 6-dose and 10-dose vials
VACCINES = pd.DataFrame({"code": ["ONE", "SIX", "TEN"], "vial_doses": [1, 6, 10]})
SEEDS = [1, 2, 3, 4, 5]


def random_usage(seed: int, days: int) -> pd.DataFrame:
    """Doses per site, product and day: a surge, a fall, a product that stops, quiet days."""
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(days):
        day = START + timedelta(days=offset)
        level = 40 if 20 <= offset < 60 else 6
        for site in SITES["site_id"]:
            for code in VACCINES["code"]:
                if code == "SIX" and offset > days // 2:
                    continue  # the product is withdrawn half way
                n = int(rng.poisson(level * rng.uniform(0.2, 1.5)))
                if n and rng.random() > 0.2:
                    rows.append((site, code, day, n))
    return pd.DataFrame(rows, columns=["site_id", "vaccine_code", "day", "doses"])


def play(usage: pd.DataFrame, days: int, step: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger (numbered, as the seed writes it) and the doses given per lot."""
    state = StockState(SITES, VACCINES)
    frames, given = [], []
    serials = (1, 1)
    for first in range(0, days, step):
        span = [START + timedelta(days=d) for d in range(first, min(days, first + step))]
        moved, administered = state.run_days(usage[usage["day"].isin(span)], span)
        numbered, *rest = number_rows([moved], *serials)
        serials = (rest[0], rest[1])
        if len(numbered):
            frames.append(numbered)
        given.append(administered)
    return pd.concat(frames, ignore_index=True), pd.concat(given, ignore_index=True)


def totals(frame: pd.DataFrame, kind: str) -> pd.Series:
    rows = frame[frame["kind"] == kind].assign(day=lambda f: f["moved_at"].dt.date)
    return -rows.groupby(["site_id", "vaccine_code", "day"])["quantity"].sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_ledger_holds_the_invariants_whatever_the_use(seed: int) -> None:
    usage = random_usage(seed, 260)
    ledger, _ = play(usage, 260)
    # no negative stock at any place, product and lot at any instant; nothing moved on or
    # after its expiry date but the expiry itself; each transfer's rows cancel
    assert check_ledger(ledger) == []
    # the sites administered exactly the doses given, each day
    used = usage.groupby(["site_id", "vaccine_code", "day"])["doses"].sum()
    pd.testing.assert_series_equal(
        totals(ledger, "administered").sort_index(), used.sort_index(), check_names=False
    )
    # and lost what the last opened vial of each session had left
    vial = used.index.get_level_values("vaccine_code").map(VACCINES.set_index("code")["vial_doses"])
    loss = pd.Series(open_vial_loss(used.to_numpy(), vial.to_numpy()), index=used.index)
    wasted = totals(ledger, "wasted").reindex(used.index, fill_value=0)
    pd.testing.assert_series_equal(wasted, loss, check_names=False, check_dtype=False)
    # whole vials move, so a single-dose product never loses a dose from an open vial
    assert not (ledger["kind"].eq("wasted") & ledger["vaccine_code"].eq("ONE")).any()


@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_is_used_before_it_arrives_or_after_it_expires(seed: int) -> None:
    usage = random_usage(seed, 200)
    ledger, _ = play(usage, 200)
    site = ledger[ledger["level"] == "site"]
    arrived = site[site["quantity"] > 0].groupby(["site_id", "lot_number"])["moved_at"].min()
    used = site[site["kind"].isin(["administered", "wasted"])]
    first_use = used.groupby(["site_id", "lot_number"])["moved_at"].min()
    assert (arrived.reindex(first_use.index) <= first_use).all()
    expiry = pd.to_datetime(used["expiry_date"]).dt.date
    assert (used["moved_at"].dt.date < expiry).all()
    # sessions end at the site's closing time, after the morning's restock
    closes = used["site_id"].map(SITES.set_index("site_id")["closes_minute"])
    minutes = used["moved_at"].dt.hour * 60 + used["moved_at"].dt.minute
    assert (minutes == closes).all()
    restocks = site[site["quantity"] > 0]["moved_at"]
    assert (restocks.dt.hour == 6).all()


def test_lots_go_first_expiry_first_out() -> None:
    """A site holds 10 doses of a late lot and 10 of an early one, its province 100 of each;
    it gives 25 doses. Having no recent use, it orders days of the day's need (its first
    delivery of a product is not just the day's sessions): the province sends its early lot
    first, then the late one, and the site gives all 25 from the early lot."""

    def held(level: str, province: str | None, site: str | None, lot: str, expiry: str,
             quantity: int) -> dict[str, object]:  # fmt: skip
        return {"level": level, "province_code": province, "site_id": site, "vaccine_code": "ONE",
                "lot_number": lot, "expiry_date": expiry, "quantity": quantity}  # fmt: skip

    balances = pd.DataFrame(
        [
            held("site", "01", "01-0001", "LATE", "2021-12-31", 10),
            held("site", "01", "01-0001", "EARLY", "2021-04-30", 10),
            held("province", "01", None, "LATE", "2021-12-31", 100),
            held("province", "01", None, "EARLY", "2021-04-30", 100),
        ]
    )
    last = pd.Timestamp("2021-03-07 17:00", tz=TIME_ZONE)
    state = StockState.restore(balances, balances.iloc[:0], last, SITES, VACCINES)
    usage = pd.DataFrame(
        {"site_id": ["01-0001"], "vaccine_code": ["ONE"], "day": [START], "doses": [25]}
    )
    moved, given = state.run_days(usage, [START])
    assert given[["lot_number", "doses"]].values.tolist() == [["EARLY", 25]]
    sent = moved[(moved["kind"] == "transferred") & (moved["level"] == "site")]
    assert sent.groupby("lot_number")["quantity"].sum()["EARLY"] == 100  # all of it, first
    assert check_ledger(pd.concat([balances.assign(kind="received", moved_at=last), moved])) == []


def test_stock_expires_on_its_date_at_the_place_holding_it_and_only_within_the_period() -> None:
    shelf = stock.SHELF_LIFE_DAYS.get("TEN", stock.DEFAULT_SHELF_LIFE_DAYS)
    usage = pd.DataFrame(
        {"site_id": ["02-0001"] * 3, "vaccine_code": ["TEN"] * 3,
         "day": [START, START + timedelta(days=1), START + timedelta(days=2)], "doses": [25, 3, 8]}
    )  # fmt: skip
    expiry = START + timedelta(days=shelf)  # of the first lot, received on the first day
    before, _ = play(usage, shelf)  # the last day played is the day before: nothing expires
    assert not (before["kind"] == "expired").any()
    ledger, _ = play(usage, shelf + 5)
    expired = ledger[ledger["kind"] == "expired"]
    assert len(expired) and expired["moved_at"].dt.date.min() >= expiry
    assert (expired["moved_at"].dt.date == pd.to_datetime(expired["expiry_date"]).dt.date).all()
    assert (expired["moved_at"].dt.hour == 0).all()
    # every place holding the lot loses all of it: nothing is left anywhere
    assert set(expired["level"]) == {"national", "province", "site"}
    balance = ledger.groupby(["level", "province_code", "site_id", "lot_number"], dropna=False)
    assert (balance["quantity"].sum() == 0).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_open_vial_loss_grows_with_the_vial_and_falls_with_the_session(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sessions = rng.poisson(rng.uniform(1, 60), 2000) + 1
    assert (open_vial_loss(sessions, 1) == 0).all()  # single-dose vials: no loss
    vials = [1, 2, 5, 10, 20]
    losses = [open_vial_loss(sessions, v).mean() for v in vials]
    assert all(a < b for a, b in itertools.pairwise(losses))
    for vial in (5, 10, 20):
        loss = open_vial_loss(sessions, vial)
        assert ((loss >= 0) & (loss < vial)).all()
        rates = [
            (open_vial_loss(n, vial) / (n + open_vial_loss(n, vial))).mean()
            for n in (rng.poisson(m, 2000) + 1 for m in (3, 12, 50, 200))
        ]
        assert all(a > b for a, b in itertools.pairwise(rates))


def test_a_busy_day_loses_a_few_percent() -> None:
    """Sessions of 80-300 doses (a busy site's product of the day) with 10-dose vials."""
    sessions = np.random.default_rng(7).integers(80, 300, 1000)
    loss = open_vial_loss(sessions, 10)
    assert 0.01 < loss.sum() / (sessions.sum() + loss.sum()) < 0.05


def test_restocking_keeps_sites_supplied_and_stock_outs_are_events() -> None:
    days = 120
    steady = pd.DataFrame(
        [(site, "ONE", START + timedelta(days=d), 20) for d in range(days) for site in SITES["site_id"]],
        columns=["site_id", "vaccine_code", "day", "doses"],
    )  # fmt: skip
    ledger, _ = play(steady, days)
    site = ledger[ledger["level"] == "site"].assign(day=lambda f: f["moved_at"].dt.date)
    closing = site.groupby(["site_id", "day"])["quantity"].sum().groupby("site_id").cumsum()
    # the first day a site gives a product it has no use to go by, and takes the day's
    # booked need as its daily use: it gets days of it and is never out
    assert (closing > 0).all()
    # sites hold days of use, between the rule's levels after the first week
    late = closing[closing.index.get_level_values("day") > START + timedelta(days=14)]
    assert late.min() >= 20 * (stock.SITE_MIN_DAYS - 1) and late.max() <= 20 * stock.SITE_MAX_DAYS
    # a surge beyond the site's maximum empties it that evening: the restock covered the day
    spike = {"site_id": ["03-0001"], "vaccine_code": ["ONE"], "day": [START + timedelta(days=days)]}
    surge = pd.concat([steady, pd.DataFrame({**spike, "doses": [2000]})])
    ledger, _ = play(surge, days + 2)
    site = ledger[(ledger["level"] == "site") & (ledger["site_id"] == "03-0001")]
    closing = site.groupby(site["moved_at"].dt.date)["quantity"].sum().cumsum()
    assert closing[START + timedelta(days=days)] == 0
    assert closing[START + timedelta(days=days + 1)] > 0  # restocked the next morning


def test_deliveries_arrive_ahead_of_the_forecast() -> None:
    plan = {"TEN": 500.0}
    state = StockState(SITES, VACCINES, forecast=lambda day: plan if day >= START else {})
    moved, _ = state.run_days(
        pd.DataFrame(columns=["site_id", "vaccine_code", "day", "doses"]), [START]
    )
    received = moved[moved["kind"] == "received"]
    assert received["quantity"].sum() >= stock.NATIONAL_COVER_DAYS * 500
    assert (received["moved_at"].dt.hour == 5).all()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_the_state_is_rebuilt_from_its_ledger(seed: int) -> None:
    usage = random_usage(seed, 90)
    state = StockState(SITES, VACCINES)
    days = [START + timedelta(days=d) for d in range(90)]
    moved, _ = state.run_days(usage, days)
    again = StockState.from_movements(moved, SITES, VACCINES)
    assert again.day == state.day
    pd.testing.assert_frame_equal(
        again.on_hand().sort_values(["lot_number", "level", "site_id", "province_code"]).reset_index(drop=True),
        state.on_hand().sort_values(["lot_number", "level", "site_id", "province_code"]).reset_index(drop=True),
    )  # fmt: skip
    np.testing.assert_allclose(again._daily_use(), state._daily_use())
    # both carry on the same way
    more = [days[-1] + timedelta(days=d) for d in range(1, 15)]
    tail = random_usage(seed + 10, 104)
    tail = tail[tail["day"].isin(more)]
    left, _ = state.run_days(tail, more)
    right, _ = again.run_days(tail, more)
    pd.testing.assert_frame_equal(left, right)


def test_a_live_day_years_later_gets_fresh_stock() -> None:
    usage = random_usage(3, 40)
    state = StockState(SITES, VACCINES)
    history, _ = state.run_days(usage, [START + timedelta(days=d) for d in range(40)])
    live = StockState.from_movements(history, SITES, VACCINES)
    now = pd.Timestamp("2026-12-07 09:00", tz=TIME_ZONE)
    rows = pd.DataFrame(
        {"site_id": ["01-0001", "01-0001", "03-0001"], "vaccine_code": ["TEN", "TEN", "SIX"],
         "doses": [1, 1, 1], "at": [now, now + pd.Timedelta(minutes=3), now]}
    )  # fmt: skip
    moved, given = live.advance(rows, until=now + pd.Timedelta(minutes=5))
    # every lot of the campaign expired on its own date, fresh ones arrived today
    expired = moved[moved["kind"] == "expired"]
    assert (expired["moved_at"] < now).all()
    assert (expired["moved_at"].dt.date == pd.to_datetime(expired["expiry_date"]).dt.date).all()
    received = moved[moved["kind"] == "received"]
    assert set(received["vaccine_code"]) >= {"TEN", "SIX"}
    assert (received["moved_at"].dt.date == now.date()).all()
    assert given["doses"].sum() == 3 and given["lot_number"].str.endswith("-261207").all()
    ledger, _, _ = number_rows([history], 1, 1)
    later, _, _ = number_rows([moved], len(ledger) + 1, 10**6)
    assert check_ledger(pd.concat([ledger, later], ignore_index=True)) == []
    # the open vials are discarded when the site closes
    closed, _ = live.advance(rows.iloc[:0], until=now.normalize() + pd.Timedelta(hours=22))
    wasted = closed[closed["kind"] == "wasted"]
    assert wasted["quantity"].sum() == -(10 - 2) - (6 - 1)


def test_assign_lots_gives_each_dose_a_lot_in_time_order() -> None:
    day = START
    doses = pd.DataFrame(
        {"site_id": ["S"] * 4, "vaccine_code": ["P"] * 4, "day": [day] * 4,
         "administered_at": pd.to_datetime(["2021-03-08 10:00", "2021-03-08 08:00",
                                            "2021-03-08 09:00", "2021-03-08 11:00"])}
    )  # fmt: skip
    administered = pd.DataFrame(
        {"site_id": ["S", "S"], "vaccine_code": ["P", "P"], "day": [day, day],
         "lot_number": ["OLD", "NEW"], "doses": [2, 2]}
    )  # fmt: skip
    assert assign_lots(doses, administered).tolist() == ["NEW", "OLD", "OLD", "NEW"]
    with pytest.raises(ValueError, match="administered"):
        assign_lots(doses.iloc[:3], administered)
