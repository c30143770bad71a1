"""The live feed: keep recording what vaccination sites record, in real time, until stopped.

A simulated registry stands for a share of the country (its sample fraction, recorded by
the seed). The feed records that share of a real busy day (`calibration.live_day`: volume
and the split into first doses, later doses of a series and boosters), spread over the day
the way sites work: each site gives ``volume × its share of all sites' capacity`` doses a
day, within its opening hours, busier in the morning (the seed's intraday shape,
`INTRADAY`). For each dose:

* **who**: a first dose goes to a new person of the site's province, as long as the sample
  has people left who have had none (the sample fraction × the 2019 census, less everyone
  the registry knows): after that every dose is a later one. A later dose goes to someone
  whose next dose is due — their latest dose is more than its interval old and below the
  fourth — from the site's province when one is waiting (`DuePool`), with the product the
  seed would choose (`simulator.later_products`, so a series keeps its length);
* **around it**: a QR check-in minutes before; for some, an app registration (and some
  bookings not attended); a few recent doses are corrected (new lot) or voided;
* **stock**: sites restock from their province and record what they used, first expiry
  first out (`registry.stock`).

``python -m registry live --rate R`` records a flat R doses a second instead (at the sites
open now, or any site when none is), for load tests.

The embedded platform runs the feed as a thread of the serve process (`LiveWorker`,
``VAX_LIVE``): on start it first records what the sites would have recorded since the
feed last ran, at most the last `BACKFILL` (24 h), so the officials' dashboards show a full
recent day at any hour; then one short interval every `LiveWorker.interval` seconds. Each
interval is one transaction; its CPU time is measured (`LiveStatus`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo.calendar import TIME_ZONE
from registry import calibration, people
from registry.bulk import BulkWriter
from registry.live_backlog import LiveBacklog
from registry.sample import read_sample
from registry.simulator import (
    CHECKIN_LEAD,
    NO_SHOW_SHARE,
    REGISTERED_SHARE,
    ErrorRates,
    _age_bands,
    _lot_numbers,
    _serials,
    later_products,
    series_lengths,
)
from registry.sites import day_products, site_product_or
from registry.stock import LiveStock, local_times
from vaxviet.background import MAX_PAUSE, Background, error_text

log = logging.getLogger(__name__)

#: How far back the feed records on start, at most.
BACKFILL = timedelta(hours=24)
#: Backfill is recorded in intervals of this length (one transaction each).
BACKFILL_STEP = timedelta(minutes=30)
#: People with a due next dose kept in memory; refilled from the registry when short.
POOL_SIZE = 20_000
#: The latest dose a person may have for another to be due (a fourth dose is the last).
LAST_DUE_NUMBER = 3
#: Days after a dose before the next one is due (the shortest interval of any product).
DUE_AFTER_DAYS = 28
DOSE_COLUMNS = ["dose_id", "version", "status", "citizen_id", "site_id", "province_code",
                "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at"]  # fmt: skip
CITIZEN_COLUMNS = ["citizen_id", "full_name", "date_of_birth", "sex", "phone", "residence_province"]


@cache
def intraday_cdf() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The share of a site's day done by each point of its opening hours (0..1): the
    Beta(1.6, 2.2) shape the seed draws administration times from (`_times_at_sites`)."""
    x = np.linspace(0.0, 1.0, 2001)
    pdf = x**0.6 * (1.0 - x) ** 1.2
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2.0)])
    return x, cdf / cdf[-1]


def day_share(opens: npt.NDArray[np.int64], closes: npt.NDArray[np.int64],
              start: float, end: float) -> npt.NDArray[np.float64]:  # fmt: skip
    """Each site's share of its day's doses between local minutes `start` and `end`
    (0 ≤ start ≤ end ≤ 1440) of one day."""
    x, cdf = intraday_cdf()
    span = np.maximum(closes - opens, 1).astype(np.float64)
    low = np.clip((start - opens) / span, 0.0, 1.0)
    high = np.clip((end - opens) / span, 0.0, 1.0)
    return np.asarray(np.interp(high, x, cdf) - np.interp(low, x, cdf), dtype=np.float64)


def _next_serial(connection: Connection, sql: str, offset: int = 0) -> int:
    value = connection.execute(text(sql)).scalar()
    if value is None:
        return 1
    return int(str(value)[offset:]) + 1


def _frame(connection: Connection, sql: str, columns: list[str], **parameters: Any) -> pd.DataFrame:
    return pd.DataFrame(connection.execute(text(sql), parameters).fetchall(), columns=columns)


@dataclass(frozen=True)
class LiveDay:
    """A day of the feed at scale 1: its doses, and the shares of first doses, later doses
    of a primary series and boosters among them."""

    doses: float
    first_share: float
    second_share: float

    @classmethod
    def real(cls) -> LiveDay:
        day = calibration.live_day()
        total = float(day["doses"]) or 1.0
        return cls(float(day["doses"]), day["first"] / total, day["second"] / total)


class DuePool:
    """People whose next dose is due, by the province of their last site, read from the
    registry in dose_id order from a random point (wrapping round), `POOL_SIZE` at a time.

    ``primary``: their latest dose is within their product's primary series and not its
    last (a second dose, or Abdala's third, is due); ``booster``: their series is complete
    and they have had fewer than four doses."""

    SQL = (
        "SELECT d.dose_id, d.citizen_id, d.site_id, s.province_code, d.dose_number, "
        "d.vaccine_code FROM doses d JOIN sites s ON s.site_id = d.site_id "
        "JOIN vaccines v ON v.code = d.vaccine_code "
        "WHERE d.dose_id > :after AND d.status = 'valid' AND d.dose_number <= :last "
        "AND d.administered_at < :due AND ({kind}) AND NOT EXISTS (SELECT 1 FROM doses e "
        "WHERE e.citizen_id = d.citizen_id AND e.dose_number > d.dose_number) "
        "ORDER BY d.dose_id LIMIT :n"
    )
    KINDS: ClassVar[dict[str, str]] = {
        "primary": "d.dose_number < v.primary_doses",
        "booster": "d.dose_number >= v.primary_doses",
    }
    COLUMNS: ClassVar[list[str]] = [
        "dose_id", "citizen_id", "site_id", "province_code", "dose_number", "vaccine_code"
    ]  # fmt: skip

    def __init__(self, kind: str, rng: np.random.Generator, first_id: str, last_id: str) -> None:
        self.sql = self.SQL.format(kind=self.KINDS[kind])
        self.after = ""
        if first_id and last_id:
            # start anywhere in the registry, so restarts do not call the same people first
            low, high = int(first_id[2:]), int(last_id[2:])
            self.after = f"VN{int(rng.integers(low, high + 1)):012d}" if high > low else ""
        self.waiting: dict[str, list[tuple[str, int, str]]] = {}
        self.taken: set[str] = set()
        self.exhausted = False  # a whole round found nobody

    def refill(self, connection: Connection, now: pd.Timestamp) -> None:
        due = (now - pd.Timedelta(days=DUE_AFTER_DAYS)).tz_convert("UTC")
        # SQLite keeps instants as UTC text; PostgreSQL compares aware datetimes
        bound: object = (
            due.strftime("%Y-%m-%d %H:%M:%S")
            if connection.dialect.name == "sqlite"
            else due.to_pydatetime()
        )
        found = 0
        for _ in range(2):  # to the end of the table, then once more from its start
            rows = _frame(connection, self.sql, self.COLUMNS, after=self.after,
                          last=LAST_DUE_NUMBER, due=bound, n=POOL_SIZE)  # fmt: skip
            rows = rows.loc[~rows["citizen_id"].isin(self.taken)].drop_duplicates("citizen_id")
            found += len(rows)
            for province, group in rows.groupby("province_code"):
                self.waiting.setdefault(str(province), []).extend(
                    zip(
                        group["citizen_id"],
                        group["dose_number"].astype(int),
                        group["vaccine_code"],
                        strict=True,
                    )
                )
            if len(rows) and len(rows) == POOL_SIZE:
                self.after = str(rows["dose_id"].iloc[-1])
                break
            self.after = ""
            if found:
                break
        self.exhausted = found == 0

    def size(self) -> int:
        return sum(len(people) for people in self.waiting.values())

    def take(self, province: str) -> tuple[str, int, str] | None:
        """(citizen, their latest dose number, its product) of someone due from `province`,
        or from anywhere when none is waiting there."""
        queue = self.waiting.get(province)
        if not queue:
            queue = max(self.waiting.values(), key=len, default=None)
        if not queue:
            return None
        person = queue.pop()
        self.taken.add(person[0])
        return person


@dataclass
class LiveStatus:
    """What the feed has done, for /healthz and the benchmark."""

    running: bool = False
    doses: int = 0
    first_doses: int = 0
    backfilled_doses: int = 0
    recorded_until: str = ""
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    last_error: str = ""
    rows: dict[str, int] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "doses": self.doses,
            "first_doses": self.first_doses,
            "backfilled_doses": self.backfilled_doses,
            "recorded_until": self.recorded_until,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "cpu_share": round(self.cpu_seconds / self.wall_seconds, 4) if self.wall_seconds else 0,
            "last_error": self.last_error,
        }


class LiveFeed:
    """Records intervals of a live vaccination day into the registry."""

    def __init__(self, engine: Engine, *, rate: float | None = None, seed: int | None = None,
                 error_rate: float = 0.005, day: LiveDay | None = None,
                 status: LiveStatus | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.rate = rate
        self.rng = np.random.default_rng(seed)
        self.rates = ErrorRates.scaled(error_rate)
        self.day = day or LiveDay.real()
        self.lengths = series_lengths(calibration.vaccines())
        self.status = LiveStatus() if status is None else status
        self.recent: list[str] = []
        with engine.connect() as connection:
            self.sites = _frame(
                connection,
                "SELECT site_id, province_code, daily_capacity, opens_minute, closes_minute "
                "FROM sites ORDER BY site_id",
                ["site_id", "province_code", "daily_capacity", "opens_minute", "closes_minute"],
            )
            if self.sites.empty:
                raise RuntimeError("the registry has no sites: run `python -m registry seed` first")
            self.fraction = _sample_fraction(connection)
            self.dose_serial = _next_serial(connection, "SELECT max(dose_id) FROM doses", 2)
            self.checkin_serial = _next_serial(connection, "SELECT max(checkin_id) FROM checkins")
            self.registration_serial = _next_serial(
                connection, "SELECT max(registration_id) FROM registrations"
            )
            ids = [row[0] for row in connection.execute(text("SELECT citizen_id FROM citizens"))]
            first_id, last_id = connection.execute(
                text("SELECT min(dose_id), max(dose_id) FROM doses")
            ).one()
            self.last_recorded = connection.execute(
                text("SELECT max(recorded_at) FROM doses")
            ).scalar()
        self.issuer = people.CccdIssuer.from_ids(ids)
        population = int(calibration.provinces()["population_2019"].sum())
        self.unvaccinated = max(0, round(self.fraction * population) - len(ids))
        self.pools = {kind: DuePool(kind, self.rng, first_id or "", last_id or "")
                      for kind in DuePool.KINDS}  # fmt: skip
        capacity = self.sites["daily_capacity"].to_numpy(dtype=np.float64)
        self.site_daily = self.fraction * self.day.doses * capacity / capacity.sum()
        self.stock = LiveStock.load(engine, self.sites)
        self.backlog = LiveBacklog(self.rng, {
            "misspelt_name": self.rates.name_typo, "unrecorded_dose": self.rates.unrecorded,
            "duplicate_dose": self.rates.duplicate, "voided_dose": self.rates.void,
        }, self.sites)  # fmt: skip

    # -- how many, where ----------------------------------------------------------------------
    def expected(self, start: pd.Timestamp, end: pd.Timestamp) -> npt.NDArray[np.float64]:
        """Expected doses per site (`self.sites` order) in [start, end)."""
        opens = self.sites["opens_minute"].to_numpy()
        closes = self.sites["closes_minute"].to_numpy()
        seconds = (end - start).total_seconds()
        if self.rate is not None:
            minute = start.hour * 60 + start.minute
            weight = self.sites["daily_capacity"].to_numpy(dtype=np.float64)
            is_open = (opens <= minute) & (minute < closes)
            weight = weight * is_open if is_open.any() else weight
            return self.rate * seconds * weight / weight.sum()
        out = np.zeros(len(self.sites))
        cursor = start
        while cursor < end:  # one piece per local day
            midnight = cursor.normalize() + pd.Timedelta(days=1)
            piece_end = min(end, midnight)
            day_start = cursor.normalize()
            a = (cursor - day_start).total_seconds() / 60.0
            b = (piece_end - day_start).total_seconds() / 60.0
            out += self.site_daily * day_share(opens, closes, a, b)
            cursor = piece_end
        return out

    def _times(self, site_index: npt.NDArray[np.int64], start: pd.Timestamp,
               end: pd.Timestamp) -> pd.DatetimeIndex:  # fmt: skip
        """A time in [start, end) for each dose, within its site's hours where they overlap."""
        if self.rate is not None:
            offsets = self.rng.random(len(site_index)) * (end - start).total_seconds()
            return pd.DatetimeIndex(start + pd.to_timedelta(offsets, unit="s"))
        day_start = start.normalize()
        base = (start - day_start).total_seconds()
        span = (end - start).total_seconds()
        opens = self.sites["opens_minute"].to_numpy()[site_index] * 60.0 - base
        closes = self.sites["closes_minute"].to_numpy()[site_index] * 60.0 - base
        low = np.clip(opens, 0.0, span)
        high = np.clip(closes, 0.0, span)
        high = np.where(high > low, high, span)
        low = np.where(high > low, low, 0.0)
        offsets = low + self.rng.random(len(site_index)) * (high - low)
        return pd.DatetimeIndex(start + pd.to_timedelta(offsets, unit="s"))

    def site_products(self, site_index: npt.NDArray[np.int64], day: date) -> npt.NDArray[Any]:
        """The product of the day of each site in `site_index` (`sites.day_products`)."""
        return np.asarray(day_products(len(self.sites), day)[site_index], dtype=object)

    # -- one interval ---------------------------------------------------------------------------
    def record(
        self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp | None = None
    ) -> int:
        """Record the doses of [start, end) (local times) in one transaction; `now` is when
        they are written (records are never dated after it). Returns the doses recorded."""
        now = end if now is None else now
        cpu = time.thread_time()
        expected = self.expected(start, end)
        counts = self.rng.poisson(expected)
        site_index = np.repeat(np.arange(len(self.sites)), counts)
        site_index = site_index[self.rng.permutation(len(site_index))]
        with self.engine.begin() as connection:
            writer = BulkWriter(connection)
            doses = None
            if len(site_index):
                newcomers, doses = self._compose(connection, site_index, start, end, now)
                self._write(writer, newcomers, doses)
            self._correct(writer, float(expected.sum()), now)
            self.backlog.interval(connection, float(expected.sum()), start, min(end, now))
            for movements in self.stock.movements(doses, start, end):
                writer.insert("stock_movements", writer.stamp(movements))
        for table, rows in writer.counts.items():
            self.status.rows[table] = self.status.rows.get(table, 0) + rows
        recorded = 0 if doses is None else len(doses)
        self.status.doses += recorded
        self.status.recorded_until = end.isoformat()
        self.status.cpu_seconds += time.thread_time() - cpu
        return recorded

    def _compose(self, connection: Connection, site_index: npt.NDArray[np.int64],
                 start: pd.Timestamp, end: pd.Timestamp,
                 now: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
        """(the new people, the doses) of an interval: a dose for each site in `site_index`."""
        rng = self.rng
        n = len(site_index)
        sites = self.sites.iloc[site_index].reset_index(drop=True)
        provinces = sites["province_code"].to_numpy(dtype=object)
        draw = rng.random(n)
        wants_first = draw < self.day.first_share
        first_index = np.flatnonzero(wants_first)[: max(self.unvaccinated, 0)]
        kinds = np.where(draw < self.day.first_share + self.day.second_share, "primary", "booster")
        citizen = np.empty(n, dtype=object)
        number = np.ones(n, dtype=np.int64)
        previous = np.empty(n, dtype=object)
        keep = np.ones(n, dtype=bool)
        is_first = np.zeros(n, dtype=bool)
        is_first[first_index] = True
        for row in np.flatnonzero(~is_first):
            person = None
            for kind in (kinds[row], "booster" if kinds[row] == "primary" else "primary"):
                pool = self.pools[kind]
                if not pool.size() and not pool.exhausted:
                    pool.refill(connection, now)
                person = pool.take(str(provinces[row]))
                if person is not None:
                    break
            if person is None:
                keep[row] = False  # nobody is due anywhere: the dose is not given
                continue
            citizen[row], number[row], previous[row] = person[0], person[1] + 1, person[2]
        today = start.date()
        newcomers = self._new_people(today, provinces[first_index])
        citizen[first_index] = newcomers["citizen_id"].to_numpy()
        self.unvaccinated -= len(first_index)
        self.status.first_doses += len(first_index)
        products = self.site_products(site_index, today)
        later_rows = np.flatnonzero(keep & ~is_first)
        if len(later_rows):
            # a later dose takes the site's product of the day when it may
            chosen = later_products(
                rng, pd.Series([today] * len(later_rows), dtype=object),
                pd.Series(previous[later_rows]), pd.Series(number[later_rows]), self.lengths,
            )  # fmt: skip
            products[later_rows] = site_product_or(
                products[later_rows], previous[later_rows], number[later_rows], self.lengths, chosen
            )
        times = self._times(site_index, start, end).floor("s")  # the registry keeps seconds
        delay = pd.to_timedelta(rng.integers(60, 20 * 60, n), unit="s")
        recorded = pd.Series(times + delay).clip(upper=now.tz_convert(TIME_ZONE).floor("s"))
        doses = pd.DataFrame(
            {
                "citizen_id": citizen,
                "site_id": sites["site_id"].to_numpy(dtype=object),
                "province_code": provinces,
                "vaccine_code": products,
                "dose_number": number,
                "administered_at": times,
                "recorded_at": recorded.to_numpy(),
            }
        ).loc[keep]
        doses = doses.sort_values("administered_at", kind="stable").reset_index(drop=True)
        doses["lot_number"] = self.stock.lots(doses, _lot_numbers(doses["vaccine_code"], today))
        doses["version"] = 1
        doses["status"] = "valid"
        doses["dose_id"] = _serials(self.dose_serial, len(doses), "VN", 12).to_numpy()
        self.dose_serial += len(doses)
        return newcomers, doses

    def _new_people(self, day: date, provinces: npt.NDArray[Any]) -> pd.DataFrame:
        bands = _age_bands(day)
        per_band = calibration.allocate(len(provinces), np.array([share for *_, share in bands]))
        order = self.rng.permutation(len(provinces))
        frames, start = [], 0
        for (low, high, _), count in zip(bands, per_band, strict=True):
            chosen = provinces[order[start : start + count]]
            frames.append(people.make_people(self.rng, int(count), on_day=day, min_age=low,
                                             max_age=high, province_codes=chosen,
                                             issuer=self.issuer))  # fmt: skip
            start += count
        made = pd.concat(frames, ignore_index=True)
        # back in the order of `provinces`
        return made.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def _write(self, writer: BulkWriter, newcomers: pd.DataFrame, doses: pd.DataFrame) -> None:
        rng = self.rng
        if len(newcomers):
            writer.insert("citizens", writer.stamp(newcomers[CITIZEN_COLUMNS]))
        lead = rng.integers(*CHECKIN_LEAD, len(doses))
        checkins = pd.DataFrame(
            {
                "checkin_id": np.arange(self.checkin_serial, self.checkin_serial + len(doses)),
                "site_id": doses["site_id"].to_numpy(),
                "citizen_id": doses["citizen_id"].to_numpy(),
                "scanned_at": (doses["administered_at"] - pd.to_timedelta(lead, unit="s")).array,
            }
        )
        self.checkin_serial += len(checkins)
        writer.insert("checkins", writer.stamp(checkins))
        booked = checkins.loc[rng.random(len(checkins)) < REGISTERED_SHARE]
        missed = checkins.loc[rng.random(len(checkins)) < NO_SHOW_SHARE]
        slot = pd.concat([booked["scanned_at"], missed["scanned_at"]]).dt.floor("30min")
        ahead = rng.integers(3600, 10 * 86_400, len(slot))
        registrations = pd.DataFrame(
            {
                "registration_id": np.arange(
                    self.registration_serial, self.registration_serial + len(slot)
                ),
                "citizen_id": np.concatenate([booked["citizen_id"], missed["citizen_id"]]),
                "site_id": np.concatenate([booked["site_id"], missed["site_id"]]),
                "slot_start": slot.array,
                "registered_at": (slot - pd.to_timedelta(ahead, unit="s")).array,
                "status": np.concatenate(
                    [
                        np.full(len(booked), "attended"),
                        rng.choice(["no_show", "cancelled"], len(missed)),
                    ]
                ),
            }
        )
        self.registration_serial += len(registrations)
        writer.insert("registrations", writer.stamp(registrations))
        writer.insert("doses", writer.stamp(doses[DOSE_COLUMNS]))
        self.recent = (self.recent + list(doses["dose_id"]))[-POOL_SIZE:]

    def _correct(self, writer: BulkWriter, doses_expected: float, now: pd.Timestamp) -> None:
        """A few recent doses get a correction (another lot) or are voided: the seed's rates
        of the doses expected in the interval."""
        if not self.recent:
            return
        share = self.rates.correction + self.rates.void
        expected = share * doses_expected
        count = min(int(self.rng.poisson(expected)), len(self.recent))
        if not count:
            return
        ids = list(self.rng.choice(np.array(self.recent), count, replace=False))
        marks = ", ".join(f":id{i}" for i in range(len(ids)))
        frame = _frame(writer.connection,
                       f"SELECT dose_id, version, status, lot_number FROM doses WHERE dose_id IN ({marks})",
                       ["dose_id", "version", "status", "lot_number"],
                       **{f"id{i}": value for i, value in enumerate(ids)})  # fmt: skip
        void = self.rng.random(len(frame)) < self.rates.void / share
        frame["version"] = frame["version"] + 1
        frame["status"] = np.where(void, "void", frame["status"])
        frame["lot_number"] = np.where(void, frame["lot_number"], frame["lot_number"] + "A")
        frame["recorded_at"] = now.floor("s")
        writer.update("doses", "dose_id", writer.stamp(frame))
        done = set(ids)
        self.recent = [dose for dose in self.recent if dose not in done]

    # -- catching up ----------------------------------------------------------------------------
    def backfill(
        self,
        now: pd.Timestamp,
        progress: Callable[[int], None] | None = None,
        since: pd.Timestamp | None = None,
    ) -> int:
        """Record what the sites would have recorded since the feed last ran (at most the
        last `BACKFILL`; not before `since` when given), up to `now`; returns the doses
        recorded."""
        start = now - BACKFILL if since is None else max(now - BACKFILL, since)
        if self.last_recorded is not None:
            last = local_times(pd.Series([self.last_recorded])).iloc[0]
            start = max(start, last)
        total = 0
        cursor = start
        while cursor < now:
            piece_end = min(now, cursor + BACKFILL_STEP)
            total += self.record(cursor, piece_end, now)
            if progress:
                progress(total)
            cursor = piece_end
        self.status.backfilled_doses += total
        return total


def _sample_fraction(connection: Connection) -> float:
    """The registry's sample fraction (1.0 for a real registry)."""
    return float(read_sample(connection).fraction)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz=TIME_ZONE)


def run_live(
    engine: Engine,
    *,
    rate: float | None,
    stop: threading.Event,
    duration: float | None = None,
    seed: int | None = None,
    error_rate: float = 0.005,
    interval: float = 1.0,
) -> dict[str, Any]:
    """Record until `stop` is set or `duration` seconds have passed: `rate` doses/s, or
    (`rate` None) the sample's share of a busy day, after catching up on the last day."""
    feed = LiveFeed(engine, rate=rate, seed=seed, error_rate=error_rate)
    started = time.monotonic()
    if rate is None:
        feed.backfill(_now())
    last = _now()
    while not stop.is_set():
        if duration is not None and time.monotonic() - started >= duration:
            break
        stop.wait(interval)
        now = _now()
        feed.record(last, now)
        last = now
    seconds = time.monotonic() - started
    return {
        "command": "live",
        "doses": feed.status.doses,
        "backfilled_doses": feed.status.backfilled_doses,
        "first_doses": feed.status.first_doses,
        "rows": feed.status.rows,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(feed.status.cpu_seconds, 2),
        "doses_per_second": round(feed.status.doses / seconds, 1) if seconds else None,
    }


class LiveWorker(Background):
    """The live feed as a thread of the serve process (embedded demo): backfill, then one
    interval every `interval` seconds until `stop()`. Failures are logged and retried."""

    def __init__(self, engine: Engine, interval: float = 5.0, seed: int | None = None) -> None:
        self.engine = engine
        self.interval = interval
        self.seed = seed
        self.feed: LiveFeed | None = None
        self.status = LiveStatus()
        self._started = 0.0
        super().__init__("live-feed")

    def start(self) -> Self:
        self.status.running = True
        self._started = time.monotonic()
        return super().start()

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self.status.running = False

    def document(self) -> dict[str, Any]:
        self.status.wall_seconds = time.monotonic() - self._started if self._started else 0.0
        return self.status.document()

    def _run(self) -> None:
        pause = self.interval
        while not self._stop.is_set():
            try:
                if self.feed is None:
                    self.feed = LiveFeed(self.engine, seed=self.seed, status=self.status)
                    doses = self.feed.backfill(_now())
                    log.info("live feed: recorded %d doses of the last 24 h", doses)
                    self._last = _now()
                self._stop.wait(self.interval)
                now = _now()
                self.feed.record(self._last, now)
                self._last = now
                self.status.last_error = ""
                pause = self.interval
            except Exception as error:  # report, back off, retry; never stop the web server
                self.status.last_error = error_text(error)
                log.exception("live feed failed; retrying in %.0f s", pause)
                self._stop.wait(pause)
                pause = min(pause * 2, MAX_PAUSE)
