"""The live feed's correction requests: each interval citizens file requests about errors on
record that no one has claimed yet, and officials resolve as many of the oldest open ones.

How many: per dose the interval is expected to record, the seed's rate of each source of
requests (`backlog.requests_per_dose`, from its filing shares and the error rates), so a
running demo's backlog grows and moves as the seeded one did; as many resolutions, so it
stays level. Which errors (`ErrorFinder`, windows of the registry read from a random point,
as the feed reads the people due a dose):

* ``misspelt_name``: a citizen whose name is not one the generator spells
  (`people.restore_names` gives the name they ask for);
* ``unrecorded_dose``: a check-in no dose of the citizen at that site follows; the claim is
  that day, site, the site's product of the day and a lot it used;
* ``duplicate_dose``: a dose recorded twice (the copy right after its original);
* ``voided_dose``: a record the site voided.

Requests go through the service (`registry.corrections`): it checks each claim, refuses a
duplicate and writes the audit trail; officials approve the share of their source
(`backlog.SOURCES`; a claim of a voided dose is refused), and reject the request when the
record changed under it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any, ClassVar, Final

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geo.calendar import TIME_ZONE
from registry import corrections, people
from registry.backlog import (
    CLAIMED_DOSE_NUMBERS,
    OFFICIALS_PER_PROVINCE,
    REASON_CHANGED,
    SOURCES,
    requests_per_dose,
)
from registry.sites import day_products

#: Rows read per window of the registry.
WINDOW: Final = 5_000
#: Seconds between check-in and dose (the simulators' `CHECKIN_LEAD`, with a margin).
CHECKIN_TO_DOSE: Final = (60, 60 * 60)


def _bound(connection: Connection, moment: pd.Timestamp) -> object:
    """A time as a bound value: UTC text on SQLite, an aware datetime on PostgreSQL."""
    utc = moment.tz_convert("UTC")
    if connection.dialect.name == "sqlite":
        return utc.strftime("%Y-%m-%d %H:%M:%S")
    return utc.to_pydatetime()


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="mixed").dt.tz_convert(TIME_ZONE)


def _rows(connection: Connection, sql: str, **parameters: Any) -> pd.DataFrame:
    result = connection.execute(text(sql), parameters)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class ErrorFinder:
    """Errors on record not yet claimed, by source, read a window at a time from a random
    point of the registry, wrapping round; a table's sources are exhausted after a whole
    round that found nothing."""

    #: the table each source is read from
    TABLES: ClassVar[dict[str, str]] = {
        "misspelt_name": "citizens",
        "unrecorded_dose": "checkins",
        "duplicate_dose": "doses",
        "voided_dose": "doses",
    }

    def __init__(self, rng: np.random.Generator, sites: pd.DataFrame) -> None:
        self.rng = rng
        self.sites = sites  # in register order (`sites.day_products`)
        self.found: dict[str, list[tuple[str, dict[str, Any]]]] = {name: [] for name in SOURCES}
        self.after: dict[str, Any] = {}
        self.round_found: dict[str, int] = {}
        self.exhausted: set[str] = set()

    def take(self, connection: Connection, source: str, now: pd.Timestamp
             ) -> tuple[str, dict[str, Any]] | None:  # fmt: skip
        """(citizen_id, claim) of an unclaimed error of `source`, or None."""
        table = self.TABLES[source]
        for _ in range(2):  # two windows at most per request
            if self.found[source] or table in self.exhausted:
                break
            before = sum(len(self.found[s]) for s in SOURCES)
            started = self.after.get(table)
            readers: dict[str, Callable[[Connection, Any, pd.Timestamp], int]] = {
                "citizens": self._names, "checkins": self._checkins, "doses": self._doses
            }  # fmt: skip
            rows = readers[table](connection, started, now)
            self.round_found[table] = self.round_found.get(table, 0) + (
                sum(len(self.found[s]) for s in SOURCES) - before
            )
            if rows < WINDOW:  # the end of the table: round again from its start
                if started in ("", 0) and not self.round_found[table]:
                    self.exhausted.add(table)
                self.after[table] = "" if table != "checkins" else 0
                self.round_found[table] = 0
        return self.found[source].pop() if self.found[source] else None

    # -- names ------------------------------------------------------------------------------------
    def _names(self, connection: Connection, after: str | None, now: pd.Timestamp) -> int:
        if after is None:
            after = f"{int(self.rng.integers(0, 10**12)):012d}"
        rows = _rows(connection, "SELECT citizen_id, full_name FROM citizens "
                     "WHERE citizen_id > :after ORDER BY citizen_id LIMIT :n",
                     after=after, n=WINDOW)  # fmt: skip
        self.after["citizens"] = rows["citizen_id"].iloc[-1] if len(rows) else after
        restored = people.restore_names(list(rows["full_name"]))
        found = [(c, name) for c, name in zip(rows["citizen_id"], restored, strict=True) if name]
        claimed = self._claimed(connection, [c for c, _ in found])
        self.found["misspelt_name"] += [
            (c, {"full_name": name}) for c, name in found
            if ("identity", None) not in claimed.get(c, set())
        ]  # fmt: skip
        return len(rows)

    # -- doses recorded twice, voided -----------------------------------------------------------
    def _doses(self, connection: Connection, after: str | None, now: pd.Timestamp) -> int:
        if after is None:
            low, high = connection.execute(
                text("SELECT min(dose_id), max(dose_id) FROM doses WHERE dose_id LIKE 'VN%'")
            ).one()
            after = (
                f"VN{int(self.rng.integers(int(low[2:]), int(high[2:]) + 1)):012d}" if low else ""
            )
        rows = _rows(connection, "SELECT dose_id, citizen_id, site_id, vaccine_code, lot_number, "
                     "dose_number, status, administered_at FROM doses WHERE dose_id > :after "
                     "ORDER BY dose_id LIMIT :n", after=after, n=WINDOW)  # fmt: skip
        self.after["doses"] = rows["dose_id"].iloc[-1] if len(rows) else after
        if rows.empty:
            return 0
        rows["administered_at"] = _times(rows["administered_at"])
        same = ["citizen_id", "dose_number", "administered_at"]
        copy = rows.duplicated(same, keep="first") & (rows["dose_number"] <= CLAIMED_DOSE_NUMBERS)
        twin = rows.duplicated(same, keep=False)
        copies = rows[copy & (rows["status"] == "valid")]
        voided = rows[(rows["status"] == "void") & ~twin & (rows["administered_at"] < now)]
        claimed = self._claimed(connection, [*copies["citizen_id"], *voided["citizen_id"]])
        for dose in copies.to_dict("records"):
            if ("not_mine", dose["dose_id"]) not in claimed.get(dose["citizen_id"], set()):
                self.found["duplicate_dose"].append(
                    (dose["citizen_id"], {"dose_id": dose["dose_id"]})
                )
        for dose in voided.to_dict("records"):
            claim = self._claim(dose)
            if ("missing_dose", claim["day"]) not in claimed.get(dose["citizen_id"], set()):
                self.found["voided_dose"].append((dose["citizen_id"], claim))
        return len(rows)

    def _claim(self, dose: dict[str, Any]) -> dict[str, Any]:
        return {
            "day": dose["administered_at"].date().isoformat(),
            "site_id": dose["site_id"],
            "vaccine_code": dose["vaccine_code"],
            "lot_number": dose["lot_number"],
        }

    # -- check-ins without a dose -------------------------------------------------------------
    def _checkins(self, connection: Connection, after: int | None, now: pd.Timestamp) -> int:
        if after is None:
            high = connection.execute(text("SELECT max(checkin_id) FROM checkins")).scalar()
            after = int(self.rng.integers(0, int(high))) if high else 0
        rows = _rows(connection, "SELECT checkin_id, citizen_id, site_id, scanned_at FROM "
                     "checkins WHERE checkin_id > :after ORDER BY checkin_id LIMIT :n",
                     after=after, n=WINDOW)  # fmt: skip
        self.after["checkins"] = int(rows["checkin_id"].iloc[-1]) if len(rows) else after
        if rows.empty:
            return 0
        read = len(rows)
        rows["scanned_at"] = _times(rows["scanned_at"])
        rows = rows[rows["scanned_at"] < now - pd.Timedelta(days=1)]  # the record may be late
        doses = self._doses_of(connection, list(dict.fromkeys(rows["citizen_id"])))
        pairs = rows.merge(doses, on=["citizen_id", "site_id"], how="left")
        lead = (pairs["administered_at"] - pairs["scanned_at"]).dt.total_seconds()
        pairs["followed"] = lead.between(*CHECKIN_TO_DOSE) | (lead > 300 * 86_400)  # a typo
        followed = pairs.groupby("checkin_id")["followed"].any()
        lost = rows[~rows["checkin_id"].map(followed).fillna(False).astype(bool)]
        claimed = self._claimed(connection, list(lost["citizen_id"]))
        index = pd.Index(self.sites["site_id"])
        for checkin in lost.to_dict("records"):
            day = checkin["scanned_at"].date()
            vaccine = day_products(len(self.sites), day)[index.get_loc(checkin["site_id"])]
            claim = {"day": day.isoformat(), "site_id": checkin["site_id"],
                     "vaccine_code": vaccine,
                     "lot_number": self._lot(connection, checkin["site_id"], vaccine,
                                             checkin["scanned_at"])}  # fmt: skip
            if ("missing_dose", claim["day"]) not in claimed.get(checkin["citizen_id"], set()):
                self.found["unrecorded_dose"].append((checkin["citizen_id"], claim))
        return read

    def _doses_of(self, connection: Connection, citizens: list[str]) -> pd.DataFrame:
        frames = [pd.DataFrame(columns=["citizen_id", "site_id", "administered_at"])]
        for start in range(0, len(citizens), 500):
            chunk = citizens[start : start + 500]
            marks = ", ".join(f":c{i}" for i in range(len(chunk)))
            frames.append(_rows(connection, "SELECT citizen_id, site_id, administered_at FROM "
                                f"doses WHERE citizen_id IN ({marks})",
                                **{f"c{i}": c for i, c in enumerate(chunk)}))  # fmt: skip
        doses = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        doses["administered_at"] = _times(doses["administered_at"])
        return doses

    def _lot(self, connection: Connection, site_id: str, vaccine: str, moment: pd.Timestamp
             ) -> str:  # fmt: skip
        """A lot the site used of the product that day (its card's lot), or "" if none."""
        day = moment.normalize()
        lot = connection.execute(
            text("SELECT min(lot_number) FROM stock_movements WHERE site_id = :s "
                 "AND vaccine_code = :v AND kind = 'administered' AND moved_at >= :a "
                 "AND moved_at < :b"),
            {"s": site_id, "v": vaccine, "a": _bound(connection, day),
             "b": _bound(connection, day + pd.Timedelta(days=1))},
        ).scalar()  # fmt: skip
        return str(lot or "")

    # -- what is claimed already ----------------------------------------------------------------
    def _claimed(self, connection: Connection, citizens: list[str]) -> dict[str, set[Any]]:
        """citizen → {(kind, the dose or the day claimed, None for identity)} of every
        request they filed."""
        out: dict[str, set[Any]] = {}
        unique = list(dict.fromkeys(citizens))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join(f":c{i}" for i in range(len(chunk)))
            rows = connection.execute(
                text("SELECT citizen_id, kind, dose_id, claim FROM correction_requests "
                     f"WHERE citizen_id IN ({marks})"),
                {f"c{i}": c for i, c in enumerate(chunk)},
            ).all()  # fmt: skip
            for citizen_id, kind, dose_id, claim in rows:
                what = {"identity": None, "not_mine": dose_id}.get(kind)
                if kind == "missing_dose":
                    what = str(json.loads(claim).get("day", ""))
                out.setdefault(citizen_id, set()).add((kind, what))
        return out


class LiveBacklog:
    """Files and resolves requests in each of the live feed's intervals."""

    def __init__(self, rng: np.random.Generator, error_rates: Mapping[str, float],
                 sites: pd.DataFrame) -> None:  # fmt: skip
        self.rng = rng
        self.per_dose = requests_per_dose(error_rates)
        self.finder = ErrorFinder(rng, sites)
        self.filed = 0
        self.resolved = 0

    def interval(self, connection: Connection, doses_expected: float, start: pd.Timestamp,
                 now: pd.Timestamp) -> None:  # fmt: skip
        """File the requests of the interval from `start` to `now` and resolve as many open
        ones filed before it, at `now`."""
        moment = now.tz_convert(UTC).to_pydatetime().replace(microsecond=0)
        for source, rate in self.per_dose.items():
            for _ in range(int(self.rng.poisson(rate * doses_expected))):
                found = self.finder.take(connection, source, now)
                if found is None:
                    break
                citizen_id, claim = found
                try:
                    corrections.file_request(connection, citizen_id, SOURCES[source].kind, claim,
                                             moment)  # fmt: skip
                except corrections.CorrectionError:
                    continue  # a claim the service refuses (e.g. open already)
                self.filed += 1
        wanted = int(self.rng.poisson(sum(self.per_dose.values()) * doses_expected))
        if wanted:
            self._resolve(connection, wanted, start, moment)

    def _resolve(self, connection: Connection, wanted: int, start: pd.Timestamp,
                 moment: Any) -> None:  # fmt: skip
        for request in corrections.queue(connection, "", "open", limit=wanted):
            if request.filed_at >= start:
                break  # filed in this interval: the officials see it next time
            official = (
                f"official-{request.province_code}-"
                f"{1 + request.request_id % OFFICIALS_PER_PROVINCE}"
            )
            source = self._source(connection, request)
            reason = None
            if self.rng.random() < SOURCES[source].approval:
                try:
                    seen = corrections.record_seq(connection, request.citizen_id)
                    corrections.approve(connection, request.request_id, "", official, seen,
                                        moment)  # fmt: skip
                except corrections.CorrectionError:
                    reason = REASON_CHANGED
            else:
                reason = SOURCES[source].reason
            if reason is not None:
                corrections.reject(connection, request.request_id, "", official, reason, moment)
            self.resolved += 1

    def _source(self, connection: Connection, request: corrections.Request) -> str:
        """The error a request is about: a missing dose the site voided, or the kind's own."""
        if request.kind == "identity":
            return "misspelt_name"
        if request.kind == "not_mine":
            return "duplicate_dose"
        day = pd.Timestamp(request.claim["day"], tz=TIME_ZONE)
        voided = connection.execute(
            text("SELECT count(*) FROM doses WHERE citizen_id = :c AND status = 'void' "
                 "AND vaccine_code = :v AND administered_at >= :a AND administered_at < :b"),
            {"c": request.citizen_id, "v": request.claim["vaccine_code"],
             "a": _bound(connection, day), "b": _bound(connection, day + pd.Timedelta(days=1))},
        ).scalar_one()  # fmt: skip
        return "voided_dose" if voided else "unrecorded_dose"
