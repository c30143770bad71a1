"""The public backlog of correction requests (portal.backlog) on small inline tables: the
published cells, open requests at each month's end, small counts withheld, and no withheld
count that the published sums give away — including in random tables."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from portal import backlog
from portal.backlog import COUNTS, fixed, relations
from portal.backlog import backlog as publish

EPOCH = pd.Timestamp(0)


def counts(*rows: tuple[str, str | None, int, int, int, float]) -> pd.DataFrame:
    """(area, month ``YYYY-MM`` or None for the whole span, received, approved, rejected,
    median_days) as the query gives them."""
    return pd.DataFrame(
        [
            {
                "area_code": area,
                "period": EPOCH if month is None else pd.Timestamp(f"{month}-01"),
                "received": received,
                "approved": approved,
                "rejected": rejected,
                "median_days": median,
            }
            for area, month, received, approved, rejected, median in rows
        ],
        columns=["area_code", "period", "received", "approved", "rejected", "median_days"],
    )


def row(table: pd.DataFrame, area: str, period: str = backlog.TOTAL) -> dict[str, object]:
    found = table[(table["area_code"] == area) & (table["period"] == period)]
    assert len(found) == 1, (area, period)
    return dict(found.iloc[0])


def withheld(table: pd.DataFrame) -> np.ndarray:
    return np.array([[value is None for value in r] for r in table[list(COUNTS)].to_numpy()])


def test_large_counts_are_published_and_open_runs_month_by_month() -> None:
    table = publish(
        counts(
            ("01", None, 40, 20, 10, 6.5),
            ("79", None, 30, 10, 10, 3.0),
            ("VN", None, 70, 30, 20, 4.0),
            ("VN", "2021-09", 40, 10, 5, 2.0),
            ("VN", "2021-11", 30, 20, 15, 6.0),
        ),
        ["01", "79"],
    )
    assert list(table.columns) == list(backlog.COLUMNS)
    assert list(table["period"]) == ["total"] * 3 + ["2021-09", "2021-10", "2021-11"]
    assert row(table, "01") == {
        "area_code": "01", "period": "total", "received": 40, "approved": 20, "rejected": 10,
        "open": 10, "median_days": 6.5, "suppressed": "", "complementary": "",
    }  # fmt: skip
    # open at each month's end: 25, still 25 (no request in October: withheld as zeros), 20
    september, october, november = (row(table, "VN", m) for m in ("2021-09", "2021-10", "2021-11"))
    assert september["open"] == 25 and november["open"] == 20 == row(table, "VN")["open"]
    assert october["received"] is None and october["suppressed"].split()[:3] == [
        "received", "approved", "rejected"
    ]  # fmt: skip
    assert october["open"] == 25  # open is not small: 25 requests were open all month
    assert isinstance(row(table, "79")["received"], int)


def test_a_small_count_is_withheld_and_one_more_in_each_sum_it_would_give_away() -> None:
    """Hà Nội's 3 open requests would follow from 20 = 12 + 5 + open; the smallest shown
    count of that sum (rejected, 5) goes too, and so on until nothing follows."""
    table = publish(
        counts(
            ("01", None, 20, 12, 5, 9.0),
            ("79", None, 30, 10, 10, 3.0),
            ("VN", None, 50, 22, 15, 4.0),
        ),
        ["01", "79"],
    )
    hanoi = row(table, "01")
    assert hanoi["open"] is None and hanoi["suppressed"] == "open"
    assert "rejected" in hanoi["complementary"].split() and hanoi["received"] == 20
    hidden = withheld(table)
    assert not len(fixed(relations(3, 0), hidden.ravel()))


def test_a_median_needs_five_resolved_requests() -> None:
    table = publish(counts(("01", None, 10, 2, 2, 7.0), ("VN", None, 10, 2, 2, 7.0)), ["01"])
    assert row(table, "01")["median_days"] is None
    assert row(table, "01")["suppressed"] == "approved rejected median_days"


def test_nothing_filed_is_all_withheld() -> None:
    table = publish(counts(), ["01", "79"])
    assert list(table["period"]) == ["total"] * 3
    assert withheld(table).all() and table["median_days"].isna().all()
    assert set(table["suppressed"]) == {"received approved rejected open median_days"}


@pytest.mark.parametrize("seed", range(60))
def test_no_withheld_count_can_be_worked_out_in_random_tables(seed: int) -> None:
    """Random requests over a few provinces and months: every withheld count is free in the
    null space of the published sums, and every published count is the true one."""
    rng = random.Random(seed)
    provinces = [f"{i:02d}" for i in range(1, rng.randint(2, 7))]
    months = rng.randint(1, 5)
    requests = []
    for _ in range(rng.randint(0, 120)):
        filed = rng.randrange(months)
        status = rng.choice(["open", "approved", "rejected"])
        resolved = None if status == "open" else min(months - 1, filed + rng.randrange(2))
        requests.append((rng.choice(provinces), filed, status, resolved))

    def tally(area: str, month: int | None) -> tuple[int, int, int, int]:
        mine = [r for r in requests if area in ("VN", r[0])]
        received = sum(month is None or r[1] == month for r in mine)
        approved = sum(r[2] == "approved" and (month is None or r[3] == month) for r in mine)
        rejected = sum(r[2] == "rejected" and (month is None or r[3] == month) for r in mine)
        upto = months if month is None else month + 1
        opened = sum(r[1] < upto and (r[3] is None or r[3] >= upto) for r in mine)
        return received, approved, rejected, opened

    def label(month: int) -> str:
        return f"2021-{month + 1:02d}"

    rows = [(a, None, *tally(a, None)[:3], 1.0) for a in ["VN", *provinces]]
    rows += [("VN", label(m), *tally("VN", m)[:3], 1.0) for m in range(months) if tally("VN", m)[:3] != (0, 0, 0)]  # fmt: skip
    table = publish(counts(*rows), provinces)
    periods = backlog.months(counts(*rows))
    hidden = withheld(table)
    assert not len(fixed(relations(len(provinces) + 1, len(periods)), hidden.ravel()))
    for published in table.to_dict("records"):
        month = None if published["period"] == "total" else int(published["period"][-2:]) - 1
        truth = tally(published["area_code"], month)
        for column, value in zip(COUNTS, truth, strict=True):
            if published[column] is None:
                assert value < backlog.MIN_CELL or column in published["complementary"].split()
            else:
                assert published[column] == value >= backlog.MIN_CELL
