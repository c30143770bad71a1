"""Simulated sites (count, capacity, hours) and the live feed's intraday shape, pure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry import calibration
from registry.live import day_share
from registry.sites import (
    MIN_CAPACITY,
    PEAK_UTILISATION,
    make_sites,
    open_at,
    peak_daily_load,
    sites_per_province,
)


@pytest.mark.parametrize("scale", [1.0, 0.01, 0.001, 0.00001])
def test_sites_scale_with_the_sample_with_one_per_province_at_least(scale: float) -> None:
    sites = make_sites(np.random.default_rng(3), scale)
    counts = sites.groupby("province_code").size()
    assert set(counts.index) == set(calibration.province_codes())
    assert (counts >= 1).all()
    real = calibration.simulated_sites_per_province()
    expected = np.maximum(np.rint(real * scale), 1)
    assert counts.reindex(calibration.province_codes()).to_numpy().tolist() == expected.tolist()
    assert sites["site_id"].is_monotonic_increasing and sites["site_id"].is_unique
    assert len(sites) == int(sites_per_province(scale).sum())


@pytest.mark.parametrize("scale", [1.0, 0.01, 0.001])
def test_a_provinces_capacity_is_its_busiest_week_near_full(scale: float) -> None:
    sites = make_sites(np.random.default_rng(4), scale)
    capacity = sites.groupby("province_code")["daily_capacity"].sum()
    capacity = capacity.reindex(calibration.province_codes()).to_numpy(dtype=float)
    peak = scale * peak_daily_load()
    floor = sites.groupby("province_code").size().reindex(calibration.province_codes())
    # rounding and the per-site floor aside, capacity = peak / utilisation
    assert np.all(capacity >= peak / PEAK_UTILISATION - floor.to_numpy())
    use = peak / capacity
    big = peak > 50 * floor.to_numpy()  # where the floor does not dominate
    assert big.any()
    assert np.allclose(use[big], PEAK_UTILISATION, rtol=0.02)
    assert (sites["daily_capacity"] >= MIN_CAPACITY).all()


def test_real_scale_sites_are_the_size_of_real_sites() -> None:
    """About 1.6 M doses a day in the busiest week over ~10,900 sites: a median site of
    about 150 doses a day; mobile teams smaller than fixed sites."""
    sites = make_sites(np.random.default_rng(5), 1.0)
    median = sites.groupby("site_type")["daily_capacity"].median()
    assert 60 < median["fixed"] < 400
    assert median["mobile"] < median["fixed"]


def test_opening_hours_are_a_working_day() -> None:
    sites = make_sites(np.random.default_rng(6), 0.01)
    assert (sites["opens_minute"] >= 6 * 60).all()
    assert (sites["closes_minute"] <= 21 * 60).all()
    assert (sites["closes_minute"] - sites["opens_minute"] >= 8 * 60).all()
    assert not open_at(sites, 3 * 60).any()
    assert open_at(sites, 10 * 60).all()


def test_intraday_shares_add_up_to_the_day_within_opening_hours() -> None:
    opens = np.array([7 * 60, 6 * 60 + 30, 7 * 60 + 30])
    closes = np.array([17 * 60, 21 * 60, 16 * 60 + 30])
    whole = day_share(opens, closes, 0, 1440)
    assert np.allclose(whole, 1.0)
    night = day_share(opens, closes, 0, 6 * 60) + day_share(opens, closes, 21 * 60, 1440)
    assert np.allclose(night, 0.0)
    pieces = sum(day_share(opens, closes, m, m + 15) for m in range(0, 1440, 15))
    assert np.allclose(pieces, 1.0)
    # busier in the morning: the first half of the opening hours holds more than half
    middle = (opens + closes) / 2
    morning = np.array([day_share(opens[i : i + 1], closes[i : i + 1], 0, middle[i])[0]
                        for i in range(3)])  # fmt: skip
    assert (morning > 0.5).all()


def test_sites_are_sorted_by_province_for_sites_for() -> None:
    from registry.simulator import sites_for

    sites = make_sites(np.random.default_rng(7), 0.001)
    rng = np.random.default_rng(8)
    provinces = np.array(calibration.province_codes() * 3)
    chosen = sites_for(rng, sites, provinces)
    assert (chosen["province_code"].to_numpy() == provinces).all()
    assert isinstance(chosen, pd.DataFrame)
