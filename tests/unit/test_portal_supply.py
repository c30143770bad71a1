"""The supply view's definitions (:mod:`portal.supply`) on small inline tables: doses
delivered, stock on hand at the end of the day, days of supply over the 7 days ending the
day, registrations pending from the day they are made through their slot's day, doses
given; the days covered and provinces without data."""

from __future__ import annotations

import math

import pandas as pd

from portal.supply import COLUMNS, WINDOW_DAYS, supply_span, supply_table


def stock(*rows: tuple[str, str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "province_code", "delivered", "net"])


def registrations(*rows: tuple[str, str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "province_code", "added", "removed"])


def doses(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "province_code", "doses"])


def by_day(table: pd.DataFrame, code: str, column: str) -> list[float]:
    return table[table["province_code"] == code][column].tolist()


def test_one_row_per_province_and_day_of_the_span() -> None:
    table = supply_table(
        stock(("2021-08-02", "01", 100, 100)),
        registrations(("2021-08-01", "79", 2, 0), ("2021-08-09", "79", 0, 2)),
        doses(("2021-08-04", "01", 5)),
        ("01", "79", "02"),
    )
    assert tuple(table.columns) == COLUMNS
    # from the first registration to the last dose: a removal (a slot's end) is no day of it
    assert supply_span(
        stock(("2021-08-02", "01", 100, 100)),
        registrations(("2021-08-01", "79", 2, 0), ("2021-08-09", "79", 0, 2)),
        doses(("2021-08-04", "01", 5)),
    ) == (pd.Timestamp("2021-08-01"), pd.Timestamp("2021-08-04"))
    assert len(table) == 3 * 4
    assert table["province_code"].tolist() == ["01"] * 4 + ["79"] * 4 + ["02"] * 4
    assert table["day"].dt.strftime("%m-%d").tolist()[:4] == ["08-01", "08-02", "08-03", "08-04"]
    quiet = table[table["province_code"] == "02"]  # no data at all: zeros, no days of supply
    assert (quiet[["delivered", "on_hand", "pending", "doses"]] == 0).all().all()
    assert quiet["days_of_supply"].isna().all()
    for column in ("delivered", "on_hand", "pending", "doses"):
        assert table[column].dtype == "int64"


def test_on_hand_is_the_running_sum_and_delivered_the_days_own() -> None:
    table = supply_table(
        stock(
            ("2021-08-01", "01", 100, 100),
            ("2021-08-03", "01", 0, -30),  # given, wasted or sent away: no delivery
            ("2021-08-04", "01", 50, 20),  # 50 in, 30 out
        ),
        registrations(),
        doses(),
        ("01",),
    )
    assert by_day(table, "01", "delivered") == [100, 0, 0, 50]
    assert by_day(table, "01", "on_hand") == [100, 100, 70, 90]


def test_days_of_supply_over_the_seven_days_ending_the_day() -> None:
    given = doses(("2021-08-01", "01", 14), ("2021-08-08", "01", 7))
    table = supply_table(stock(("2021-08-01", "01", 700, 700)), registrations(), given, ("01",))
    avg7 = by_day(table, "01", "doses_avg7")
    # 14 on the 1st counts in the windows ending the 1st to the 7th; the 8th has only its own 7
    assert avg7[:7] == [2.0] * 7 and avg7[7] == 1.0
    cover = by_day(table, "01", "days_of_supply")
    assert cover[0] == 700 / (14 / WINDOW_DAYS) == 350.0 and cover[7] == 700.0


def test_no_days_of_supply_without_doses_in_the_window() -> None:
    given = doses(("2021-08-01", "01", 7))
    table = supply_table(stock(("2021-08-10", "01", 10, 10)), registrations(), given, ("01",))
    cover = by_day(table, "01", "days_of_supply")
    assert cover[0] == 0.0  # doses given, nothing on hand: 0 days
    assert cover[6] == 0.0 and math.isnan(cover[7])  # the 8th: no dose in its 7 days
    assert math.isnan(cover[9])  # stock, but nothing given: not "infinite"


def test_pending_from_the_day_made_through_the_slots_day() -> None:
    # two made on the 1st for the 3rd (removed from the 4th), one made on the 2nd for the 2nd
    table = supply_table(
        stock(),
        registrations(
            ("2021-08-01", "01", 2, 0),
            ("2021-08-02", "01", 1, 0),
            ("2021-08-03", "01", 0, 1),
            ("2021-08-04", "01", 0, 2),
            ("2021-08-05", "01", 0, 0),
        ),
        doses(("2021-08-05", "01", 1)),
        ("01",),
    )
    assert by_day(table, "01", "pending") == [2, 3, 2, 0, 0]


def test_nothing_at_all() -> None:
    table = supply_table(stock(), registrations(), doses(), ("01",))
    assert table.empty and tuple(table.columns) == COLUMNS
    assert supply_span(stock(), registrations(), doses()) is None


def test_never_past_today() -> None:
    """A registration dated years ahead (an error of the registry) does not stretch the
    view past today, and counts on no day of it."""
    table = supply_table(
        stock(("2021-08-02", "01", 100, 100)),
        registrations(("2021-08-03", "01", 1, 0), ("2031-05-11", "01", 1, 0)),
        doses(("2021-08-04", "01", 5)),
        ("01",),
        today=pd.Timestamp("2021-08-05"),
    )
    assert table["day"].max() == pd.Timestamp("2021-08-04")  # the last day with a record
    assert by_day(table, "01", "pending") == [0, 1, 1]
