"""Calibration targets for the registry simulator (``registry.calibration``).

These read only the files shipped in ``registry/data/`` — never the shared source folder.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.calendar import CAMPAIGN_END, CAMPAIGN_START, SNAPSHOT_DAY
from geo.provinces import CENSUS_2019_TOTAL, load_provinces
from registry import calibration
from registry.calibration import (
    BLEND_DAYS,
    allocate,
    daily_targets,
    national_daily,
    province_codes,
    province_weights,
    vaccine_mix,
    vaccines,
)

DATA = Path(__file__).resolve().parents[2] / "registry" / "data"
KINDS = ["first", "second", "booster"]
TOTAL_DOSES = 266_492_149  # OWID's last reported total_vaccinations (2023-06-30)
PEOPLE_VACCINATED = 90_497_674  # OWID's last people_vaccinated
PEOPLE_FULLY_VACCINATED = 85_961_564  # OWID's last people_fully_vaccinated


@pytest.fixture(scope="module")
def shipped_provinces() -> pd.DataFrame:
    """The simulator's own province figures joined with geo's names and populations."""
    own = pd.read_csv(DATA / "provinces.csv", dtype={"gso_code": str})
    return own.merge(load_provinces(), on="gso_code", validate="one_to_one")


# -- shipped files ------------------------------------------------------------------------------


def test_manifest_hashes_every_shipped_file() -> None:
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    listed = set(manifest["files"])
    on_disk = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert listed == on_disk
    for name, entry in manifest["files"].items():
        data = (DATA / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_provinces_take_names_and_populations_from_geo(shipped_provinces: pd.DataFrame) -> None:
    table = calibration.provinces()
    assert list(table.columns) == [
        "gso_code",
        "name_vi",
        "sites",
        "snapshot_dose1",
        "snapshot_dose2",
        "population_2019",
        "population_18plus",
    ]
    assert table.equals(shipped_provinces[list(table.columns)])
    assert int(table["population_2019"].sum()) == CENSUS_2019_TOTAL


def test_national_daily_is_the_real_series_at_scale_one() -> None:
    frame = national_daily()
    assert list(frame.columns) == ["date", "doses", *KINDS]
    assert len(frame) == 845
    assert frame["date"].iloc[0] == pd.Timestamp(CAMPAIGN_START)
    assert frame["date"].iloc[-1] == pd.Timestamp(CAMPAIGN_END)
    assert (frame["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert int(frame["doses"].sum()) == TOTAL_DOSES
    assert (frame[KINDS].sum(axis=1) == frame["doses"]).all()
    assert (frame[["doses", *KINDS]] >= 0).all().all()
    cumulative = frame[KINDS].cumsum()
    assert (cumulative["second"] <= cumulative["first"]).all()
    # First doses end at OWID's final people_vaccinated: 94.06 % of the 2019 census.
    assert int(frame["first"].sum()) == PEOPLE_VACCINATED
    assert f"{PEOPLE_VACCINATED / CENSUS_2019_TOTAL:.2%}" == "94.06%"
    assert int(frame["second"].sum()) == PEOPLE_FULLY_VACCINATED


# -- the real curve: reported cumulatives -------------------------------------------------------


def test_reported_cumulatives_ship_beside_the_series() -> None:
    reported = calibration.reported_cumulatives()
    assert list(reported.columns) == ["date", *calibration.REPORTED_COLUMNS]
    assert reported["date"].equals(national_daily()["date"])
    counts = reported[list(calibration.REPORTED_COLUMNS)].notna().sum().to_dict()
    assert counts == {"reported_total": 412, "reported_people": 402, "reported_fully": 273}
    last = reported.iloc[-1]
    assert (last["reported_total"], last["reported_people"], last["reported_fully"]) == (
        TOTAL_DOSES,
        PEOPLE_VACCINATED,
        PEOPLE_FULLY_VACCINATED,
    )
    # June 2021's surge: the day the 7-day smoothed series lagged the most.
    row = reported.set_index("date").loc[pd.Timestamp("2021-06-18")]
    assert row["reported_total"] == 2_233_208


def test_running_total_equals_every_reported_total_at_scale_one() -> None:
    frame = national_daily()
    reported = calibration.reported_cumulatives()["reported_total"]
    on = reported.notna()
    assert (frame["doses"].cumsum()[on] == reported[on].astype(np.int64)).all()


@pytest.mark.parametrize("scale", [1.0, 0.01, 0.001, 0.0001])
def test_scaled_running_total_follows_every_reported_total(scale: float) -> None:
    """At scale S the simulated cumulative is within half a dose of S × the reported total on
    every reported day, so within 1.5 % wherever that is at least 1,000 doses."""
    targets = daily_targets(scale)
    reported = calibration.reported_cumulatives()["reported_total"]
    on = reported.notna()
    simulated = targets["doses"].cumsum()[on].to_numpy(dtype=float)
    expected = scale * reported[on].to_numpy(dtype=float)
    assert np.abs(simulated - expected).max() <= 0.5 + 1e-6
    big = expected >= 1_000
    assert big.sum() > 250
    assert np.abs(simulated[big] / expected[big] - 1).max() <= 0.015
    assert abs(int(targets["first"].sum()) - scale * PEOPLE_VACCINATED) < 1


def test_kinds_follow_their_reported_cumulatives() -> None:
    """First and second doses end at OWID's final people counts, equal the reported counts on
    most reported days, and stay within 1 % of them outside early May 2021 (days with a people
    count but no total) and the final revision (see registry/data/README.md)."""
    frame = national_daily()
    reported = calibration.reported_cumulatives()
    running = frame[KINDS].cumsum()
    for kind, column in (("first", "reported_people"), ("second", "reported_fully")):
        on = reported[column].notna() & (reported[column] >= 1000)
        values = reported.loc[on, column].astype(float)
        relative = (running.loc[on, kind] - values) / values
        assert (running.loc[on, kind] == values).mean() > 0.9, kind
        outside_may = frame.loc[on, "date"] >= pd.Timestamp("2021-05-15")
        assert relative[outside_may].abs().max() < 0.01, kind
        assert relative.abs().max() < 0.15, kind


def test_split_needs_no_later_dose_before_its_earlier_one() -> None:
    """Second doses never outrun first doses given at least 21 days before (the shortest
    interval of a 2-dose product): the simulator finds people for every second dose."""
    running = national_daily()[KINDS].cumsum()
    earlier_first = running["first"].shift(21, fill_value=0)
    assert (running["second"] <= earlier_first).all()


# -- the live feed's busy day -------------------------------------------------------------------


def test_live_day_is_a_busy_day_of_mostly_later_doses() -> None:
    day = calibration.live_day()
    assert day == {"doses": 1_491_547, "first": 178_436, "second": 258_968, "booster": 1_054_143}
    day["doses"] = 0
    assert calibration.live_day()["doses"] == 1_491_547  # a fresh copy each time
    frame = national_daily()
    mean = frame["doses"].rolling(7).mean()
    assert round(mean.nlargest(30).median()) == 1_491_547
    recent = frame[frame["date"] >= pd.Timestamp("2022-07-01")][KINDS].sum()
    assert allocate(1_491_547, recent.to_numpy()).tolist() == [178_436, 258_968, 1_054_143]
    assert day["booster"] > day["second"] > day["first"]


def test_loaders_hand_out_copies() -> None:
    frame = national_daily()
    frame.loc[0, "doses"] = -1
    assert national_daily().loc[0, "doses"] == 377
    weights = province_weights(SNAPSHOT_DAY, "first")
    weights[:] = 0
    assert province_weights(SNAPSHOT_DAY, "first").sum() == pytest.approx(1.0)


# -- daily targets ------------------------------------------------------------------------------


def test_targets_at_scale_one_equal_the_csv() -> None:
    assert daily_targets(1.0).equals(national_daily())


@pytest.mark.parametrize("scale", [0.01, 0.1, 0.001, 0.37])
def test_targets_track_the_scaled_real_series(scale: float) -> None:
    real = national_daily()
    targets = daily_targets(scale)
    assert list(targets.columns) == ["date", "doses", *KINDS]
    assert targets["date"].equals(real["date"])
    assert (targets[KINDS].sum(axis=1) == targets["doses"]).all()
    assert (targets[["doses", *KINDS]] >= 0).all().all()
    assert np.abs(targets["doses"] - scale * real["doses"]).max() <= 1 + 1e-9
    assert abs(int(targets["doses"].sum()) - scale * TOTAL_DOSES) <= 1
    # Every running total of doses stays within rounding of the scaled real one.
    drift = targets["doses"].cumsum() - scale * real["doses"].cumsum()
    assert drift.abs().max() <= 0.5 + 1e-6
    # Each kind carries its rounding forward: its running total stays within one dose.
    for kind in KINDS:
        kind_drift = targets[kind].cumsum() - scale * real[kind].cumsum()
        assert kind_drift.abs().max() < 1.0, kind


def test_targets_at_one_hundredth() -> None:
    real = national_daily()
    targets = daily_targets(0.01)
    assert np.abs(targets["doses"] - 0.01 * real["doses"]).max() <= 1 + 1e-9
    assert abs(int(targets["doses"].sum()) - 0.01 * TOTAL_DOSES) <= 1
    assert int(targets["doses"].sum()) == round(0.01 * TOTAL_DOSES)


def test_targets_until_cuts_without_changing_values() -> None:
    full = daily_targets(0.05)
    cut = daily_targets(0.05, until=date(2021, 8, 4))
    assert cut["date"].iloc[-1] == pd.Timestamp("2021-08-04")
    assert cut.equals(full.iloc[: len(cut)].reset_index(drop=True))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan")])
def test_targets_reject_a_bad_scale(scale: float) -> None:
    with pytest.raises(ValueError):
        daily_targets(scale)


# -- provinces ----------------------------------------------------------------------------------


def test_province_codes_and_sites(shipped_provinces: pd.DataFrame) -> None:
    codes = province_codes()
    assert len(codes) == 63 == len(set(codes))
    assert codes == sorted(codes) == list(shipped_provinces["gso_code"])
    assert all(len(c) == 2 and c.isdigit() for c in codes)
    sites = calibration.sites_per_province()
    assert sites.shape == (63,)
    assert int(sites.sum()) == 8_182


@pytest.mark.parametrize("kind", ["first", "second", "booster"])
@pytest.mark.parametrize("offset", [-200, -1, 0, 1, 30, 59, 60, 61, 500])
def test_province_weights_sum_to_one(kind: str, offset: int) -> None:
    weights = province_weights(SNAPSHOT_DAY + timedelta(days=offset), kind)
    assert weights.shape == (63,)
    assert (weights >= 0).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kind", "column"), [("first", "snapshot_dose1"), ("second", "snapshot_dose2")]
)
def test_province_weights_follow_the_snapshot_then_the_adults(
    shipped_provinces: pd.DataFrame, kind: str, column: str
) -> None:
    snapshot = shipped_provinces[column].to_numpy(dtype=float)
    snapshot /= snapshot.sum()
    adults = shipped_provinces["population_18plus"].to_numpy(dtype=float)
    adults /= adults.sum()
    for day in (CAMPAIGN_START, SNAPSHOT_DAY):
        assert np.abs(province_weights(day, kind) - snapshot).max() < 1e-12
    halfway = province_weights(SNAPSHOT_DAY + timedelta(days=BLEND_DAYS // 2), kind)
    assert np.abs(halfway - (snapshot + adults) / 2).max() < 1e-12
    for day in (SNAPSHOT_DAY + timedelta(days=BLEND_DAYS), date(2022, 6, 1)):
        assert np.abs(province_weights(day, kind) - adults).max() < 1e-12
    assert np.abs(province_weights(SNAPSHOT_DAY, "booster") - adults).max() < 1e-12


def test_hcmc_dominates_the_early_campaign() -> None:
    weights = dict(zip(province_codes(), province_weights(SNAPSHOT_DAY, "first"), strict=True))
    assert weights["79"] == max(weights.values())
    assert 0.25 < weights["79"] < 0.3


def test_province_weights_reject_an_unknown_kind() -> None:
    with pytest.raises(ValueError):
        province_weights(SNAPSHOT_DAY, "fourth")


# -- vaccines -----------------------------------------------------------------------------------


def test_vaccines_table() -> None:
    table = vaccines().set_index("code")
    assert set(table.index) == {
        "EU/1/21/1529",
        "BBIBP-CorV",
        "EU/1/20/1528",
        "EU/1/20/1507",
        "Sputnik-V",
        "Abdala",
        "Hayat-Vax",
        "EU/1/20/1525",
    }
    assert table.loc["EU/1/20/1525", "primary_doses"] == 1
    # Abdala: 3 doses two weeks apart (days 0, 14, 28), as the certificate rules have it
    assert table.loc["Abdala", "primary_doses"] == 3
    assert table.loc["Abdala", "min_interval_days"] == table.loc["Abdala", "typical_interval_days"]
    assert table.loc["Abdala", "min_interval_days"] == 14
    assert (table.drop(index=["EU/1/20/1525", "Abdala"])["primary_doses"] == 2).all()
    assert table.loc["EU/1/21/1529", "manufacturer"] == "ORG-100001699"
    assert table.loc["EU/1/21/1529", "min_interval_days"] == 28
    assert table.loc["EU/1/21/1529", "typical_interval_days"] == 70
    assert (table["min_interval_days"] <= table["typical_interval_days"]).all()
    assert (table["vial_doses"] >= 1).all()


def test_vaccine_mix_periods() -> None:
    mix = pd.read_csv(DATA / "vaccine_mix.csv", dtype={"from_date": str})
    known = set(vaccines()["code"])
    starts = sorted(set(mix["from_date"]))
    assert starts[0] == CAMPAIGN_START.isoformat()
    for start in starts:
        day = date.fromisoformat(start)
        for probe in (day, day + timedelta(days=1)):
            codes, shares = vaccine_mix(probe)
            assert set(codes) <= known
            assert len(codes) == len(set(codes)) == len(shares)
            assert shares.sum() == pytest.approx(1.0, abs=1e-9)
            assert (shares > 0).all()
    assert vaccine_mix(CAMPAIGN_START) == (["EU/1/21/1529"], pytest.approx(np.array([1.0])))
    assert "EU/1/20/1528" in vaccine_mix(date(2022, 6, 1))[0]
    with pytest.raises(ValueError):
        vaccine_mix(date(2021, 3, 7))


# -- allocate -----------------------------------------------------------------------------------


def test_allocate_sums_exactly_and_stays_within_one_of_the_quota() -> None:
    rng = np.random.default_rng(20210308)
    for _ in range(500):
        size = int(rng.integers(1, 70))
        weights = rng.random(size) * (rng.random(size) < 0.8)
        if weights.sum() == 0:
            weights[0] = 1.0
        total = int(rng.integers(0, 10**7))
        parts = allocate(total, weights)
        assert parts.dtype == np.int64
        assert int(parts.sum()) == total
        quota = total * weights / weights.sum()
        assert np.all(np.abs(parts - quota) < 1.0)
        assert np.all(parts[weights == 0] == 0)


def test_allocate_is_deterministic_and_exact_for_integer_weights() -> None:
    weights = np.array([0.3, 0.3, 0.2, 0.2])
    assert allocate(7, weights).tolist() == allocate(7, weights).tolist() == [2, 2, 2, 1]
    parts = np.array([5, 0, 12, 3])
    assert allocate(20, parts).tolist() == parts.tolist()
    assert allocate(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]  # ties go to the lower index
    assert allocate(0, np.array([0.0, 0.0])).tolist() == [0, 0]
    assert allocate(266_487_520, np.array([3, 2, 1])).sum() == 266_487_520


@pytest.mark.parametrize(
    ("total", "weights"),
    [(5, [0.0, 0.0]), (-1, [1.0]), (5, [1.0, -0.5]), (5, [float("nan"), 1.0]), (5, [])],
)
def test_allocate_refuses_impossible_splits(total: int, weights: list[float]) -> None:
    with pytest.raises(ValueError):
        allocate(total, np.array(weights, dtype=float))
