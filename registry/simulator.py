"""A national vaccination campaign, day by day, the way Vietnam's 2021–2023 campaign ran.

Calibration (``registry/calibration.py``, real data shipped in ``registry/data/``):

* national doses per day = scale × the real series, split into first doses, later doses of
  a primary series and doses beyond it, by the real people-vaccinated, fully-vaccinated and
  booster columns (``registry/data/README.md`` says why "fully vaccinated" is read as every
  primary-series dose after the first);
* first doses go to provinces by the real 2021-08-04 shares until that day, then move
  towards the 18+ population shares; site counts per province are the real ones;
* products follow a dated mix (AstraZeneca first, then Sinopharm, Pfizer, Moderna, …).

People are FIFO queues read back from the registry itself. A product's primary series is its
``primary_doses`` (Janssen 1, Abdala 3, the others 2), the length the certificate rules
(``certificates.rules``) use. A day's primary-series doses go first to people with a series
in progress past its second dose (Abdala's third dose, 14 days after the second), then to the
oldest valid first doses whose product's minimum interval has passed; boosters go to the
oldest completed series (dose 1 of Janssen, dose 2 of the 2-dose products, dose 3 of Abdala),
and, from June 2022, some fourth doses to the oldest third-dose boosters. Only a cursor per
queue is kept in memory, so memory stays flat whatever the scale. When a queue cannot supply
a day's quota (too few eligible people), the shortfall is given as first doses, so the
national daily total always equals the target. A queue is read only up to the last dose of
the last day whose doses can be due (the last dose_id of each day is kept), and its cursor
moves past what it has read in full, so a queue that waits (Abdala's third doses before
Abdala arrives) costs no scan of the whole table.

Products of later doses keep a person's series length (`later_products`), so each dose is
primary, completing or a booster by its own product and number — what the portal counts per
dose — exactly as the certificate rules judge the person.

Every random draw comes from one generator seeded by ``--seed``: the same options give the
same registry. A configurable share of realistic errors is injected (`ErrorRates`).
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, ForeignKeyConstraint, Index, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from geo.calendar import CAMPAIGN_END, CAMPAIGN_START, SNAPSHOT_DAY, TIME_ZONE
from registry import calibration, people, stock
from registry.backlog import SITE_FIXES_TYPOS, Backlog
from registry.bulk import BulkWriter, Write
from registry.models import Base, Dose
from registry.sample import record_sample, seeded_description
from registry.sites import day_products, make_sites, site_product_or

log = logging.getLogger(__name__)

FOURTH_DOSES_FROM = date(2022, 6, 1)
FOURTH_DOSE_SHARE = 0.3
#: Boosters go to the oldest second doses first (FIFO), so most wait months; the floor is
#: the 28 days MoH allowed for priority groups, which binds only in January 2022, when the
#: real booster drive outran the cohort that was three months past its second dose.
BOOSTER_MIN_DAYS = 28
FOURTH_MIN_DAYS = 120
#: Share of a primary series' later doses given with another product of the same series
#: length (mixed schedules).
SWITCH_SHARE = 0.1
INVALID_PROVINCE_CODES = np.array(["00", "03", "05", "09", "99"])
#: The dose_ids the simulated sites record: "VN" and a serial in time order.
SITE_DOSE_PREFIX = "VN"
#: Seconds before the dose that the QR check-in happens (min, max).
CHECKIN_LEAD = (3 * 60, 45 * 60)
#: Share of doses booked through the phone app first, and of bookings never attended.
REGISTERED_SHARE = 0.4
NO_SHOW_SHARE = 0.04


@dataclass(frozen=True)
class ErrorRates:
    """Shares of injected errors; `scaled(total)` spreads one overall rate over the kinds."""

    name_typo: float = 0.0
    cccd_mismatch: float = 0.0
    unknown_province: float = 0.0
    future_time: float = 0.0
    duplicate: float = 0.0
    correction: float = 0.0
    void: float = 0.0
    unrecorded: float = 0.0

    @classmethod
    def scaled(cls, total: float) -> ErrorRates:
        # unrecorded doses (given, never entered): about a sixth of the identity errors, as
        # in the MoH's count of April 2022 (7.6 million doses never entered, 43.5 million
        # with wrong details; `registry.backlog`); taken from the duplicates' share
        weights = {
            "name_typo": 0.25,
            "cccd_mismatch": 0.10,
            "unknown_province": 0.10,
            "future_time": 0.05,
            "duplicate": 0.14,
            "correction": 0.20,
            "void": 0.10,
            "unrecorded": 0.06,
        }
        return cls(**{name: total * weight for name, weight in weights.items()})


@dataclass(frozen=True)
class SeedOptions:
    scale: float = 0.01
    until: date = CAMPAIGN_END
    seed: int = 1
    error_rate: float = 0.005

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 1.0:
            raise ValueError("scale must be in (0, 1]")
        if not 0 <= self.error_rate < 0.5:
            raise ValueError("error rate must be in [0, 0.5)")
        if not CAMPAIGN_START <= self.until <= CAMPAIGN_END:
            raise ValueError(f"until must be between {CAMPAIGN_START} and {CAMPAIGN_END}")


@dataclass
class QueueCursor:
    """Where a FIFO queue of earlier doses stands: the last dose_id taken, and its citizen
    (a duplicate record of the same dose sits right after the original and is skipped)."""

    after: str = ""
    last_citizen: str = ""


@dataclass
class Campaign:
    """The little state that carries from one day to the next."""

    rng: np.random.Generator
    rates: ErrorRates
    sites: pd.DataFrame
    vaccines: pd.DataFrame
    dose_serial: int = 1
    registration_serial: int = 1
    checkin_serial: int = 1
    movement_serial: int = 1
    transfer_serial: int = 1
    queues: dict[str, QueueCursor] = field(default_factory=dict)
    #: the last dose_id of each generated day, in day order (at most one entry per day)
    day_ends: list[tuple[date, str]] = field(default_factory=list)
    recent: deque[pd.DataFrame] = field(default_factory=lambda: deque(maxlen=2))
    pending_typos: list[pd.DataFrame] = field(default_factory=list)
    #: the stock model, and the movement rows it made that are not written yet
    stock_model: stock.StockState | None = None
    stock_rows: list[pd.DataFrame] = field(default_factory=list)
    issuer: people.CccdIssuer = field(default_factory=people.CccdIssuer)
    #: the sample's population and the first doses given so far, per province
    #: (``calibration.province_codes()`` order)
    population: np.ndarray = field(default_factory=lambda: np.ones(1))
    first_given: np.ndarray = field(
        default_factory=lambda: np.zeros(len(calibration.province_codes()), dtype=np.int64)
    )
    #: the citizens' correction requests about the errors (`registry.backlog`)
    backlog: Backlog | None = None


@dataclass
class SeedReport:
    counts: dict[str, int]
    doses: int
    seconds: float
    shortfall_to_first: int = 0
    #: per injected error: errors that could be claimed by the last day, requests filed
    corrections: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "command": "seed",
            "doses": self.doses,
            "rows": self.counts,
            "shortfall_given_as_first_doses": self.shortfall_to_first,
            "correction_requests_by_error": self.corrections,
            "seconds": round(self.seconds, 2),
            "doses_per_second": round(self.doses / self.seconds) if self.seconds else None,
        }


# -- reference data and sites -------------------------------------------------------------------


def write_reference_data(writer: BulkWriter, sites: pd.DataFrame) -> None:
    provinces = calibration.provinces()[["gso_code", "name_vi"]]
    vaccines = calibration.vaccines()[["code", "name", "manufacturer", "primary_doses"]]
    existing = {
        row[0]
        for row in writer.connection.execute(text("SELECT gso_code FROM provinces")).fetchall()
    }
    writer.insert("provinces", provinces[~provinces["gso_code"].isin(existing)])
    known = {row[0] for row in writer.connection.execute(text("SELECT code FROM vaccines"))}
    writer.insert("vaccines", vaccines[~vaccines["code"].isin(known)])
    writer.insert("sites", writer.stamp(sites))


# -- one day ------------------------------------------------------------------------------------


def _day_start(day: date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(TIME_ZONE)


def _times_at_sites(
    rng: np.random.Generator, days: pd.Series, site_rows: pd.DataFrame
) -> pd.Series:
    """Administration times: on each row's day, within its site's opening hours, busier in
    the morning."""
    opens = site_rows["opens_minute"].to_numpy()
    closes = site_rows["closes_minute"].to_numpy()
    shape = rng.beta(1.6, 2.2, len(site_rows))
    minutes = opens + shape * (closes - opens - 1)
    seconds = (minutes * 60 + rng.integers(0, 60, len(site_rows))).astype("int64")
    starts = pd.to_datetime(days.to_numpy()).tz_localize(TIME_ZONE)
    return pd.Series(starts + pd.to_timedelta(seconds, unit="s"), index=days.index)


def _serials(start: int, count: int, prefix: str, width: int) -> pd.Series:
    numbers = pd.Series(np.arange(start, start + count)).astype(str).str.zfill(width)
    return prefix + numbers


def _lot_numbers(codes: pd.Series, day: date) -> pd.Series:
    """Each product's lot of the last scheduled national delivery on or before `day`
    (e.g. ``PFIZ-210816``); a seeded dose's own lot comes from the stock model."""
    return stock.scheduled_lot_numbers(codes, day)


CITIZEN_COLUMNS = ["citizen_id", "full_name", "date_of_birth", "sex", "phone", "residence_province"]
DOSE_COLUMNS = ["dose_id", "version", "status", "citizen_id", "site_id", "province_code",
                "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at"]  # fmt: skip
#: What the next step needs of a step's doses: their corrections and voids, and the
#: backlog's claims about the voided ones.
RECENT_COLUMNS = ["dose_id", "version", "status", "lot_number", "vaccine_code", "citizen_id",
                  "site_id", "administered_at", "copy"]  # fmt: skip
QUEUE_COLUMNS = [
    "dose_id", "citizen_id", "site_id", "vaccine_code", "dose_number", "administered_at"
]  # fmt: skip


@dataclass(frozen=True)
class Queue:
    """A FIFO queue of earlier doses: the valid doses numbered `n` of the products `codes`,
    for each `(n, codes)` of `sources`, in dose_id order. Its next dose is numbered `n + 1`,
    due `wait_days[product]` days after the dose waiting."""

    name: str
    sources: tuple[tuple[int, tuple[str, ...]], ...]
    wait_days: Mapping[str, int]

    @property
    def shortest_wait(self) -> int:
        return min(self.wait_days.values(), default=0)

    def waits(self, codes: pd.Series) -> pd.Series | int:
        """The wait of each dose of these products (one number when all wait as long)."""
        if len(set(self.wait_days.values())) <= 1:
            return self.shortest_wait
        return codes.map(self.wait_days).astype("int64")


def series_lengths(vaccines: pd.DataFrame) -> dict[str, int]:
    """Doses in each product's primary series (``primary_doses``: Janssen 1, Abdala 3)."""
    return {
        str(c): int(n) for c, n in zip(vaccines["code"], vaccines["primary_doses"], strict=True)
    }


def primary_queue(
    lengths: Mapping[str, int], dose_number: int, min_interval: Mapping[str, int]
) -> Queue:
    """Doses `dose_number` of the products whose primary series is longer: next, dose
    `dose_number + 1` of that series (1: the 2- and 3-dose products; 2: Abdala), after the
    product's minimum interval."""
    codes = tuple(sorted(c for c, n in lengths.items() if n > dose_number))
    waits = {code: int(min_interval[code]) for code in codes}
    return Queue(f"primary-{dose_number}", ((dose_number, codes),), waits)


def booster_queue(lengths: Mapping[str, int], days: int = BOOSTER_MIN_DAYS) -> Queue:
    """The doses that complete a primary series (dose 1 of Janssen, dose 2 of the 2-dose
    products, dose 3 of Abdala): next, a first booster."""
    sources = tuple(
        (number, tuple(sorted(c for c, n in lengths.items() if n == number)))
        for number in sorted(set(lengths.values()))
    )
    return Queue("booster", sources, dict.fromkeys(lengths, days))


def fourth_queue(lengths: Mapping[str, int], days: int = FOURTH_MIN_DAYS) -> Queue:
    """Third doses that are boosters (of a product whose series is shorter): next, dose 4."""
    codes = tuple(sorted(c for c, n in lengths.items() if n < 3))
    return Queue("fourth", ((3, codes),), dict.fromkeys(codes, days))


def read_queue(
    connection: Connection, cursor: QueueCursor, queue: Queue, wanted: int, upto: str
) -> tuple[pd.DataFrame, bool]:
    """Up to `wanted` oldest valid doses of `queue` after the cursor (not advanced) and up to
    the dose_id `upto`, and whether that is all of them (every such dose was read)."""
    sources = [(number, codes) for number, codes in queue.sources if codes]
    if wanted <= 0 or not sources or upto <= cursor.after:
        return pd.DataFrame(columns=QUEUE_COLUMNS), False
    limit = int(wanted * 1.02) + 8
    cursor_ = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    marker = "?" if connection.dialect.name == "sqlite" else "%s"
    matches = " OR ".join(
        f"(dose_number = {marker} AND vaccine_code IN ({', '.join([marker] * len(codes))}))"
        for _, codes in sources
    )
    # the sites' own records ("VN…", numbered in time order) only: a dose added later by an
    # approved correction request ("VC…", `registry.corrections`) sorts before them all and
    # would stop the FIFO prefix at a dose not yet due
    values: list[object] = [max(cursor.after, SITE_DOSE_PREFIX), upto]
    for number, codes in sources:
        values += [number, *codes]
    cursor_.execute(
        "SELECT dose_id, citizen_id, site_id, vaccine_code, dose_number, administered_at "
        f"FROM doses WHERE dose_id > {marker} AND dose_id <= {marker} AND ({matches}) "
        f"AND status = 'valid' ORDER BY dose_id LIMIT {marker}",
        (*values, limit),
    )
    rows = cursor_.fetchall()
    cursor_.close()
    if not rows:
        return pd.DataFrame(columns=QUEUE_COLUMNS), True
    frame = pd.DataFrame(rows, columns=QUEUE_COLUMNS)
    times = frame["administered_at"]
    frame["administered_at"] = (
        pd.to_datetime(times, format="%Y-%m-%d %H:%M:%S").dt.tz_localize("UTC")
        if connection.dialect.name == "sqlite"
        else pd.to_datetime(times, utc=True)
    )
    repeated = frame["citizen_id"].eq(frame["citizen_id"].shift(fill_value=cursor.last_citizen))
    return frame.loc[~repeated], len(rows) < limit


def take_eligible(
    queue: pd.DataFrame, wanted: int, day: date, min_days: pd.Series | int
) -> pd.DataFrame:
    """The longest prefix of `queue` (at most `wanted`) whose interval has passed by `day`.

    Rows dated after `day` (injected future-time errors) are passed over, never waited for.
    """
    if queue.empty or wanted <= 0:
        return queue.iloc[:0]
    start = _day_start(day)
    plausible = (queue["administered_at"] < start + pd.Timedelta(days=1)).to_numpy()
    limit = start - pd.to_timedelta(min_days, unit="D")
    eligible = (queue["administered_at"] <= limit).to_numpy() | ~plausible
    stop = len(eligible) if eligible.all() else int(np.argmin(eligible))
    prefix = queue.iloc[:stop]
    return prefix.loc[plausible[:stop]].iloc[:wanted]


def _advance(cursor: QueueCursor, taken: pd.DataFrame) -> None:
    if len(taken):
        cursor.after = str(taken["dose_id"].iloc[-1])
        cursor.last_citizen = str(taken["citizen_id"].iloc[-1])


def products_for(
    rng: np.random.Generator,
    days: pd.Series,
    lengths: Mapping[str, int],
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    fallback: np.ndarray | None = None,
) -> np.ndarray:
    """A product for each row from its day's mix (exact shares, shuffled), among the products
    whose primary series has `low` to `high` doses (per row; any when not given), their
    shares renormalised. A row whose day's mix has no such product keeps its `fallback`."""
    n = len(days)
    keys = pd.DataFrame(
        {
            "day": days.to_numpy(),
            "low": np.ones(n, dtype=np.int64) if low is None else low,
            "high": np.full(n, max(lengths.values()), dtype=np.int64) if high is None else high,
        }
    )
    out = np.empty(n, dtype=object)
    for (day, lo, hi), rows in keys.groupby(["day", "low", "high"], sort=True).indices.items():
        codes, shares = calibration.vaccine_mix(day)
        series = np.array([lengths[code] for code in codes])
        allowed = (series >= lo) & (series <= hi)
        if not allowed.any():
            if fallback is None:
                raise ValueError(f"no product of {lo}-{hi} doses in the mix of {day}")
            out[rows] = fallback[rows]
            continue
        counts = calibration.allocate(len(rows), shares[allowed])
        chosen = np.repeat(np.array(codes, dtype=object)[allowed], counts)
        out[rows] = rng.permutation(chosen)
    return out


def later_products(
    rng: np.random.Generator,
    days: pd.Series,
    previous: pd.Series,
    dose_number: pd.Series,
    lengths: Mapping[str, int],
) -> np.ndarray:
    """Products of later doses (`previous`: the product of each person's previous dose).

    A dose within the primary series keeps the product, or (`SWITCH_SHARE`, mixed schedules)
    takes one of the day's products with the same series length: a person who started Abdala
    completes with Abdala, and the series ends at the dose the certificate rules (shortest
    series among the products received) say it does. A booster is one of the day's products
    whose own series is shorter than its dose number (never Abdala as a third dose). So every
    dose is primary, completing or a booster by its own product and number, which is how the
    portal counts them. When the day's mix has no such product, the previous one is kept.
    """
    before = previous.to_numpy(dtype=object)
    number = dose_number.to_numpy(dtype=np.int64)
    series = np.array([lengths[code] for code in before], dtype=np.int64)
    primary = number <= series
    redraw = ~primary | (rng.random(len(number)) < SWITCH_SHARE)
    out = before.copy()
    if redraw.any():
        low = np.where(primary, series, 1)
        high = np.where(primary, series, number - 1)
        out[redraw] = products_for(
            rng, days[redraw], lengths, low[redraw], high[redraw], before[redraw]
        )
    return out


def sites_for(rng: np.random.Generator, sites: pd.DataFrame, provinces: np.ndarray) -> pd.DataFrame:
    """A site in each given province, chosen in proportion to daily capacity (vectorised).

    `sites` must be sorted by province (as `make_sites` and the live loader return them):
    within each province the cumulative capacity share runs over (0, 1], so searching
    ``rank(province) + u`` in ``rank + share`` picks a site of the right province.
    """
    codes, rank = np.unique(sites["province_code"].to_numpy(), return_inverse=True)
    capacity = sites["daily_capacity"].to_numpy(dtype=float)
    totals = np.bincount(rank, weights=capacity)
    within = (pd.Series(capacity).groupby(rank).cumsum().to_numpy()) / totals[rank]
    keys = rank + within
    if np.any(np.diff(keys) <= 0):
        raise ValueError("sites must be sorted by province")
    if not np.isin(provinces, codes).all():
        raise ValueError("a province has no vaccination site")
    wanted = np.searchsorted(codes, provinces)
    chosen = np.searchsorted(keys, wanted + rng.random(len(provinces)), side="left")
    return sites.iloc[np.minimum(chosen, len(sites) - 1)].reset_index(drop=True)


def _age_bands(day: date) -> list[tuple[int, int, float]]:
    """Who gets first doses: adults first, 12–17 from late 2021, 5–11 from April 2022."""
    if day < date(2021, 10, 15):
        return [(18, 90, 1.0)]
    if day < date(2022, 4, 1):
        return [(18, 90, 0.6), (12, 17, 0.4)]
    return [(18, 90, 0.3), (12, 17, 0.1), (5, 11, 0.6)]


class CampaignStep:
    """Builds and writes a few consecutive days (at most `STEP_DAYS`, never across a month's
    end) in one transaction. Queues are still read day by day; composing and writing happen
    once per step, which keeps the fixed cost per day small. A step is shorter than the
    shortest interval between doses, so a step never needs its own unwritten doses."""

    def __init__(self, campaign: Campaign, reader: Connection, days: list[date]) -> None:
        self.c = campaign
        self.reader = reader
        self.days = days
        self.day = days[-1]
        self.rng = campaign.rng
        self.writes: list[Write] = []
        self.lengths = series_lengths(campaign.vaccines)

    # -- who is vaccinated --------------------------------------------------------------------
    def follow_up_doses(self, day: date, queue: Queue, wanted: int) -> pd.DataFrame:
        cursor = self.c.queues.setdefault(queue.name, QueueCursor())
        # doses given after this day cannot be due yet (the queue's shortest wait), nor has
        # this step written any: the read stops there
        due = min(day - timedelta(days=queue.shortest_wait + 1), self.days[0] - timedelta(days=1))
        upto = self.last_dose_until(due)
        waiting, complete = read_queue(self.reader, cursor, queue, wanted, upto)
        taken = waiting
        if len(waiting):
            taken = take_eligible(waiting, wanted, day, queue.waits(waiting["vaccine_code"]))
            _advance(cursor, taken)
        if complete and len(taken) == len(waiting):
            cursor.after = upto  # every dose of the queue up to there is taken
        return taken.assign(dose_number=taken["dose_number"].astype("int64") + 1, day=day)

    def last_dose_until(self, day: date) -> str:
        """The last dose_id given on or before `day` ("" when none)."""
        ends = self.c.day_ends
        found = bisect_right(ends, day, key=lambda end: end[0])
        return ends[found - 1][1] if found else ""

    def first_dose_weights(self, day: date) -> np.ndarray:
        """Each province's share of the day's first doses: the calibrated share
        (`calibration.province_weights`), after the snapshot day scaled by the share of the
        province's people not yet vaccinated, so a province ahead of the others (Hồ Chí
        Minh City, Bắc Ninh, vaccinated first in the 2021 outbreak) gets fewer of the later
        first doses and coverage ends nearly even across provinces, as it really did."""
        weights = calibration.province_weights(day, "first")
        if day <= SNAPSHOT_DAY:
            return weights
        room = np.maximum(self.c.population - self.c.first_given, 0) / self.c.population
        adjusted = weights * room
        return adjusted / adjusted.sum() if adjusted.sum() > 0 else weights

    def new_people(self, day: date, count: int) -> pd.DataFrame:
        codes = np.array(calibration.province_codes())
        per_province = calibration.allocate(count, self.first_dose_weights(day))
        self.c.first_given += per_province
        provinces = np.repeat(codes, per_province)
        bands = _age_bands(day)
        per_band = calibration.allocate(count, np.array([share for _, _, share in bands]))
        order = self.rng.permutation(count)
        frames = []
        start = 0
        for (low, high, _), n in zip(bands, per_band, strict=True):
            chosen = provinces[order[start : start + n]]
            frames.append(
                people.make_people(
                    self.rng,
                    n,
                    on_day=day,
                    min_age=low,
                    max_age=high,
                    province_codes=chosen,
                    issuer=self.c.issuer,
                )
            )
            start += n
        return pd.concat(frames, ignore_index=True).assign(day=day)

    def sites_for(self, provinces: np.ndarray) -> pd.DataFrame:
        return sites_for(self.rng, self.c.sites, provinces)

    def site_products(self, site_ids: pd.Series, days: pd.Series) -> np.ndarray:
        """Each row's site's product of its day (`sites.day_products`)."""
        position = pd.Index(self.c.sites["site_id"]).get_indexer(site_ids)
        out = np.empty(len(site_ids), dtype=object)
        day_values = days.to_numpy(dtype=object)
        for day in pd.unique(day_values):
            rows = day_values == day
            out[rows] = day_products(len(self.c.sites), day)[position[rows]]
        return out

    # -- the step ------------------------------------------------------------------------------
    def run(self, targets: list[tuple[int, int, int]]) -> tuple[int, int]:
        """Generate the step's days; `targets` are each day's (first, second, booster) doses:
        first doses, later doses of a primary series, doses beyond it."""
        min_interval = self.c.vaccines.set_index("code")["min_interval_days"]
        # a series in progress past its second dose is completed first (Abdala's third dose)
        primaries = [
            primary_queue(self.lengths, number, min_interval)
            for number in range(max(self.lengths.values()) - 1, 0, -1)
        ]
        boosters, fourths_queue = booster_queue(self.lengths), fourth_queue(self.lengths)
        newcomers, returning = [], []
        shortfall = 0
        for day, (first, second, booster) in zip(self.days, targets, strict=True):
            left = second
            for queue in primaries:
                taken = self.follow_up_doses(day, queue, left)
                left -= len(taken)
                returning.append(taken)
            fourth_wanted = round(booster * FOURTH_DOSE_SHARE) if day >= FOURTH_DOSES_FROM else 0
            fourths = self.follow_up_doses(day, fourths_queue, fourth_wanted)
            thirds = self.follow_up_doses(day, boosters, booster - len(fourths))
            missing = left + booster - len(fourths) - len(thirds)
            shortfall += missing
            newcomers.append(self.new_people(day, first + missing))
            returning += [thirds, fourths]
        citizens = pd.concat(newcomers, ignore_index=True)
        doses = self.compose_doses(citizens, pd.concat(returning, ignore_index=True))
        self.write(citizens, doses)
        return len(doses), shortfall

    def compose_doses(self, citizens: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
        """The step's doses: first doses at a site of the person's province, later doses
        mostly back at their site; each site gives its product of the day
        (`sites.day_products`) to everyone it may (`sites.site_product_or`)."""
        rng = self.rng
        first = pd.DataFrame(
            {
                "citizen_id": citizens["citizen_id"],
                "site_id": self.sites_for(citizens["residence_province"].to_numpy())["site_id"],
                "dose_number": 1,
                "day": citizens["day"],
                "previous_id": None,
            }
        )
        first["vaccine_code"] = self.site_products(first["site_id"], first["day"])
        if len(later):
            # most return to the same site; some move to another site of the same province
            moved = rng.random(len(later)) < 0.2
            site_province = self.c.sites.set_index("site_id")["province_code"]
            provinces = later["site_id"].map(site_province).to_numpy()
            if moved.any():
                later.loc[moved, "site_id"] = self.sites_for(provinces[moved])["site_id"].to_numpy()
            # boosters and a share of primary doses use the day's products (mixed schedules)
            chosen = later_products(
                rng, later["day"], later["vaccine_code"], later["dose_number"], self.lengths
            )
            later["vaccine_code"] = site_product_or(
                self.site_products(later["site_id"], later["day"]),
                later["vaccine_code"].to_numpy(dtype=object),
                later["dose_number"].to_numpy(dtype=np.int64),
                self.lengths,
                chosen,
            )
        columns = ["citizen_id", "site_id", "vaccine_code", "dose_number", "day", "previous_id"]
        # each later dose keeps the dose_id of the dose before it (the backlog's records)
        later = later.reindex(columns=[*columns[:-1], "dose_id"])
        later.columns = pd.Index(columns)
        doses = pd.concat([first, later], ignore_index=True)
        site_rows = self.c.sites.set_index("site_id").loc[doses["site_id"]].reset_index()
        doses["province_code"] = site_rows["province_code"].to_numpy()
        doses["administered_at"] = _times_at_sites(rng, doses["day"], site_rows)
        doses = doses.sort_values("administered_at", kind="stable").reset_index(drop=True)
        doses["lot_number"] = _lot_numbers(doses["vaccine_code"], self.day)
        delay = rng.integers(60, 20 * 60, len(doses))
        late = rng.random(len(doses)) < 0.01
        delay = np.where(late, rng.integers(86_400, 3 * 86_400, len(doses)), delay)
        doses["recorded_at"] = doses["administered_at"] + pd.to_timedelta(delay, unit="s")
        doses["version"] = 1
        doses["status"] = "valid"
        return self.with_duplicates(doses)

    def with_duplicates(self, doses: pd.DataFrame) -> pd.DataFrame:
        """Number the doses; a few are recorded twice, the copy right after the original."""
        copies = self.rng.random(len(doses)) < self.c.rates.duplicate
        source = doses.index.repeat(np.where(copies, 2, 1))
        is_copy = source.duplicated(keep="first")
        doses = doses.loc[source].reset_index(drop=True)
        doses.loc[is_copy, "recorded_at"] += pd.Timedelta(hours=2)
        doses["copy"] = is_copy
        doses["dose_id"] = _serials(self.c.dose_serial, len(doses), SITE_DOSE_PREFIX, 12).to_numpy()
        self.c.dose_serial += len(doses)
        # ids follow the days (sorted by time): a day's last id bounds the queue reads
        self.c.day_ends += sorted(doses.groupby("day")["dose_id"].max().items())
        return doses

    def write(self, citizens: pd.DataFrame, doses: pd.DataFrame) -> None:
        """Queue the step's rows (with their injected errors) for the writer."""
        rng, rates = self.rng, self.c.rates
        doses = doses.assign(lot_number=supply(self.c, doses, self.days))
        citizens = citizens.copy()
        typo, typo_mask = people.typo_names(rng, citizens["full_name"], rates.name_typo)
        self.c.pending_typos.append(
            pd.DataFrame({"citizen_id": citizens.loc[typo_mask, "citizen_id"],
                          "full_name": citizens.loc[typo_mask, "full_name"],
                          "due": self.day + timedelta(days=int(rng.integers(1, 10)))})
        )  # fmt: skip
        citizens["full_name"] = typo
        ids, changed = people.mismatch_cccd(rng, citizens["citizen_id"], rates.cccd_mismatch)
        if changed.any():
            ids = self._unique_anomalies(ids, changed)
            mapping = dict(zip(citizens.loc[changed, "citizen_id"], ids[changed], strict=True))
            doses["citizen_id"] = doses["citizen_id"].replace(mapping)
            citizens["citizen_id"] = ids
            typos = self.c.pending_typos[-1]
            typos["citizen_id"] = typos["citizen_id"].replace(mapping)
        self.writes.append(Write("citizens", citizens[CITIZEN_COLUMNS]))
        backlog = self.c.backlog
        if backlog is not None:
            backlog.new_misspelt(citizens.loc[typo_mask, "citizen_id"])

        doses = doses.copy()
        unknown = rng.random(len(doses)) < rates.unknown_province
        doses.loc[unknown, "province_code"] = rng.choice(INVALID_PROVINCE_CODES, int(unknown.sum()))
        future = rng.random(len(doses)) < rates.future_time
        doses.loc[future, "administered_at"] += pd.DateOffset(years=10)
        checkins = self.checkins_for(doses)
        self.writes.append(Write("checkins", checkins))
        self.writes.append(Write("registrations", self.registrations_for(checkins)))
        versions: dict[str, tuple[int, str]] = {}
        lost = None  # doses checked in, given, never recorded
        if backlog is not None:
            backlog.copies(doses, future)
            lost = backlog.unrecorded_doses(doses, future)
        recorded = slice(None) if lost is None else ~lost
        self.writes.append(Write("doses", doses.loc[recorded, DOSE_COLUMNS]))
        if backlog is not None:
            requests, versions = backlog.play(self.reader, self.days, doses, lost)
            self.writes += requests
        self.corrections_and_voids(versions)
        recent = doses.loc[recorded, RECENT_COLUMNS]
        _patch_versions(recent, versions)
        self.c.recent.append(recent)
        self.fix_due_typos()

    def _unique_anomalies(self, ids: pd.Series, changed: np.ndarray) -> pd.Series:
        """Re-serial inconsistent CCCDs within the block their wrong digits point to, through
        the issuer, so an erroneous ID never collides with a real one."""
        wrong = ids[changed]
        serials = self.c.issuer.issue(
            wrong.str[:3].astype(int).to_numpy(),
            wrong.str[3].astype(int).to_numpy(),
            wrong.str[4:6].astype(int).to_numpy(),
        )
        out = ids.copy()
        out[changed] = wrong.str[:6] + pd.Series(serials, index=wrong.index).astype(str).str.zfill(
            6
        )
        return out

    def checkins_for(self, doses: pd.DataFrame) -> pd.DataFrame:
        lead = self.rng.integers(*CHECKIN_LEAD, len(doses))
        frame = pd.DataFrame(
            {
                "checkin_id": np.arange(self.c.checkin_serial, self.c.checkin_serial + len(doses)),
                "site_id": doses["site_id"].to_numpy(),
                "citizen_id": doses["citizen_id"].to_numpy(),
                "scanned_at": (doses["administered_at"] - pd.to_timedelta(lead, unit="s")).array,
            }
        )
        self.c.checkin_serial += len(frame)
        return frame

    def registrations_for(self, checkins: pd.DataFrame) -> pd.DataFrame:
        rng = self.rng
        booked = checkins.loc[rng.random(len(checkins)) < REGISTERED_SHARE]
        missed = checkins.loc[rng.random(len(checkins)) < NO_SHOW_SHARE]
        slot = pd.concat([booked["scanned_at"], missed["scanned_at"]]).dt.floor("30min")
        ahead = rng.integers(3600, 10 * 86_400, len(slot))
        status = np.concatenate(
            [np.full(len(booked), "attended"), rng.choice(["no_show", "cancelled"], len(missed))]
        )
        frame = pd.DataFrame(
            {
                "registration_id": np.arange(
                    self.c.registration_serial, self.c.registration_serial + len(slot)
                ),
                "citizen_id": np.concatenate([booked["citizen_id"], missed["citizen_id"]]),
                "site_id": np.concatenate([booked["site_id"], missed["site_id"]]),
                "slot_start": slot.array,
                "registered_at": (slot - pd.to_timedelta(ahead, unit="s")).array,
                "status": status,
            }
        )
        self.c.registration_serial += len(frame)
        return frame

    def corrections_and_voids(self, changed: dict[str, tuple[int, str]]) -> None:
        """Some doses of the previous step (one to two weeks old, already written) are
        corrected (a new version with another lot) or voided. `changed`: the versions the
        step's approved correction requests gave some doses, which come first."""
        rng, rates = self.rng, self.c.rates
        if not self.c.recent:
            return
        for frame in self.c.recent:
            _patch_versions(frame, changed)
        earlier = self.c.recent[-1]
        corrected = rng.random(len(earlier)) < rates.correction
        voided = (rng.random(len(earlier)) < rates.void) & ~corrected
        if not (corrected | voided).any():
            return
        current = earlier.loc[corrected | voided].copy()
        is_void = voided[corrected | voided]
        previous_month = self.day.replace(day=1) - timedelta(days=1)
        current["version"] = current["version"] + 1
        current["status"] = np.where(is_void, "void", current["status"])
        current["lot_number"] = np.where(
            is_void, current["lot_number"], _lot_numbers(current["vaccine_code"], previous_month)
        )
        current["recorded_at"] = _day_start(self.day) + pd.Timedelta(hours=20)
        columns = ["dose_id", "version", "status", "lot_number", "recorded_at"]
        self.writes.append(Write("doses", current[columns], key="dose_id"))
        if self.c.backlog is not None and is_void.any():
            # a copy sits right after its original
            copy = earlier["copy"].to_numpy(dtype=bool)
            twin = copy | np.append(copy[1:], False)
            lost = current.loc[is_void].assign(twin=twin[corrected | voided][is_void])
            self.c.backlog.voided(lost, current["recorded_at"].iloc[0])

    def fix_due_typos(self) -> None:
        """Half of the misspelt names are corrected by the site some days later."""
        if not self.c.pending_typos:
            return
        pending = pd.concat(self.c.pending_typos, ignore_index=True)
        due = pending["due"] <= self.day
        self.c.pending_typos = [pending.loc[~due]]
        fixed = pending.loc[due]
        chosen = self.rng.random(len(fixed)) < SITE_FIXES_TYPOS
        if self.c.backlog is not None:
            self.c.backlog.typo_fates(fixed.loc[~chosen], fixed.loc[chosen, "citizen_id"], self.day)
        fixed = fixed.loc[chosen, ["citizen_id", "full_name"]]
        self.writes.append(Write("citizens", fixed, key="citizen_id"))


def _patch_versions(frame: pd.DataFrame, changed: dict[str, tuple[int, str]]) -> None:
    """Set the (version, status) in `changed` on the rows of `frame` it names."""
    if not changed or frame.empty:
        return
    # in dose_id order (a step's doses are numbered so): most changes are of older doses
    first, last = frame["dose_id"].iloc[0], frame["dose_id"].iloc[-1]
    wanted = [dose_id for dose_id in changed if first <= dose_id <= last]
    if not wanted:
        return
    ids = frame["dose_id"].to_numpy()
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    found = ids[at] == np.array(wanted, dtype=object)
    if found.any():
        rows = frame.index[at[found]]
        values = [changed[dose_id] for dose_id in ids[at[found]]]
        frame.loc[rows, "version"] = [version for version, _ in values]
        frame.loc[rows, "status"] = [status for _, status in values]


# -- stock ---------------------------------------------------------------------------------------


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def supply(campaign: Campaign, doses: pd.DataFrame, days: list[date]) -> pd.Series:
    """Play the step's `days` in the stock model (`registry.stock`) with the doses given
    (a dose recorded twice was given once), keep its movement rows for `flush_stock`, and
    return each dose's lot: a site's doses of a product on a day take, in time order, the
    lots it used that day, first expiry first."""
    if campaign.stock_model is None:
        campaign.stock_model = stock.StockState(campaign.sites, campaign.vaccines)
    given = doses.loc[~doses.duplicated(["citizen_id", "dose_number", "administered_at"])]
    usage = given.groupby(["site_id", "vaccine_code", "day"], as_index=False).size()
    movements, administered = campaign.stock_model.run_days(
        usage.rename(columns={"size": "doses"}), days
    )
    campaign.stock_rows.append(movements)
    # a copy of a dose has its original's lot (`with_duplicates` puts it right after it)
    return stock.assign_lots(given, administered).reindex(doses.index).ffill()


def flush_stock(campaign: Campaign) -> list[Write]:
    """The stock movements made since the last flush, numbered."""
    frames, campaign.stock_rows = campaign.stock_rows, []
    movements, campaign.movement_serial, campaign.transfer_serial = stock.number_rows(
        frames, campaign.movement_serial, campaign.transfer_serial
    )
    if movements.empty:
        return []
    return [Write("stock_movements", movements)]


def apply_writes(connection: Connection, writes: list[Write]) -> dict[str, int]:
    """Write one step in one transaction, in order; returns rows per table."""
    with connection.begin():
        writer = BulkWriter(connection)
        for write in writes:
            if write.frame.empty:
                continue
            stamped = writer.stamp(write.frame) if write.sequenced else write.frame
            if write.key:
                writer.update(write.table, write.key, stamped)
            else:
                writer.insert(write.table, stamped)
    return writer.counts


# -- the whole seed ------------------------------------------------------------------------------


#: Days per step: shorter than the shortest interval between doses (14 days).
STEP_DAYS = 7


def steps(targets: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The daily targets in runs of at most `STEP_DAYS` days that never cross a month's end."""
    dates = pd.to_datetime(targets["date"])
    month = (dates.dt.year * 12 + dates.dt.month).to_numpy()
    start = 0
    for end in range(1, len(targets) + 1):
        if end == len(targets) or end - start == STEP_DAYS or month[end] != month[start]:
            yield targets.iloc[start:end]
            start = end


def trusted_bulk_load(connection: Connection, on: bool) -> None:
    """On SQLite, let the simulator's own bulk load skip per-row foreign-key checks and
    fsyncs (it writes only rows it made consistent; the tests check integrity afterwards).
    Every other writer keeps the checks. Must run outside a transaction."""
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(f"PRAGMA foreign_keys = {'OFF' if on else 'ON'}")
    connection.exec_driver_sql(f"PRAGMA synchronous = {'OFF' if on else 'NORMAL'}")
    connection.exec_driver_sql(f"PRAGMA cache_size = {-262_144 if on else -2000}")
    connection.commit()


def defer_indexes(connection: Connection) -> list[Index]:
    """Drop the secondary indexes that random keys make slow to maintain row by row (the
    doses' citizen index); the seed builds them once at the end, from sorted data."""
    indexes = [index for index in Dose.__table__.indexes if not index.unique]  # type: ignore[attr-defined]
    with connection.begin():
        for index in indexes:
            index.drop(connection, checkfirst=True)
    return indexes


def defer_foreign_keys(connection: Connection) -> list[ForeignKeyConstraint]:
    """On PostgreSQL, drop the foreign keys for the bulk load (row-by-row trigger checks
    dominate COPY otherwise); `restore_foreign_keys` adds them back, which validates every
    row in one pass, as pg_restore does. SQLite is handled by `trusted_bulk_load`."""
    if connection.dialect.name != "postgresql":
        return []
    constraints = [
        constraint
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, ForeignKeyConstraint)
    ]
    with connection.begin():
        for constraint in constraints:
            connection.execute(DropConstraint(constraint))
    return constraints


def restore_foreign_keys(connection: Connection, constraints: list[ForeignKeyConstraint]) -> None:
    with connection.begin():
        for constraint in constraints:
            connection.execute(AddConstraint(constraint))


def registry_doses(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM doses")).scalar_one())


def seed(
    engine: Engine,
    options: SeedOptions,
    progress: Callable[[date, int], None] | None = None,
) -> SeedReport:
    """Fill an empty, migrated registry with the campaign up to `options.until`."""
    started = time.monotonic()
    rng = np.random.default_rng(options.seed)
    campaign = Campaign(
        rng=rng,
        rates=ErrorRates.scaled(options.error_rate),
        sites=make_sites(rng, options.scale),
        population=np.maximum(
            calibration.provinces()["population_2019"].to_numpy(dtype=np.float64) * options.scale,
            1.0,
        ),
        vaccines=calibration.vaccines(),
    )
    campaign.backlog = Backlog(options.seed, campaign.rates.unrecorded, campaign.sites,
                               options.until)  # fmt: skip
    targets = calibration.daily_targets(options.scale, options.until)
    campaign.stock_model = stock.StockState(
        campaign.sites, campaign.vaccines, forecast=stock.plan_forecast(targets)
    )
    counts: dict[str, int] = {}
    shortfall = 0
    doses = 0
    with engine.connect() as connection, engine.connect() as reader:
        trusted_bulk_load(connection, True)
        deferred = defer_indexes(connection)
        foreign_keys = defer_foreign_keys(connection)
        try:
            with connection.begin():
                writer = BulkWriter(connection)
                write_reference_data(writer, campaign.sites)
                record_sample(connection, options.scale, seeded_description(options.scale))
                _merge(counts, writer.counts)
            # Generation reads its queues on its own connection, which sees each step once
            # it is committed (a step never needs its own doses: it is shorter than any
            # interval). A writer thread overlapping the two was measured and gained
            # nothing: both halves hold the GIL.
            for step in steps(targets):
                days = [pd.Timestamp(value).date() for value in step["date"]]
                wanted = zip(step["first"], step["second"], step["booster"], strict=True)
                generator = CampaignStep(campaign, reader, days)
                written, missing = generator.run([(int(a), int(b), int(c)) for a, b, c in wanted])
                reader.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
                writes = generator.writes
                month_done = days[-1] == month_end(days[-1]) or days[-1] == options.until
                writes += flush_stock(campaign)
                _merge(counts, apply_writes(connection, writes))
                if month_done and connection.dialect.name == "postgresql":
                    # fresh statistics keep the queue reads on the primary key: planned on
                    # an empty table's statistics they become full scans
                    with connection.begin():
                        connection.exec_driver_sql("ANALYZE doses")
                doses += written
                shortfall += missing
                if progress:
                    progress(days[-1], written)
            with connection.begin():
                for index in deferred:
                    index.create(connection)
                campaign.backlog.finish(connection)
            restore_foreign_keys(connection, foreign_keys)
        finally:
            trusted_bulk_load(connection, False)
    # the doses on record: the sites' (less those never recorded) and approved claims'
    doses = counts.get("doses", 0)
    return SeedReport(counts=counts, doses=doses, seconds=time.monotonic() - started,
                      shortfall_to_first=shortfall,
                      corrections=campaign.backlog.summary())  # fmt: skip


def _merge(total: dict[str, int], more: dict[str, int]) -> None:
    for table, rows in more.items():
        total[table] = total.get(table, 0) + rows
