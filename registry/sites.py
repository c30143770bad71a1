"""Vaccination sites for a simulated registry: how many, how big, when open.

A simulated registry stands for a share of the country (its sample fraction, the seed's
``--scale``), and its sites scale with it, so a site of the sample is the size of a real
site and every per-site figure (doses per site, silent sites, capacity use) reads as the
country's:

* **count**: each province keeps ``max(1, round(scale × real sites))`` sites — the real
  count per province (`calibration.simulated_sites_per_province`: the 2021-08-04 snapshot,
  imputed where its field was unfilled). At least one per province, so every province can
  vaccinate at any scale; below about 1 / (a province's real sites) a province's one site
  stands for more than its share of real sites, and is correspondingly bigger.
* **capacity**: a province's sites together can give ``scale × its busiest week's daily
  mean ÷ PEAK_UTILISATION`` doses a day, the busiest week estimated from the real national
  series and the province's calibrated shares of first, second and further doses. So at the
  real peak the province's sites run near capacity (doses go to sites in proportion to
  capacity: they all run at about the same share of it), as real sites did in the surge of
  autumn 2021, and few are under half of it. Within a province, fixed sites are about
  three times the size of mobile teams, with a log-normal spread.
* **opening hours**: fixed sites open 6:30–7:30 and close 16:30–21:00 (the longer days of
  the surge's urban sites), mobile teams work 7:30–16:30.

Capacities are an assumption fitted to the real volume, not a published register: no
public per-site capacity data exists for Vietnam.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from registry import calibration

#: Share of its capacity a province's sites use in the province's busiest week (daily mean).
PEAK_UTILISATION = 0.9
#: Share of sites that are mobile teams, and their size relative to a fixed site.
MOBILE_SHARE = 0.15
MOBILE_SIZE = 1 / 3
#: Log-normal spread of site sizes within a province.
SIZE_SIGMA = 0.35
#: The smallest daily capacity a site is given.
MIN_CAPACITY = 10
#: Days over which a province's daily load is averaged to find its busiest week.
PEAK_WINDOW = 7

FIXED_OPENS = (6 * 60 + 30, 7 * 60, 7 * 60 + 30)
FIXED_OPENS_P = (0.1, 0.6, 0.3)
FIXED_CLOSES = (16 * 60 + 30, 17 * 60, 19 * 60, 21 * 60)
FIXED_CLOSES_P = (0.35, 0.4, 0.15, 0.1)
MOBILE_HOURS = (7 * 60 + 30, 16 * 60 + 30)


def sites_per_province(scale: float) -> npt.NDArray[np.int64]:
    """Sites per province at `scale` (``provinces.csv`` order): at least one each."""
    real = calibration.simulated_sites_per_province().astype(np.float64)
    return np.maximum(np.rint(real * scale), 1).astype(np.int64)


@cache
def peak_daily_load() -> npt.NDArray[np.float64]:
    """Each province's busiest week, as its mean doses a day at scale 1 (63 values).

    A day's first, second and further doses go to provinces by the calibrated shares of
    their kind (`calibration.province_weights`); the daily series is averaged over
    `PEAK_WINDOW` days (a site's capacity is what it sustains over a week, not a single
    day's reporting jump) and the maximum taken."""
    daily = calibration.national_daily()
    loads = np.zeros((len(daily), len(calibration.province_codes())), dtype=np.float64)
    for row, (day, first, second, booster) in enumerate(
        zip(daily["date"], daily["first"], daily["second"], daily["booster"], strict=True)
    ):
        when = pd.Timestamp(day).date()
        loads[row] = (
            first * calibration.province_weights(when, "first")
            + second * calibration.province_weights(when, "second")
            + booster * calibration.province_weights(when, "booster")
        )
    weekly = pd.DataFrame(loads).rolling(PEAK_WINDOW, min_periods=1).mean()
    return np.asarray(weekly.max().to_numpy(), dtype=np.float64)


def make_sites(rng: np.random.Generator, scale: float = 1.0) -> pd.DataFrame:
    """The sites of a registry standing for `scale` of the country, sorted by province
    (``site_id, name, province_code, site_type, daily_capacity, opens_minute,
    closes_minute``)."""
    codes = np.array(calibration.province_codes())
    counts = sites_per_province(scale)
    province = np.repeat(codes, counts)
    index = np.repeat(np.arange(len(codes)), counts)
    number = np.concatenate([np.arange(1, n + 1) for n in counts])
    n = len(province)
    mobile = rng.random(n) < MOBILE_SHARE
    mobile[np.concatenate([[0], np.cumsum(counts)[:-1]])] = False  # a province's first is fixed
    size = rng.lognormal(0.0, SIZE_SIGMA, n) * np.where(mobile, MOBILE_SIZE, 1.0)
    province_size = np.bincount(index, weights=size)
    target = scale * peak_daily_load() / PEAK_UTILISATION
    capacity = np.maximum(np.rint(size / province_size[index] * target[index]), MIN_CAPACITY)
    opens = np.where(mobile, MOBILE_HOURS[0], rng.choice(FIXED_OPENS, n, p=FIXED_OPENS_P))
    closes = np.where(mobile, MOBILE_HOURS[1], rng.choice(FIXED_CLOSES, n, p=FIXED_CLOSES_P))
    number_text = pd.Series(number).map("{:04d}".format)
    return pd.DataFrame(
        {
            "site_id": pd.Series(province) + "-" + number_text,
            "name": np.where(mobile, "Đội tiêm lưu động số ", "Điểm tiêm số ") + number_text,
            "province_code": province,
            "site_type": np.where(mobile, "mobile", "fixed"),
            "daily_capacity": capacity.astype("int64"),
            "opens_minute": opens.astype("int64"),
            "closes_minute": closes.astype("int64"),
        }
    )


def open_at(sites: pd.DataFrame, minute: int) -> npt.NDArray[np.bool_]:
    """Which sites are open at `minute` past local midnight."""
    opens = sites["opens_minute"].to_numpy()
    closes = sites["closes_minute"].to_numpy()
    return np.asarray((opens <= minute) & (minute < closes))


def day_products(n_sites: int, day: date) -> npt.NDArray[Any]:
    """The product each of `n_sites` sites (in register order) gives on `day`: one a day,
    as real sites mostly ran one product's sessions (an opened vial is used up by the same
    session, so mixing products multiplies the open-vial loss). Drawn from the day's mix
    (`calibration.vaccine_mix`) by a generator seeded by the day: the same for the seed and
    the live feed, all day."""
    codes, shares = calibration.vaccine_mix(day)
    rng = np.random.default_rng(day.toordinal())
    return np.asarray(rng.choice(np.array(codes, dtype=object), n_sites, p=shares), dtype=object)


def site_product_or(
    site_product: npt.NDArray[Any],
    previous: npt.NDArray[Any],
    dose_number: npt.NDArray[np.int64],
    lengths: Mapping[str, int],
    otherwise: npt.NDArray[Any],
) -> npt.NDArray[Any]:
    """The site's product of the day for each later dose where it may be given — within a
    primary series, a product with the series' length (so the series ends where the
    certificate rules say); as a booster, a product whose series is shorter than the dose
    number — else `otherwise` (the product chosen by `simulator.later_products`)."""
    series = np.array([lengths[code] for code in previous], dtype=np.int64)
    offered = np.array([lengths[code] for code in site_product], dtype=np.int64)
    primary = dose_number <= series
    fits = np.where(primary, offered == series, offered < dose_number)
    return np.where(fits, site_product, otherwise)
