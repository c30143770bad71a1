"""How ``registry.build_data`` turns OWID's reported cumulatives into the national series.

Synthetic OWID frames only (no shared source folder); the shipped result is checked in
``test_calibration.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.calendar import CAMPAIGN_END, CAMPAIGN_START
from registry.build_data import BuildError, _national_daily, _revised, _split_day, render_readme

DATA = Path(__file__).resolve().parents[2] / "registry" / "data"
KINDS = ["first", "second", "booster"]


def owid_frame(every: int = 3) -> pd.DataFrame:
    """An OWID-shaped frame over the real date range: a total rising faster every day; only
    first doses for 60 days, then first doses a falling share of the rise, completed series
    30 days after 90 % of first doses, the rest beyond the primary series. Reported every
    `every` days (and the last), the people columns only on alternate reports."""
    days = pd.date_range(CAMPAIGN_START - timedelta(days=1), CAMPAIGN_END, freq="D")
    n = len(days)
    t = np.arange(n, dtype=float)
    total = np.floor(1000.0 * t + 40.0 * t**2)
    rise = total - total[60]
    first = np.where(t <= 60, total, total[60] + np.floor(np.where(t <= 300, 0.55, 0.05) * rise))
    first[301:] = first[300] + np.floor(0.05 * (total[301:] - total[300]))
    earlier = np.concatenate([np.zeros(30), first[:-30]])
    fully = np.where(t > 60, np.minimum(np.floor(0.9 * earlier), total - first), np.nan)
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "total_vaccinations": total,
            "people_vaccinated": first,
            "people_fully_vaccinated": fully,
            "total_boosters": np.nan,
            "daily_vaccinations": pd.Series(np.diff(total, prepend=0.0)).rolling(7, 1).mean(),
        }
    )
    hidden = (t % every != 0) & (t < n - 1)
    frame.loc[hidden, ["total_vaccinations", "people_vaccinated", "people_fully_vaccinated"]] = (
        np.nan
    )
    frame.loc[(t % (2 * every) == every) & (t < n - 1), "people_vaccinated"] = np.nan
    frame.loc[n - 1, "total_boosters"] = total[-1] - first[-1] - fully[-1]
    return frame


def test_revised_caps_each_report_at_every_later_one() -> None:
    series = pd.Series([0.0, 5.0, np.nan, 9.0, 7.0, np.nan, 8.0, 12.0])
    revised, lowered = _revised(series)
    assert revised.tolist()[:2] == [0.0, 5.0]
    assert np.isnan(revised[2]) and np.isnan(revised[5])
    assert revised[[3, 4, 6, 7]].tolist() == [7.0, 7.0, 8.0, 12.0]
    assert lowered == [3]


def test_split_day_fills_reported_kinds_first_then_the_others_then_by_next_report() -> None:
    reported = np.array([True, False, False])
    need = np.array([60.0, 30.0, 10.0])
    ahead = np.array([100.0, 50.0, 10.0])
    parts, beyond = _split_day(50, need, reported, ahead)  # short: the reported kind first
    assert parts.tolist() == [50, 0, 0] and beyond == 0
    parts, beyond = _split_day(80, need, reported, ahead)  # the others share what is left
    assert parts.tolist() == [60, 15, 5] and beyond == 0
    parts, beyond = _split_day(130, need, reported, ahead)  # 30 beyond: by room to next report
    assert parts.tolist() == [60 + 20, 30 + 10, 10] and beyond == 30
    with pytest.raises(BuildError):
        _split_day(5, np.zeros(3), reported, np.zeros(3))


@pytest.mark.parametrize("every", [1, 3, 7])
def test_national_daily_follows_the_reported_cumulatives(every: int) -> None:
    owid = owid_frame(every)
    table, facts = _national_daily(owid)
    assert (table[KINDS].sum(axis=1) == table["doses"]).all()
    assert (table[["doses", *KINDS]] >= 0).all().all()
    running = table[["doses", *KINDS]].cumsum()
    on = table["reported_total"] != ""
    assert (running["doses"][on] == table.loc[on, "reported_total"].astype(int)).all()
    assert (running["second"] <= running["first"]).all()
    last = owid.iloc[-1]
    assert running["first"].iloc[-1] == last["people_vaccinated"]
    assert running["second"].iloc[-1] == last["people_fully_vaccinated"]
    people = table["reported_people"] != ""
    assert (running["first"][people] == table.loc[people, "reported_people"].astype(int)).all()
    assert facts["doses_total"] == last["total_vaccinations"]
    assert facts["revisions"]["booster_days"] == []


def test_a_lower_later_report_is_a_revision_and_first_doses_take_what_boosters_lose() -> None:
    owid = owid_frame(1)
    last = owid.index[-1]
    # the final report moves 200,000 doses (3 days of boosters) from boosters to first doses
    owid.loc[last, "people_vaccinated"] += 200_000
    table, facts = _national_daily(owid)
    running = table[KINDS].cumsum()
    assert running["first"].iloc[-1] == owid.loc[last, "people_vaccinated"]
    assert (running.diff().fillna(0) >= 0).all().all()
    assert facts["revisions"]["booster_max_lowered"] > 0
    assert facts["revisions"]["booster_days"]
    # a total reported too high once is capped at the next report
    owid = owid_frame(1)
    owid.loc[600, "total_vaccinations"] = owid.loc[601, "total_vaccinations"] + 10
    table, facts = _national_daily(owid)
    assert facts["revisions"]["total_vaccinations"] == [owid.loc[600, "date"]]
    assert (table["doses"] >= 0).all()


def test_the_shipped_readme_is_rendered_from_the_shipped_facts() -> None:
    """Every figure in registry/data/README.md is one the build recorded in manifest.json."""
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    mix = pd.read_csv(DATA / "vaccine_mix.csv", dtype={"from_date": str, "code": str, "share": str})
    names = pd.read_csv(DATA / "names.csv", dtype={"kind": str, "text": str})
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert render_readme(manifest["checks"], mix, names) == readme
    assert "smoothed series lags" not in readme
    live = manifest["checks"]["live_day"]
    shipped = pd.read_csv(DATA / "live_day.csv").iloc[0].to_dict()
    assert shipped == {key: live[key] for key in ("doses", *KINDS)}
