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

from registry import calibration
from registry.calibration import (
    BLEND_DAYS,
    SNAPSHOT_DAY,
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
TOTAL_DOSES = 266_487_520  # sum of OWID's smoothed daily_vaccinations, 2021-03-08 … 2023-06-30


@pytest.fixture(scope="module")
def shipped_provinces() -> pd.DataFrame:
    return pd.read_csv(DATA / "provinces.csv", dtype={"gso_code": str})


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


def test_national_daily_is_the_real_series_at_scale_one() -> None:
    frame = national_daily()
    assert list(frame.columns) == ["date", "doses", *KINDS]
    assert len(frame) == 845
    assert frame["date"].iloc[0] == pd.Timestamp("2021-03-08")
    assert frame["date"].iloc[-1] == pd.Timestamp("2023-06-30")
    assert (frame["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert int(frame["doses"].sum()) == TOTAL_DOSES
    assert (frame[KINDS].sum(axis=1) == frame["doses"]).all()
    assert (frame[["doses", *KINDS]] >= 0).all().all()
    cumulative = frame[KINDS].cumsum()
    assert (cumulative["second"] <= cumulative["first"]).all()
    # First doses end near OWID's people_vaccinated (90,497,674): fewer people than Vietnam has.
    assert 88_000_000 < int(frame["first"].sum()) < 92_000_000


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
    for day in (date(2021, 3, 8), SNAPSHOT_DAY):
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
    assert starts[0] == "2021-03-08"
    for start in starts:
        day = date.fromisoformat(start)
        for probe in (day, day + timedelta(days=1)):
            codes, shares = vaccine_mix(probe)
            assert set(codes) <= known
            assert len(codes) == len(set(codes)) == len(shares)
            assert shares.sum() == pytest.approx(1.0, abs=1e-9)
            assert (shares > 0).all()
    assert vaccine_mix(date(2021, 3, 8)) == (["EU/1/21/1529"], pytest.approx(np.array([1.0])))
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
