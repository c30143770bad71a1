"""Calibration targets for the registry simulator, read from the files shipped in ``registry/data/``.

The simulator reproduces Vietnam's real COVID-19 campaign at a chosen *scale* ``S`` (``S = 1``
is the whole country, ``S = 0.01`` one person in a hundred). This module turns the shipped,
real national figures into the integer targets it needs:

* :func:`daily_targets` — doses per day split into first / second / booster, rounded so that the
  cumulative total at scale ``S`` never drifts from ``S`` × the real cumulative total (on every
  day OWID reported a total, ``round(S`` × that total``)``);
* :func:`reported_cumulatives` — the cumulative figures OWID reported, for comparisons;
* :func:`live_day` — the busy day the live feed replays (volume and split, scale 1);
* :func:`province_weights` — how a day's doses spread over the 63 provinces;
* :func:`vaccine_mix` — which products were given when; :func:`vaccines` — the campaign's
  products and their schedules (the platform's one table of products, ``geo/products.csv``);
* :func:`allocate` — the one integer splitter (largest remainder) used for every count.

Everything is pure: files are read on first use and cached (:func:`functools.lru_cache`),
nothing is read at import time, and cached objects are never handed out directly (DataFrames and
arrays are returned as copies) so a caller cannot corrupt what the next caller sees. Only
``registry/build_data.py`` reads the shared source folder; this module reads ``registry/data/``
and the reference data of :mod:`geo` (province names and populations, the products).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.calendar import SNAPSHOT_DAY
from geo.products import campaign_products
from geo.provinces import N_PROVINCES, load_provinces

__all__ = [
    "BLEND_DAYS",
    "DATA_DIR",
    "DOSE_KINDS",
    "allocate",
    "daily_targets",
    "live_day",
    "national_daily",
    "province_codes",
    "province_weights",
    "provinces",
    "reported_cumulatives",
    "sites_per_province",
    "vaccine_mix",
    "vaccines",
]

#: Folder holding the shipped calibration files (written by ``python -m registry.build_data``).
DATA_DIR: Final[Path] = Path(__file__).resolve().parent / "data"

NATIONAL_DAILY_FILE: Final = "national_daily.csv"
LIVE_DAY_FILE: Final = "live_day.csv"
PROVINCES_FILE: Final = "provinces.csv"
VACCINE_MIX_FILE: Final = "vaccine_mix.csv"

#: The three kinds of dose the national series is split into, in column order.
DOSE_KINDS: Final[tuple[str, str, str]] = ("first", "second", "booster")
#: OWID's reported cumulatives shipped beside the series (blank when not reported that day):
#: ``total_vaccinations``, ``people_vaccinated``, ``people_fully_vaccinated``.
REPORTED_COLUMNS: Final[tuple[str, str, str]] = (
    "reported_total",
    "reported_people",
    "reported_fully",
)
#: Days over which the provincial distribution moves from the snapshot to the 18+ population.
BLEND_DAYS: Final = 60

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class CalibrationDataError(RuntimeError):
    """A shipped calibration file is missing or breaks an expectation."""


# --------------------------------------------------------------------------------------------
# Integer allocation
# --------------------------------------------------------------------------------------------


def allocate(total: int, weights: npt.ArrayLike) -> IntArray:
    """Split the integer ``total`` over ``weights`` so the parts sum exactly to ``total``.

    Largest-remainder (Hamilton) method: each part gets the floor of its quota
    ``total × w / Σw``, and the units left over go to the largest fractional remainders, ties
    to the lower index. The result is deterministic (no randomness, stable ordering), every
    part is within 1 of its exact quota, and a part with zero weight gets nothing. Integer
    weights are handled with exact integer arithmetic, so ``allocate(n, parts)`` returns
    ``parts`` unchanged whenever ``parts`` already sum to ``n``.

    Raises :class:`ValueError` for a negative total, negative or non-finite weights, or a
    positive total with all weights zero.
    """
    w = np.asarray(weights)
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    total = int(total)
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    if w.size == 0:
        if total:
            raise ValueError("cannot allocate a positive total over no weights")
        return np.zeros(0, dtype=np.int64)
    if np.issubdtype(w.dtype, np.integer) or w.dtype == np.bool_:
        return _allocate_integer(total, w.astype(np.int64))
    wf = w.astype(np.float64)
    if not np.all(np.isfinite(wf)) or np.any(wf < 0):
        raise ValueError("weights must be finite and non-negative")
    wsum = float(wf.sum())
    if wsum <= 0:
        if total:
            raise ValueError("cannot allocate a positive total over all-zero weights")
        return np.zeros(w.size, dtype=np.int64)
    quotas = wf * (total / wsum)
    floors = np.floor(quotas)
    parts = floors.astype(np.int64)
    left = total - int(parts.sum())  # 0 <= left <= len(w): the floors never overshoot
    if left > 0:
        order = np.argsort(-(quotas - floors), kind="stable")
        parts[order[:left]] += 1
    return parts


def _allocate_integer(total: int, w: IntArray) -> IntArray:
    """Exact largest-remainder allocation for integer weights (see :func:`allocate`)."""
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    wsum = int(w.sum())
    if wsum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over all-zero weights")
        return np.zeros(w.size, dtype=np.int64)
    if wsum == total:
        return w.copy()
    if total and int(w.max()) > (2**62) // total:  # products would overflow int64
        return allocate(total, w.astype(np.float64))
    scaled = w * total
    parts = scaled // wsum
    remainders = scaled % wsum
    left = total - int(parts.sum())
    if left:
        order = np.argsort(-remainders, kind="stable")
        parts[order[:left]] += 1
    return parts.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Loaders (cached, private) and their public copies
# --------------------------------------------------------------------------------------------


def _path(name: str) -> Path:
    path = DATA_DIR / name
    if not path.is_file():
        raise CalibrationDataError(
            f"{path} is missing: run `python -m registry.build_data` to regenerate registry/data/"
        )
    return path


@lru_cache(maxsize=1)
def _national_daily() -> pd.DataFrame:
    frame = pd.read_csv(
        _path(NATIONAL_DAILY_FILE), dtype={"date": str, **dict.fromkeys(REPORTED_COLUMNS, "Int64")}
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    for column in ("doses", *DOSE_KINDS):
        frame[column] = frame[column].astype(np.int64)
    missing = [c for c in REPORTED_COLUMNS if c not in frame.columns]
    if missing:
        raise CalibrationDataError(f"{NATIONAL_DAILY_FILE}: no column {', '.join(missing)}")
    if not (frame[list(DOSE_KINDS)].sum(axis=1) == frame["doses"]).all():
        raise CalibrationDataError(f"{NATIONAL_DAILY_FILE}: first+second+booster != doses")
    if not (frame["date"].diff().dropna() == pd.Timedelta(days=1)).all():
        raise CalibrationDataError(f"{NATIONAL_DAILY_FILE}: days are not consecutive")
    return frame


@lru_cache(maxsize=1)
def _live_day() -> tuple[tuple[str, int], ...]:
    frame = pd.read_csv(_path(LIVE_DAY_FILE))
    if len(frame) != 1 or list(frame.columns) != ["doses", *DOSE_KINDS]:
        raise CalibrationDataError(f"{LIVE_DAY_FILE}: expected one row of doses, {DOSE_KINDS}")
    row = {column: int(frame[column].iloc[0]) for column in frame.columns}
    if sum(row[kind] for kind in DOSE_KINDS) != row["doses"] or min(row.values()) < 0:
        raise CalibrationDataError(f"{LIVE_DAY_FILE}: first+second+booster != doses")
    return tuple(row.items())


@lru_cache(maxsize=1)
def _provinces() -> pd.DataFrame:
    """The simulator's province figures joined with geo's names and populations."""
    own = pd.read_csv(_path(PROVINCES_FILE), dtype={"gso_code": str})
    if len(own) != N_PROVINCES:
        raise CalibrationDataError(f"{PROVINCES_FILE}: {len(own)} rows, expected {N_PROVINCES}")
    geo = load_provinces()[["gso_code", "name_vi", "population_2019", "population_18plus"]]
    frame = own.merge(geo, on="gso_code", how="left", validate="one_to_one")
    if frame["name_vi"].isna().any():
        raise CalibrationDataError(f"{PROVINCES_FILE}: a gso_code geo does not know")
    return frame[[*geo.columns[:2], *own.columns[1:], *geo.columns[2:]]]


@lru_cache(maxsize=1)
def _vaccine_mix() -> tuple[tuple[date, tuple[str, ...], tuple[float, ...]], ...]:
    """The mix periods as ``(from_date, codes, shares)``, sorted by ``from_date``."""
    frame = pd.read_csv(_path(VACCINE_MIX_FILE), dtype={"from_date": str, "code": str})
    periods = []
    for from_date, group in frame.groupby("from_date", sort=True):
        shares = tuple(float(s) for s in group["share"])
        if abs(sum(shares) - 1.0) > 1e-9:
            raise CalibrationDataError(
                f"{VACCINE_MIX_FILE}: shares for {from_date} sum to {sum(shares)}"
            )
        periods.append((date.fromisoformat(str(from_date)), tuple(group["code"]), shares))
    return tuple(periods)


@lru_cache(maxsize=1)
def _shares() -> dict[str, FloatArray]:
    """Provincial shares: snapshot dose 1, snapshot dose 2 and the MoH 18+ population."""
    frame = _provinces()
    result = {}
    for key, column in (
        ("first", "snapshot_dose1"),
        ("second", "snapshot_dose2"),
        ("adult", "population_18plus"),
    ):
        values = frame[column].to_numpy(dtype=np.float64)
        share = values / values.sum()
        share.flags.writeable = False
        result[key] = share
    return result


def national_daily() -> pd.DataFrame:
    """The real national series at scale 1: ``date`` (datetime64), ``doses``, ``first``,
    ``second``, ``booster`` (int64), one row per day from 2021-03-08 to 2023-06-30.

    ``doses`` are the differences of OWID's reported cumulative total (interpolated across the
    days it was not reported): the running total equals the reported one on every reported
    day (see ``registry/data/README.md``)."""
    return _national_daily()[["date", "doses", *DOSE_KINDS]].copy()


def reported_cumulatives() -> pd.DataFrame:
    """The cumulative figures OWID reported, one row per day of :func:`national_daily`:
    ``date``, ``reported_total`` (``total_vaccinations``), ``reported_people``
    (``people_vaccinated``), ``reported_fully`` (``people_fully_vaccinated``), nullable
    integers (``<NA>`` on days with no report)."""
    return _national_daily()[["date", *REPORTED_COLUMNS]].copy()


def live_day() -> dict[str, int]:
    """The busy day the live feed replays, at scale 1: ``doses`` and its split into
    ``first``, ``second``, ``booster`` (they sum to ``doses``).

    The volume is the median of the 7-day mean daily doses over the campaign's 30 busiest
    days (by that mean); the split is that of the campaign's last 12 months, mostly boosters
    and later doses of a series (``registry/data/README.md`` gives the figures). Real data
    give no intraday profile: when in the day doses fall is the simulator's assumption."""
    return dict(_live_day())


def provinces() -> pd.DataFrame:
    """The 63 provinces: code, name, sites, snapshot doses (``provinces.csv``) and
    populations (geo's)."""
    return _provinces().copy()


def province_codes() -> list[str]:
    """The 63 GSO codes (2-character strings) in ``provinces.csv`` order — the order of every
    per-province array this module returns."""
    return [str(code) for code in _provinces()["gso_code"]]


def sites_per_province() -> IntArray:
    """Vaccination sites per province on the 2021-08-04 snapshot (sums to 8,182)."""
    return _provinces()["sites"].to_numpy(dtype=np.int64).copy()


#: Snapshot site counts at or below this are treated as an unfilled portal field.
UNFILLED_SITE_COUNT = 1


def simulated_sites_per_province() -> IntArray:
    """Sites per province for the simulator: the snapshot's counts, except where the portal's
    field was evidently unfilled (16 provinces show 0 or 1 site, among them Hồ Chí Minh City,
    which gave a quarter of the country's doses). Those get the national ratio of sites to
    adults (from the 47 provinces with real counts) times their 18+ population."""
    table = _provinces()
    sites = table["sites"].to_numpy(dtype=np.int64)
    adults = table["population_18plus"].to_numpy(dtype=np.float64)
    real = sites > UNFILLED_SITE_COUNT
    per_adult = sites[real].sum() / adults[real].sum()
    imputed = np.maximum(np.rint(adults * per_adult).astype(np.int64), 1)
    return np.where(real, sites, imputed)


def vaccines() -> pd.DataFrame:
    """The products used in the campaign (:func:`geo.products.campaign_products`), one row
    each, keyed by ``code`` (the EU DCC medicinal-product value-set key)."""
    return campaign_products()


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def daily_targets(scale: float, until: date | None = None) -> pd.DataFrame:
    """Integer daily targets at scale ``scale``: ``date, doses, first, second, booster``.

    ``doses`` is the difference of ``round(scale × real cumulative doses)``, so over any
    period starting on the first day the simulated total is within 0.5 of ``scale`` × the real
    total (on every day OWID reported a total, within 0.5 of ``scale`` × that reported total)
    and each day is within 1 of ``scale`` × that day. The daily doses are then split
    into first / second / booster by largest remainder on how far each kind's simulated
    cumulative lags ``scale`` × its real cumulative: the split carries its rounding forward
    instead of losing it, so each kind's cumulative also stays within about one dose of its
    scaled real value (under 1 for scales down to 0.001), and ``first + second + booster ==
    doses`` on every day. At
    ``scale = 1`` the result equals :func:`national_daily`.

    ``until`` (inclusive) cuts the table; it does not change the values before it.
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale}")
    frame = _targets(float(scale)).copy()
    if until is not None:
        frame = frame[frame["date"] <= pd.Timestamp(until)].reset_index(drop=True)
    return frame


@lru_cache(maxsize=8)
def _targets(scale: float) -> pd.DataFrame:
    real = _national_daily()
    real_cum = real[["doses", *DOSE_KINDS]].cumsum().to_numpy(dtype=np.float64) * scale
    doses_cum = np.rint(real_cum[:, 0]).astype(np.int64)
    doses = np.diff(doses_cum, prepend=0)
    target_cum = real_cum[:, 1:]
    parts = np.zeros((len(real), len(DOSE_KINDS)), dtype=np.int64)
    given = np.zeros(len(DOSE_KINDS), dtype=np.int64)
    for day in range(len(real)):  # ~845 days: a loop over days, not over people
        n = int(doses[day])
        if n:
            parts[day] = _split_day(n, np.clip(target_cum[day] - given, 0.0, None))
            given += parts[day]
    result = pd.DataFrame({"date": real["date"].to_numpy(), "doses": doses})
    for i, kind in enumerate(DOSE_KINDS):
        result[kind] = parts[:, i]
    return result


def _split_day(n: int, quota: FloatArray) -> IntArray:
    """Split ``n`` doses over the kinds whose cumulative lags its target by ``quota`` (>= 0).

    Largest remainder on the exact quotas (not rescaled to ``n``): each kind gets the floor of
    its lag, and the few units by which ``n`` differs from the floors' sum are added to the
    largest fractional lags, or taken from the smallest, so every kind ends the day within
    about one dose of its target.
    """
    base = np.floor(quota).astype(np.int64)
    fraction = quota - base
    left = n - int(base.sum())
    if left > 0:
        base += left // base.size
        base[np.argsort(-fraction, kind="stable")[: left % base.size]] += 1
    elif left < 0:
        for k in np.argsort(fraction, kind="stable"):
            take = min(int(base[k]), -left)
            base[k] -= take
            left += take
            if left == 0:
                break
    return base


def province_weights(day: date, kind: str) -> FloatArray:
    """Share of a day's doses of ``kind`` per province (63 weights, ``provinces.csv`` order).

    ``first`` / ``second``: up to and including the snapshot day (2021-08-04) the snapshot's
    dose-1 / dose-2 shares — the real provincial distribution of the early campaign (Hồ Chí
    Minh City alone had 26 % of doses); then a linear blend over :data:`BLEND_DAYS` days
    towards the provinces' shares of the MoH 18+ population, then the 18+ shares, since
    coverage ended up nearly uniform across provinces. ``booster``: the 18+ shares throughout
    (boosters started in late 2021, after the blend).
    """
    shares = _shares()
    adult = shares["adult"]
    if kind == "booster":
        return adult.copy()
    if kind not in ("first", "second"):
        raise ValueError(f"kind must be one of {DOSE_KINDS}, got {kind!r}")
    snapshot = shares[kind]
    elapsed = (_as_date(day) - SNAPSHOT_DAY).days
    if elapsed <= 0:
        return snapshot.copy()
    if elapsed >= BLEND_DAYS:
        return adult.copy()
    alpha = elapsed / BLEND_DAYS
    blended = (1.0 - alpha) * snapshot + alpha * adult
    return np.asarray(blended / blended.sum(), dtype=np.float64)


def vaccine_mix(day: date) -> tuple[list[str], FloatArray]:
    """Product codes and their shares of doses for the mix period containing ``day``.

    The periods (``vaccine_mix.csv``) are an approximation from public reporting, not an
    official series. Raises :class:`ValueError` before the first period (2021-03-08).
    """
    day = _as_date(day)
    current = None
    for period in _vaccine_mix():
        if period[0] <= day:
            current = period
        else:
            break
    if current is None:
        raise ValueError(f"{day} is before the first vaccine-mix period")
    return list(current[1]), np.array(current[2], dtype=np.float64)


def _as_date(value: date) -> date:
    """Accept ``date``, ``datetime`` or ``pd.Timestamp`` and return a plain ``date``."""
    if isinstance(value, datetime):  # also pd.Timestamp, a datetime subclass
        return value.date()
    return value
