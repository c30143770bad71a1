"""Throughput indicators on a hand-made register of three sites and their hourly doses."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from dashboards import throughput

NOW = datetime(2021, 8, 4, 14, 30)


def register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "name": ["Site A", "Site B", "Site C"],
            "province_code": ["01", "01", "79"],
            "site_type": ["fixed", "fixed", "mobile"],
            "daily_capacity": [100, 200, 0],
            "opens_minute": [7 * 60, 7 * 60, 15 * 60],  # C opens at 15:00
            "closes_minute": [17 * 60, 17 * 60, 20 * 60],
        }
    )


def hours() -> pd.DataFrame:
    rows = [
        ("2021-08-04 08:00", "01", "A", 10),
        ("2021-08-04 13:00", "01", "A", 12),  # A active now (previous hour)
        ("2021-08-04 09:00", "01", "B", 5),  # B last dose 09:00-10:00: silent 4 h 30
        ("2021-08-04 15:00", "01", "A", 99),  # after "now": not counted
        ("2021-08-03 10:00", "79", "C", 7),  # yesterday
    ]
    frame = pd.DataFrame(rows, columns=["hour", "province_code", "site_id", "doses"])
    frame["hour"] = pd.to_datetime(frame["hour"])
    return frame


def test_reference_time_is_the_clock_while_live_else_the_last_hour() -> None:
    assert throughput.reference_time(datetime(2021, 8, 4, 14), NOW) == (NOW, True)
    assert throughput.reference_time(None, NOW) == (NOW, True)
    stopped = throughput.reference_time(datetime(2021, 7, 1, 16), NOW)
    assert stopped == (datetime(2021, 7, 1, 16, 59), False)


def test_open_active_and_silent_sites() -> None:
    got = throughput.site_activity(register(), hours(), NOW, silent_hours=2).set_index("site_id")
    assert got["doses_today"].to_dict() == {"A": 22, "B": 5, "C": 0}
    assert got["open_now"].to_dict() == {"A": True, "B": True, "C": False}
    assert got["active_now"].to_dict() == {"A": True, "B": False, "C": False}
    assert got["silent_minutes"].to_dict() == {"A": 30, "B": 270, "C": 0}
    assert got["silent"].to_dict() == {"A": False, "B": True, "C": False}
    quiet_morning = throughput.site_activity(
        register(), hours().iloc[:0], datetime(2021, 8, 4, 8, 30), 2
    )
    assert quiet_morning["silent_minutes"].tolist() == [90, 90, 0]  # open since 07:00
    assert not quiet_morning["silent"].any()
    by_province = throughput.province_activity(got.reset_index()).set_index("province_code")
    assert by_province.loc["01"].to_dict() == {
        "sites": 2, "open_now": 2, "active_now": 1, "silent": 1, "doses_today": 27,
    }  # fmt: skip


def test_capacity_use_over_seven_days() -> None:
    totals = pd.DataFrame(
        {"province_code": ["01", "01"], "site_id": ["A", "B"], "doses": [420, 700]}
    )  # doses over the 7 days; C gave none
    got = throughput.capacity_use(register(), totals).set_index("site_id")
    assert got.loc["A", "doses"] == 420
    assert got.loc["A", "use"] == pytest.approx(60 / 100)
    assert got.loc["B", "use"] == pytest.approx(100 / 200)
    assert pd.isna(got.loc["C", "use"])  # no capacity given
    assert throughput.under_capacity(got.reset_index()).empty
    assert throughput.under_capacity(got.reset_index(), share=0.55)["site_id"].tolist() == ["B"]


def test_top_and_bottom_sites() -> None:
    activity = throughput.site_activity(register(), hours(), NOW, 2)
    top, bottom = throughput.ranked(activity, NOW, count=2)
    assert top["site_id"].tolist() == ["A", "B"]
    assert bottom["site_id"].tolist() == ["B", "A"]  # C has not opened yet


def test_heatmap_has_every_day_and_hour() -> None:
    totals = pd.DataFrame(
        {"hour": pd.to_datetime(["2021-08-03 10:00", "2021-08-04 08:00"]), "doses": [7, 10]}
    )
    grid = throughput.heatmap(totals, date(2021, 8, 2), date(2021, 8, 4))
    assert grid.shape == (3, 24)
    assert grid.loc[pd.Timestamp("2021-08-03"), 10] == 7
    assert int(grid.to_numpy().sum()) == 17


def test_funnel_and_backlog_shares() -> None:
    funnel = pd.DataFrame({"registered": [10, 0], "checked_in": [8, 0], "vaccinated": [6, 0]})
    got = throughput.funnel_rates(funnel)
    assert got["vaccinated_share"].iloc[0] == pytest.approx(0.6)
    assert pd.isna(got["checked_in_share"].iloc[1])
    backlog = pd.DataFrame({"upcoming": [300], "daily_capacity": [100]})
    assert throughput.backlog_days(backlog)["days_of_backlog"].iloc[0] == pytest.approx(3.0)


def test_internal_pages_say_when_the_data_is_a_simulated_sample() -> None:
    from dashboards.view import sample_notice
    from warehouse.sample import Sample

    (notice,) = sample_notice(Sample(0.01, True, "seeded"), "en")
    assert notice.children.startswith("Simulated data: a 1% sample of the country.")
    (notice,) = sample_notice(Sample(0.0003, True, "seeded"), "vi")
    assert "0,03%" in notice.children
    assert sample_notice(Sample(), "en") == []  # a real registry: nothing to say
