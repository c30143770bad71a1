"""Coverage metrics, pure: from doses per (day, province) to what the portal and the API show.

Definitions (also on the page, in the data notes, and in docs/portal.md):

* **people with ≥ 1 dose** — doses with ``dose_number = 1``;
* **full primary series** — doses that complete their product's primary series (dose 2,
  dose 1 of a single-dose product such as Janssen, dose 3 of Abdala); see
  :func:`portal.queries.series_lengths`;
* **boosters** — doses beyond their product's primary series (``dose_number`` greater than
  its series length: dose 3 of Pfizer is a booster, dose 3 of Abdala is not);
* **coverage %** — people / population × 100, *capped at 100 %*: doses are counted where
  they were given (the site's province), the population where people lived in the 2019
  census, so a province that vaccinated commuters or migrants can exceed its own population;
  the uncapped value stays in ``*_raw`` and ``capped`` says it happened;
* **doses per 100** — all doses / population × 100 (not capped: several doses per person).

The denominator is the 2019 census population (``total``) or its 18+ part (``adult``),
times the data's **sample fraction** (:mod:`warehouse.sample`: the share of the country a
simulated registry stands for; 1.0 for real data): each province's population × fraction,
rounded to whole people (at least one), and areas sum their provinces' — so a 1 % sample
is measured against 1 % of each population, and real data against the census itself.
Areas: ``national`` (``VN``), ``region`` (the six socio-economic regions), ``province`` (the
63 GSO provinces) and ``province2025`` (the 34 provinces in force since 2025-07-01), all
sums of whole provinces, so every level adds up exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Final, Literal

import numpy as np
import pandas as pd

from geo.calendar import SNAPSHOT_DAY as SNAPSHOT_DAY
from geo.provinces import load_provinces, load_provinces_2025

Level = Literal["national", "region", "province", "province2025"]
Denominator = Literal["total", "adult"]
Metric = Literal["pct_dose1", "pct_full", "pct_booster", "per100"]

LEVELS: Final[tuple[Level, ...]] = ("national", "region", "province", "province2025")
DENOMINATORS: Final[tuple[Denominator, ...]] = ("total", "adult")
METRICS: Final[tuple[Metric, ...]] = ("pct_dose1", "pct_full", "pct_booster", "per100")
#: people counted by each capped metric
METRIC_COUNTS: Final[dict[Metric, str]] = {
    "pct_dose1": "dose1",
    "pct_full": "full",
    "pct_booster": "boosters",
    "per100": "doses",
}
COUNTS: Final = ("dose1", "dose2", "boosters", "full", "doses")
NATIONAL_CODE: Final = "VN"
#: the day the Ministry published the per-province snapshot kept in the shared data

AREA_COLUMNS: Final = (
    "area_code",
    "name_vi",
    "name_en",
    "population_total",
    "population_adult",
)
COVERAGE_COLUMNS: Final = (
    "area_code",
    "name_vi",
    "name_en",
    "population",
    *COUNTS,
    "pct_dose1",
    "pct_full",
    "pct_booster",
    "per100",
    "pct_dose1_raw",
    "pct_full_raw",
    "pct_booster_raw",
    "capped",
)


def region_code(name_en: str) -> str:
    """A region's stable code: its English name in lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name_en.lower()).strip("-")


def check_fraction(fraction: float) -> float:
    """`fraction` as a float in (0, 1]; ValueError otherwise."""
    value = float(fraction)
    if not 0 < value <= 1:  # also refuses NaN
        raise ValueError(f"a sample fraction is in (0, 1], not {fraction!r}")
    return value


def sample_population(population: pd.Series, fraction: float) -> pd.Series:
    """Populations × `fraction`, rounded to whole people and at least one (unchanged at
    1.0): the people a sample of that fraction stands for."""
    if check_fraction(fraction) == 1.0:
        return population.astype("int64")
    scaled = np.maximum(np.rint(population.to_numpy(dtype=np.float64) * fraction), 1.0)
    return pd.Series(scaled.astype(np.int64), index=population.index, name=population.name)


@lru_cache(maxsize=8)
def _areas(fraction: float = 1.0) -> dict[Level, pd.DataFrame]:
    provinces = load_provinces()
    for column in ("population_2019", "population_18plus"):
        provinces[column] = sample_population(provinces[column], fraction)
    provinces["region_code"] = provinces["region6_en"].map(region_code)
    totals = {"population_total": "population_2019", "population_adult": "population_18plus"}

    def rolled(key: str, names: pd.DataFrame) -> pd.DataFrame:
        sums = provinces.groupby(key, sort=True)[list(totals.values())].sum()
        sums = sums.rename(columns={v: k for k, v in totals.items()})
        frame = names.drop_duplicates(key).set_index(key).join(sums, how="right")
        return frame.rename_axis("area_code").reset_index()[list(AREA_COLUMNS)]

    national = pd.DataFrame(
        {
            "area_code": [NATIONAL_CODE],
            "name_vi": ["Việt Nam"],
            "name_en": ["Viet Nam"],
            "population_total": [int(provinces["population_2019"].sum())],
            "population_adult": [int(provinces["population_18plus"].sum())],
        }
    )
    later = load_provinces_2025().rename(columns={"name_ascii": "name_en"})
    provinces["new_gso_code"] = provinces["new_2025_gso_code"]
    return {
        "national": national,
        "region": rolled(
            "region_code",
            provinces[["region_code", "region6_vi", "region6_en"]].rename(
                columns={"region6_vi": "name_vi", "region6_en": "name_en"}
            ),
        ),
        "province": rolled("gso_code", provinces[["gso_code", "name_vi", "name_en"]]),
        "province2025": rolled("new_gso_code", later[["new_gso_code", "name_vi", "name_en"]]),
    }


@lru_cache(maxsize=1)
def _membership() -> dict[Level, dict[str, str]]:
    provinces = load_provinces()
    codes = provinces["gso_code"]
    return {
        "national": dict.fromkeys(codes, NATIONAL_CODE),
        "region": dict(zip(codes, provinces["region6_en"].map(region_code), strict=True)),
        "province": dict(zip(codes, codes, strict=True)),
        "province2025": dict(zip(codes, provinces["new_2025_gso_code"], strict=True)),
    }


def areas(level: Level, fraction: float = 1.0) -> pd.DataFrame:
    """The areas of `level`: ``area_code``, names, total and 18+ population (2019 census,
    × `fraction` for a sample: :func:`sample_population` per province, summed)."""
    return _areas(check_fraction(fraction))[level].copy()


def area_of(level: Level) -> dict[str, str]:
    """Province GSO code -> the code of the area of `level` holding it."""
    return dict(_membership()[level])


def roll_up(by_province: pd.DataFrame, level: Level, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Sum the count columns of a per-province frame (``province_code`` + `keys` + counts)
    into areas of `level` (``area_code`` + `keys` + counts). Unknown provinces are dropped."""
    frame = by_province.assign(area_code=by_province["province_code"].map(area_of(level)))
    frame = frame.dropna(subset=["area_code"])
    counts = [c for c in frame.columns if c not in ("province_code", "area_code", *keys)]
    return frame.groupby(["area_code", *keys], sort=True, as_index=False)[counts].sum()


def totals_as_of(daily: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Doses per province given up to and including `as_of` (``province_code`` + counts),
    one row for every one of the 63 provinces (zeros where none)."""
    upto = daily[daily["day"] <= pd.Timestamp(as_of)]
    sums = upto.groupby("province_code")[list(COUNTS)].sum()
    codes = areas("province")["area_code"]
    sums = sums.reindex(codes, fill_value=0).rename_axis("province_code").reset_index()
    return sums.astype(dict.fromkeys(COUNTS, "int64"))


def coverage(
    by_province: pd.DataFrame,
    level: Level,
    denominator: Denominator = "total",
    fraction: float = 1.0,
) -> pd.DataFrame:
    """Coverage per area of `level` from per-province totals (:func:`totals_as_of`):
    columns :data:`COVERAGE_COLUMNS`, one row per area, in code order. ``population`` is
    the denominator: the census population × `fraction` (the data's sample fraction)."""
    population = "population_total" if denominator == "total" else "population_adult"
    table = areas(level, fraction).merge(roll_up(by_province, level), on="area_code", how="left")
    table[list(COUNTS)] = table[list(COUNTS)].fillna(0).astype("int64")
    table["population"] = table[population].astype("int64")
    share = 100.0 / table["population"].to_numpy(dtype=np.float64)
    capped = np.zeros(len(table), dtype=bool)
    for metric in ("pct_dose1", "pct_full", "pct_booster"):
        raw = table[METRIC_COUNTS[metric]].to_numpy(dtype=np.float64) * share
        table[f"{metric}_raw"] = raw
        table[metric] = np.minimum(raw, 100.0)
        capped |= raw > 100.0
    table["per100"] = table["doses"].to_numpy(dtype=np.float64) * share
    table["capped"] = capped
    return table[list(COVERAGE_COLUMNS)].reset_index(drop=True)


def timeseries(
    daily: pd.DataFrame,
    level: Level,
    codes: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
    denominator: Denominator = "total",
    fraction: float = 1.0,
) -> pd.DataFrame:
    """Daily series per area: ``day, area_code`` + daily counts, their running totals
    (``cum_*``), the 7-day average of doses (``doses_avg7``) and coverage % of the running
    totals (``pct_dose1``, ``pct_full``, ``pct_booster``; capped). Every day from the first
    dose to the last is present for every area (zeros where none); `codes` limits the
    areas (empty: all), `start`/`end` the days shown (the running totals still start at the
    beginning of the campaign); percentages are of the population × `fraction`."""
    rolled = roll_up(daily, level, keys=("day",))
    chosen = sorted(set(codes) if codes else set(areas(level)["area_code"]))
    rolled = rolled[rolled["area_code"].isin(chosen)]
    span = data_span(daily)
    if span is None:
        days = pd.DatetimeIndex([], dtype="datetime64[s]")
    else:
        days = pd.date_range(span[0], span[1], freq="D").astype("datetime64[s]")
    grid = pd.MultiIndex.from_product([chosen, days], names=["area_code", "day"])
    frame = (
        rolled.set_index(["area_code", "day"])[list(COUNTS)]
        .reindex(grid, fill_value=0)
        .astype("int64")
        .reset_index()
    )
    grouped = frame.groupby("area_code", sort=False)
    for column in COUNTS:
        frame[f"cum_{column}"] = grouped[column].cumsum()
    frame["doses_avg7"] = grouped["doses"].transform(lambda s: s.rolling(7, min_periods=1).mean())
    population = areas(level, fraction).set_index("area_code")[
        "population_total" if denominator == "total" else "population_adult"
    ]
    share = 100.0 / frame["area_code"].map(population).to_numpy(dtype=np.float64)
    for metric, count in (
        ("pct_dose1", "dose1"),
        ("pct_full", "full"),
        ("pct_booster", "boosters"),
    ):
        frame[metric] = np.minimum(frame[f"cum_{count}"].to_numpy(dtype=np.float64) * share, 100.0)
    if start is not None:
        frame = frame[frame["day"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["day"] <= pd.Timestamp(end)]
    return frame[["day", "area_code", *frame.columns[2:]]].reset_index(drop=True)


def recent_doses(daily: pd.DataFrame, as_of: date) -> dict[str, float]:
    """National doses on `as_of` (``today``), the day before (``yesterday``) and the mean
    of the 7 days ending on `as_of` (``avg7``)."""
    per_day = daily.groupby("day")["doses"].sum()
    window = pd.date_range(pd.Timestamp(as_of) - timedelta(days=6), pd.Timestamp(as_of), freq="D")
    last7 = per_day.reindex(window.astype("datetime64[s]"), fill_value=0)
    return {
        "today": float(last7.iloc[-1]),
        "yesterday": float(last7.iloc[-2]),
        "avg7": float(last7.mean()),
    }


def data_span(daily: pd.DataFrame) -> tuple[date, date] | None:
    """The first and last day with doses, or None when there are none."""
    if daily.empty:
        return None
    return daily["day"].min().date(), daily["day"].max().date()


def vaccine_shares(mix: pd.DataFrame, level: Level, codes: Sequence[str] = ()) -> pd.DataFrame:
    """Doses per area and vaccine product (``area_code, vaccine_code, doses, share``; share
    of the area's doses, 0–1) from :func:`portal.queries.vaccine_mix` rows."""
    rolled = roll_up(mix.drop(columns=["dose_number"]), level, keys=("vaccine_code",))
    if codes:
        rolled = rolled[rolled["area_code"].isin(list(codes))]
    totals = rolled.groupby("area_code")["doses"].transform("sum")
    rolled["share"] = np.where(totals > 0, rolled["doses"] / totals.where(totals > 0, 1), 0.0)
    return rolled.sort_values(["area_code", "doses"], ascending=[True, False]).reset_index(
        drop=True
    )
