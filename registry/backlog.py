"""The citizens' correction requests of a simulated campaign: who files, when, and how the
officials resolve them — tied to the errors the campaign simulator injects.

Each request comes from an error the simulator made (`SOURCES`):

* ``misspelt_name`` → ``identity``: a name the site misspelt and did not fix (half of the
  misspelt names are fixed by the site, `simulator.CampaignStep.fix_due_typos`); the claim
  is the name as it should be;
* ``unrecorded_dose`` → ``missing_dose``: a dose given (checked in, taken from stock) but
  never recorded (`ErrorRates.unrecorded`) — the citizen whose app says "chưa tiêm" after
  their doses claims its day, site, product and lot from their vaccination card;
* ``duplicate_dose`` → ``not_mine``: one dose recorded under two dose_ids; the citizen
  reports the copy;
* ``voided_dose`` → ``missing_dose``: a record the site voided (the dose was not given); the
  citizen claims it back, and is refused.

A share of each kind of error is claimed some days after it became visible (`FilingDelay`),
and resolved in office hours some days to weeks later (`ResolutionDelay`): most approved,
the rest rejected with a reason in both languages, a few never resolved (`STUCK_SHARE`); the
requests whose resolution falls after the seed's last day stay open. Dose errors are claimed
for doses 1 and 2 only (the primary series: the "chưa tiêm" of 2021–2022); the simulator
knows those citizens' whole record without reading the doses by citizen (see below).

**Rates.** No public figure gives the share of affected citizens who asked for a
correction: the filing and approval shares are assumptions, stated beside each. What is
public is the size of the errors they answer (so the simulator's error mix,
`simulator.ErrorRates`, keeps their proportions):

* 41,431,114 of about 154 million doses on the platform had wrong personal details on
  2022-03-30 (Ministry of Public Security, conference of 2022-04-04: 26.9 %);
* 43.5 million of 201 million checked doses still had wrong details and 7.6 million doses
  (3.6 % of 212 million given) had never been entered (Ministry of Health, 2022-04-26);
  so unrecorded doses are about a sixth of identity errors (7.6 / 43.5 = 0.17);
* 247,339,252 doses given and 233,747,367 recorded on 2022-08-05 (5.5 % missing), and
  15,330,708 people with details not matching the population database (MoH dispatch of
  August 2022);
* the "cleaning" took months: 41 million wrong records in April 2022, 28 million on
  2022-06-03 (MoH); a district health centre had 15,000 pending cases and one person to
  check them (SGGP, 2022-05-26), while the Minister asked for corrections within two or
  three days (2022-04-26) — hence a median of days and a tail of months.

**In the seed.** Requests are written in bulk inside each step's transaction, with the rows
the service functions write (`registry.corrections_bulk`); a query per request would need
the doses' citizen index, which the seed builds only at the end. So the backlog keeps, for
the few citizens with an error still to claim or a request still to resolve, the dose_ids
of their record (a dose's predecessor is known from the queue that gave it, a copy is the
next dose_id) and reads those rows by primary key when it needs the record. Every draw
comes from its own generator, seeded from the campaign's seed: the same seed gives the same
backlog, and a clean campaign (error rate 0) is the campaign it always was.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geo.calendar import TIME_ZONE
from registry import calibration
from registry import corrections_bulk as rows
from registry.bulk import Write
from registry.corrections import CorrectionError


@dataclass(frozen=True)
class Source:
    """An injected error and the request it leads to: the share of such errors whose holder
    files (`filing`), the share of filed requests officials approve (`approval`), and the
    reason they give the others."""

    kind: str
    filing: float
    approval: float
    reason: str


SOURCES: Final = {
    # Assumption: a misspelt name shows on the app and the certificate, and from April 2022
    # blocked the vaccine passport (issued only to records matching the population database).
    # Rejected when the name asked for does not match that database either.
    "misspelt_name": Source(
        "identity",
        0.4,
        0.9,
        "Họ tên đề nghị không khớp với Cơ sở dữ liệu quốc gia về dân cư; vui lòng cập nhật "
        "tại công an xã/phường trước / The name asked for does not match the national "
        "population database: have it updated by your commune police first",
    ),
    # Assumption: a dose missing from the record meant no green pass (travel, work in late
    # 2021–2022), so most claimed it; rejected when the site's log has no trace of it.
    "unrecorded_dose": Source(
        "missing_dose",
        0.6,
        0.85,
        "Sổ tiêm chủng của điểm tiêm không ghi nhận mũi tiêm này; vui lòng gửi kèm giấy xác "
        "nhận đã tiêm / The site's vaccination log has no record of this dose: please send "
        "your vaccination certificate with the request",
    ),
    # Assumption: an extra dose costs its holder little; fewer report it.
    "duplicate_dose": Source(
        "not_mine",
        0.25,
        0.95,
        "Điểm tiêm xác nhận bạn đã được tiêm mũi này / The site confirms you received this dose",
    ),
    # Assumption: the site voided the record because the dose was not given (registered,
    # then left): a claim is a mistake, always refused.
    "voided_dose": Source(
        "missing_dose",
        0.1,
        0.0,
        "Điểm tiêm đã hủy bản ghi này vì mũi tiêm không được thực hiện / The site cancelled "
        "this entry: the dose was not given",
    ),
}
#: The reason when the record changed under the request (the site fixed it meanwhile).
REASON_CHANGED: Final = (
    "Điểm tiêm đã sửa hồ sơ này trước khi yêu cầu được xử lý / The site had already "
    "corrected this record when the request was reviewed"
)
#: Assumption: requests no one resolves (the backlog of a health centre with one clerk).
STUCK_SHARE: Final = 0.02
#: Dose errors are claimed for the primary series only (see the module's docstring).
CLAIMED_DOSE_NUMBERS: Final = 2
#: Officials per province who resolve requests (``official-<GSO code>-<n>``).
OFFICIALS_PER_PROVINCE: Final = 3
#: Misspelt names the site fixes itself, days later (`simulator.CampaignStep.fix_due_typos`);
#: the others may be claimed. Assumption.
SITE_FIXES_TYPOS: Final = 0.5


@dataclass(frozen=True)
class FilingDelay:
    """Days from the error becoming visible to the request: at least `minimum` (the record
    shows on the app within a day; people look when they need it), then exponential with
    mean `mean` (assumption). Filed between 06:00 and 23:00 local time (app or hotline).
    The minimum is longer than a simulator step, so a request never falls in the step that
    made its error."""

    minimum: float = 8.0
    mean: float = 21.0
    first_hour: float = 6.0
    last_hour: float = 23.0


@dataclass(frozen=True)
class ResolutionDelay:
    """Days from filing to resolution: log-normal with median `median` and shape `sigma`
    (30 days or more for 14 %, 90 or more for 1.4 %; assumption between the two or three days
    the Minister asked for and the months the national clean-up took), in office hours."""

    median: float = 10.0
    sigma: float = 1.0
    opens_hour: float = 7.5
    closes_hour: float = 17.0


FILING: Final = FilingDelay()
RESOLUTION: Final = ResolutionDelay()


@cache
def _campaign_shares() -> tuple[float, float]:
    """People per dose, and the share of doses numbered 1 or 2, over the real campaign
    (first doses and later primary-series doses of the national series)."""
    series = calibration.national_daily()
    total = float(series["doses"].sum())
    first, second = float(series["first"].sum()), float(series["second"].sum())
    return first / total, (first + second) / total


def requests_per_dose(error_rates: Mapping[str, float]) -> dict[str, float]:
    """Requests filed per dose recorded, by source, as the seed files them over the campaign
    for these error rates (of people for ``misspelt_name``, of doses for the others): the
    live feed files at these rates."""
    people, primary = _campaign_shares()
    per_dose = {
        "misspelt_name": people * (1 - SITE_FIXES_TYPOS),
        "unrecorded_dose": primary,
        "duplicate_dose": primary,
        "voided_dose": 1.0,
    }
    return {
        name: error_rates.get(name, 0.0) * share * SOURCES[name].filing
        for name, share in per_dose.items()
    }


def _local(value: Any) -> pd.Timestamp:
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    return moment.tz_convert(TIME_ZONE)


def _at_hour(day: pd.Timestamp, hour: float) -> pd.Timestamp:
    """The local instant on `day` (a local midnight) at the fractional `hour`, to the second."""
    return day + pd.Timedelta(seconds=int(hour * 3600))


#: Viet Nam keeps UTC+7 all year (`geo.calendar`): local midnights by integer arithmetic.
UTC_OFFSET_NS: Final = 7 * 3600 * 10**9
DAY_NS: Final = 86_400 * 10**9


@dataclass
class Request:
    """A request the backlog filed, until it is resolved (or the seed ends)."""

    request_id: int
    citizen_id: str
    kind: str
    source: str
    dose_id: str | None
    claim: dict[str, Any]
    row: dict[str, Any]
    approve: bool


@dataclass
class Plan:
    """An error's future: filed at `file_at` (None: never) and resolved `resolve_days` later
    in office hours (None: stuck), approved or not."""

    file_at: pd.Timestamp | None
    resolve_days: int | None
    resolve_hour: float
    approve: bool


@dataclass(order=True)
class _Event:
    at: pd.Timestamp
    serial: int
    action: str = field(compare=False)
    citizen_id: str = field(compare=False)
    payload: Any = field(compare=False)


#: What the backlog needs of a dose with an error (`previous_id`: the dose before it).
ERROR_FIELDS = ["dose_id", "citizen_id", "site_id", "vaccine_code", "lot_number",
                "administered_at", "previous_id"]  # fmt: skip
DOSE_FIELDS = ["dose_id", "version", "status", "citizen_id", "site_id", "province_code",
               "vaccine_code", "lot_number", "dose_number", "administered_at", "recorded_at"]  # fmt: skip


class Backlog:
    """The seed's correction requests, played step by step with the campaign."""

    def __init__(self, seed: int, unrecorded: float, sites: pd.DataFrame, until: date) -> None:
        self.rng = np.random.default_rng([seed, 19])  # its own stream (issue 19)
        self.until = until
        self.unrecorded = unrecorded
        self.site_names = dict(zip(sites["site_id"], sites["name"], strict=True))
        self.site_province = dict(zip(sites["site_id"], sites["province_code"], strict=True))
        self.events: list[_Event] = []
        self.serial = 0
        self.request_serial = 1
        self.references: set[str] = set()
        #: citizens whose record the backlog follows → their dose_ids (insertion-ordered)
        self.watched: dict[str, dict[str, None]] = {}
        self.holds: Counter[str] = Counter()
        self.open: dict[str, list[Request]] = {}
        self.errors: Counter[str] = Counter()  # errors that could be claimed by the last day
        self.filed: Counter[str] = Counter()

    # -- errors ---------------------------------------------------------------------------------
    def plans(self, source: str, visible: pd.Series | pd.DatetimeIndex) -> list[Plan]:
        """The futures of errors of `source` that became visible at these (aware) instants:
        a fixed number of draws per error, whatever is decided."""
        n = len(visible)
        if not n:
            return []
        ns = pd.DatetimeIndex(visible).as_unit("ns").asi8
        spec = SOURCES[source]
        files = self.rng.random(n) < spec.filing
        days = np.floor(FILING.minimum + self.rng.exponential(FILING.mean, n))
        hours = self.rng.uniform(FILING.first_hour, FILING.last_hour, n)
        approve = self.rng.random(n) < spec.approval
        stuck = self.rng.random(n) < STUCK_SHARE
        resolve = np.maximum(1, np.rint(self.rng.lognormal(np.log(RESOLUTION.median),
                                                           RESOLUTION.sigma, n)))  # fmt: skip
        resolve_hour = self.rng.uniform(RESOLUTION.opens_hour, RESOLUTION.closes_hour, n)
        midnight = (ns + UTC_OFFSET_NS) // DAY_NS * DAY_NS - UTC_OFFSET_NS
        file_at = midnight + (days * 86_400 + np.floor(hours * 3600)).astype(np.int64) * 10**9
        last = pd.Timestamp(self.until, tz=TIME_ZONE) + pd.Timedelta(days=1)
        self.errors[source] += int((file_at < last.value).sum())
        return [
            Plan(pd.Timestamp(int(at), tz=TIME_ZONE) if file else None,
                 None if jam else int(days), float(hour), bool(yes))
            for at, file, jam, days, hour, yes in zip(
                file_at, files, stuck, resolve, resolve_hour, approve, strict=True
            )
        ]  # fmt: skip

    def _schedule(self, at: pd.Timestamp, action: str, citizen_id: str, payload: Any) -> None:
        self.serial += 1
        heapq.heappush(self.events, _Event(at, self.serial, action, citizen_id, payload))
        self.holds[citizen_id] += 1

    def _watch(self, citizen_id: str, dose_ids: Iterable[str | None] = ()) -> None:
        known = self.watched.setdefault(citizen_id, {})
        for dose_id in dose_ids:
            if isinstance(dose_id, str) and dose_id:
                known[dose_id] = None

    def _release(self, citizen_id: str) -> None:
        self.holds[citizen_id] -= 1
        if self.holds[citizen_id] <= 0:
            del self.holds[citizen_id]
            self.watched.pop(citizen_id, None)

    def new_misspelt(self, citizen_ids: Iterable[str]) -> None:
        """People whose name the site misspelt at their first dose: followed until the site
        fixes it or not."""
        for citizen_id in citizen_ids:
            self._watch(citizen_id)
            self.holds[citizen_id] += 1

    def typo_fates(self, unfixed: pd.DataFrame, fixed: Iterable[str], day: date) -> None:
        """The misspelt names whose fix was due on `day`: `fixed` by the site, or not
        (`unfixed`: citizen_id and the right full_name), which their holders may claim."""
        for citizen_id in fixed:
            if citizen_id in self.holds:
                self._release(citizen_id)
        if unfixed.empty:
            return
        visible = pd.DatetimeIndex([pd.Timestamp(day, tz=TIME_ZONE)]).repeat(len(unfixed))
        plans = self.plans("misspelt_name", visible)
        for (citizen_id, name), plan in zip(
            unfixed[["citizen_id", "full_name"]].itertuples(index=False), plans, strict=True
        ):
            if citizen_id not in self.holds:
                continue  # not followed
            if plan.file_at is not None:
                claim = {"full_name": " ".join(str(name).split())}
                self._schedule(
                    plan.file_at, "file", citizen_id, ("misspelt_name", claim, None, plan)
                )
            self._release(citizen_id)

    def unrecorded_doses(self, doses: pd.DataFrame, future: np.ndarray) -> np.ndarray | None:
        """Which of `doses` are given but never recorded (`unrecorded` of the doses 1-2 that
        would be recorded once and at their real time; None: none); their holders may claim
        them."""
        if not self.unrecorded or doses.empty:
            return None
        copy = doses["copy"].to_numpy(dtype=bool)
        twins = copy | np.append(copy[1:], False)  # a copy sits right after its original
        eligible = (doses["dose_number"] <= CLAIMED_DOSE_NUMBERS).to_numpy() & ~twins
        dropped = eligible & (self.rng.random(len(doses)) < self.unrecorded) & ~future
        if not dropped.any():
            return None
        lost = _records(doses, dropped, ERROR_FIELDS)
        plans = self.plans(
            "unrecorded_dose", pd.DatetimeIndex([d["administered_at"] for d in lost])
        )
        for dose, plan in zip(lost, plans, strict=True):
            self._watch(dose["citizen_id"], [dose.get("previous_id")])
            if plan.file_at is not None:
                self._schedule(plan.file_at, "file", dose["citizen_id"],
                               ("unrecorded_dose", self._claim(dose), None, plan))  # fmt: skip
        return dropped

    def _claim(self, dose: dict[str, Any]) -> dict[str, Any]:
        """A missing dose's claim, as `corrections._check_missing_dose` returns it."""
        return {
            "day": _local(dose["administered_at"]).date().isoformat(),
            "site_id": dose["site_id"],
            "province_code": self.site_province[dose["site_id"]],
            "vaccine_code": dose["vaccine_code"],
            "lot_number": str(dose["lot_number"])[:32],
        }

    def copies(self, doses: pd.DataFrame, future: np.ndarray) -> None:
        """Doses 1-2 recorded twice (the copy right after its original): the copy may be
        reported as not the citizen's."""
        copy = doses["copy"].to_numpy(dtype=bool)
        if not copy.any():
            return
        copy = copy & (doses["dose_number"] <= CLAIMED_DOSE_NUMBERS).to_numpy() & ~future
        if not copy.any():
            return
        found = _records(doses, copy, ERROR_FIELDS)
        plans = self.plans(
            "duplicate_dose", pd.DatetimeIndex([d["administered_at"] for d in found])
        )
        for dose, plan in zip(found, plans, strict=True):
            self._watch(dose["citizen_id"], [dose.get("previous_id")])
            if plan.file_at is not None:
                claim = {"dose_id": dose["dose_id"]}
                self._schedule(plan.file_at, "file", dose["citizen_id"],
                               ("duplicate_dose", claim, dose["dose_id"], plan))  # fmt: skip

    def voided(self, doses: pd.DataFrame, at: pd.Timestamp) -> None:
        """Records the site voided at `at` (with citizen_id, site_id, vaccine_code,
        lot_number, administered_at); one with a valid twin (a copy) or dated in the future
        is not claimed (the service would refuse it)."""
        claimable = _records(doses, (~doses["twin"] & (doses["administered_at"] < at)).to_numpy(),
                             ERROR_FIELDS)  # fmt: skip
        plans = self.plans("voided_dose", pd.DatetimeIndex([at]).repeat(len(claimable)))
        for dose, plan in zip(claimable, plans, strict=True):
            if plan.file_at is not None:
                self._schedule(plan.file_at, "file", dose["citizen_id"],
                               ("voided_dose", self._claim(dose), None, plan))  # fmt: skip

    # -- a step's requests ------------------------------------------------------------------------
    def play(
        self, reader: Connection, days: list[date], doses: pd.DataFrame, lost: np.ndarray | None
    ) -> tuple[list[Write], dict[str, tuple[int, str]]]:
        """File and resolve the requests due within `days` (the step's `doses`, less the
        `lost` ones never recorded, are written before these rows, in the same transaction);
        returns the rows to write and the new (version, status) of each dose they change."""
        end = pd.Timestamp(days[-1], tz=TIME_ZONE) + pd.Timedelta(days=1)
        due: list[_Event] = []
        while self.events and self.events[0].at < end:
            due.append(heapq.heappop(self.events))
        involved = {event.citizen_id for event in due}
        # the step's doses of the citizens followed or concerned (one pass over the step)
        mine = _Recorded(doses, lost).of(self.watched.keys() | involved, DOSE_FIELDS)
        step = _Step(self, reader, mine, involved)
        for event in due:
            if event.action == "file":
                step.file(event)
            else:
                step.resolve(event)
            self._release(event.citizen_id)
        for dose in mine:  # they join the records followed
            if dose["citizen_id"] in self.watched:
                self.watched[dose["citizen_id"]][dose["dose_id"]] = None
        return step.writes(), step.new_versions()

    def finish(self, connection: Connection) -> None:
        """After the load: PostgreSQL's request_id sequence continues after the ids the
        backlog gave (the service's requests take theirs from it)."""
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('correction_requests', 'request_id'), "
                "max(request_id)) FROM correction_requests HAVING count(*) > 0"
            )

    def summary(self) -> dict[str, dict[str, int]]:
        """Per error source: errors that could have been claimed by the last day, and the
        requests filed about them."""
        return {name: {"errors": self.errors[name], "filed": self.filed[name]} for name in SOURCES}


class _Step:
    """One step's filings and resolutions, on the records of the citizens concerned as they
    stand at each action."""

    def __init__(self, backlog: Backlog, reader: Connection, doses: list[dict[str, Any]],
                 citizens: set[str]) -> None:  # fmt: skip
        self.b = backlog
        self.doses: dict[str, dict[str, Any]] = {}
        self.identities: dict[str, dict[str, str]] = {}
        self.by_citizen: dict[str, list[str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.added: dict[str, None] = {}
        self.changed: dict[str, None] = {}
        self.renamed: dict[str, None] = {}
        if citizens:
            self._load(reader, doses, sorted(citizens))

    def _load(self, reader: Connection, doses: list[dict[str, Any]], citizens: list[str]) -> None:
        """The records of `citizens`: their doses on record (by dose_id, and each one's next
        dose_id, where a copy sits), the step's own doses, their identities."""
        ids: dict[str, None] = {}
        for citizen_id in citizens:
            for dose_id in self.b.watched.get(citizen_id, {}):
                ids[dose_id] = None
                if dose_id.startswith("VN"):
                    ids[f"VN{int(dose_id[2:]) + 1:012d}"] = None
        found = _fetch(reader, "doses", "dose_id", DOSE_FIELDS, list(ids))
        wanted = set(citizens)
        for dose in [*found, *(dict(d) for d in doses if d["citizen_id"] in wanted)]:
            if dose["citizen_id"] in wanted:
                dose["administered_at"] = _local(dose["administered_at"])
                dose["recorded_at"] = _local(dose["recorded_at"])
                dose["version"], dose["dose_number"] = (
                    int(dose["version"]),
                    int(dose["dose_number"]),
                )
                if dose["dose_id"] not in self.doses:
                    self.by_citizen.setdefault(dose["citizen_id"], []).append(dose["dose_id"])
                self.doses[dose["dose_id"]] = dose
        for identity in _fetch(reader, "citizens", "citizen_id", list(rows.IDENTITY_COLUMNS),
                               citizens):  # fmt: skip
            self.identities[identity["citizen_id"]] = {k: str(v) for k, v in identity.items()}

    def record(self, citizen_id: str, at: pd.Timestamp) -> list[dict[str, Any]]:
        """The citizen's doses on record at `at`."""
        doses = (self.doses[d] for d in self.by_citizen.get(citizen_id, []))
        return [dose for dose in doses if dose["recorded_at"] <= at]

    # -- filing -------------------------------------------------------------------------------
    def file(self, event: _Event) -> None:
        source, claim, dose_id, plan = event.payload
        citizen_id = event.citizen_id
        kind = SOURCES[source].kind
        if citizen_id not in self.identities or not self._may_file(citizen_id, kind, claim,
                                                                   dose_id, event.at):  # fmt: skip
            return
        b = self.b
        request_id = b.request_serial
        b.request_serial += 1
        reference = rows.reference(b.rng)
        while reference in b.references:
            reference = rows.reference(b.rng)
        b.references.add(reference)
        if kind == "not_mine":
            province = self.doses[dose_id]["province_code"]  # as the service: the dose's own
        elif kind == "missing_dose":
            province = claim["province_code"]
        else:
            province = self.identities[citizen_id]["residence_province"]
        row = rows.request_row(request_id, reference, citizen_id, kind, province, dose_id, claim,
                               event.at)  # fmt: skip
        request = Request(request_id, citizen_id, kind, source, dose_id, claim, row, plan.approve)
        self.requests.append(row)
        self.audit.append(rows.filed_audit(request_id, kind, claim, event.at))
        b.open.setdefault(citizen_id, []).append(request)
        b.filed[source] += 1
        b.holds[citizen_id] += 1  # a citizen who filed stays followed: their record is known
        if plan.resolve_days is not None:
            day = event.at.normalize() + pd.Timedelta(days=plan.resolve_days)
            b._schedule(_at_hour(day, plan.resolve_hour), "resolve", citizen_id,
                        request)  # fmt: skip

    def _may_file(self, citizen_id: str, kind: str, claim: dict[str, Any], dose_id: str | None,
                  at: pd.Timestamp) -> bool:  # fmt: skip
        """The service's rules at filing: the dose is the citizen's and valid; a missing dose
        is not on record that day; no open request about the same claim or dose."""
        for other in self.b.open.get(citizen_id, []):
            if (dose_id is not None and other.dose_id == dose_id) or (
                other.kind == kind and (other.claim == claim or kind == "identity")
            ):
                return False
        record = self.record(citizen_id, at)
        if kind == "not_mine":
            return any(d["dose_id"] == dose_id and d["status"] == "valid" for d in record)
        if kind == "missing_dose":
            return not any(
                d["status"] == "valid" and d["vaccine_code"] == claim["vaccine_code"]
                and d["administered_at"].date().isoformat() == claim["day"]
                for d in record
            )  # fmt: skip
        return True

    # -- resolving ------------------------------------------------------------------------------
    def resolve(self, event: _Event) -> None:
        request: Request = event.payload
        b = self.b
        b.open[request.citizen_id].remove(request)
        if not b.open[request.citizen_id]:
            del b.open[request.citizen_id]
        province = request.row["province_code"]
        official = f"official-{province}-{1 + request.request_id % OFFICIALS_PER_PROVINCE}"
        at = event.at
        reason = None if request.approve else SOURCES[request.source].reason
        if request.approve:
            reason = self._approve(request, official, at)
        if reason is not None:
            self.audit.append(rows.rejected_audit(request.request_id, official, at, reason))
        values = {"status": "approved" if reason is None else "rejected", "reason": reason,
                  "resolved_at": at, "resolved_by": official}  # fmt: skip
        request.row.update(values)
        if not any(row is request.row for row in self.requests):
            self.updates.append({"request_id": request.request_id, **values})

    def _approve(self, request: Request, official: str, at: pd.Timestamp) -> str | None:
        """Approve: write the change and its audit row; the reason instead when the service
        would refuse (the record changed)."""
        citizen_id = request.citizen_id
        identity = self.identities[citizen_id]
        doses = self.record(citizen_id, at)
        try:
            approval = rows.approve(request.request_id, request.kind, request.claim,
                                    request.dose_id, identity, doses, at)  # fmt: skip
        except CorrectionError:
            return REASON_CHANGED
        names = self.b.site_names
        before = rows.record(identity, doses, names)
        after = rows.record(approval.identity, approval.doses, names)
        self.audit.append(rows.approved_audit(request.request_id, official, at, before, after))
        for dose in approval.changed:
            self.doses[dose["dose_id"]] = dose
            self.changed[dose["dose_id"]] = None
        if approval.added is not None:
            dose_id = approval.added["dose_id"]
            self.doses[dose_id] = approval.added
            self.by_citizen.setdefault(citizen_id, []).append(dose_id)
            self.added[dose_id] = None
            self.b._watch(citizen_id, [dose_id])
        if approval.identity_changed:
            self.identities[citizen_id] = approval.identity
            self.renamed[citizen_id] = None
        return None

    # -- the rows -----------------------------------------------------------------------------
    def writes(self) -> list[Write]:
        out = []
        if self.requests:
            out.append(Write("correction_requests", _frame(self.requests, rows.REQUEST_COLUMNS)))
        if self.updates:
            columns = ["request_id", "status", "reason", "resolved_at", "resolved_by"]
            out.append(Write("correction_requests", _frame(self.updates, columns),
                             key="request_id"))  # fmt: skip
        if self.audit:
            audit = _frame(self.audit, rows.AUDIT_COLUMNS)
            audit = audit.sort_values("at", kind="stable")  # appended in the order it happened
            out.append(Write("correction_audit", audit, sequenced=False))
        if self.added:
            out.append(Write("doses", _frame([self.doses[d] for d in self.added], DOSE_FIELDS)))
        changed = [self.doses[d] for d in self.changed if d not in self.added]
        if changed:
            columns = ["dose_id", "version", "status", "dose_number", "recorded_at"]
            out.append(Write("doses", _frame(changed, columns), key="dose_id"))
        if self.renamed:
            names = [{"citizen_id": c, "full_name": self.identities[c]["full_name"]}
                     for c in self.renamed]  # fmt: skip
            out.append(Write("citizens", pd.DataFrame(names), key="citizen_id"))
        return out

    def new_versions(self) -> dict[str, tuple[int, str]]:
        """dose_id → (version, status) of the doses the step's approvals changed."""
        return {d: (self.doses[d]["version"], self.doses[d]["status"]) for d in self.changed}


TIME_COLUMNS = ("filed_at", "resolved_at", "at", "administered_at", "recorded_at")


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """`records` as a frame of `columns`, times as aware UTC instants (None: missing)."""
    values: dict[str, Any] = {name: [record.get(name) for record in records] for name in columns}
    for name in TIME_COLUMNS:
        if name in values:
            values[name] = pd.array(
                [pd.NaT if v is None else pd.Timestamp(v).tz_convert("UTC") for v in values[name]],
                dtype="datetime64[ns, UTC]",
            )
    return pd.DataFrame(values)


def _records(doses: pd.DataFrame, mask: np.ndarray, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of `doses` where `mask` holds, as dicts of `columns` (column by column: a
    step's frame is large, the rows few)."""
    at = np.flatnonzero(mask)
    values = {name: doses[name].iloc[at].tolist() for name in columns if name in doses}
    return [{name: column[i] for name, column in values.items()} for i in range(len(at))]


@dataclass(frozen=True)
class _Recorded:
    """A step's doses, less the `lost` ones (never recorded)."""

    doses: pd.DataFrame
    lost: np.ndarray | None

    def of(self, citizens: Iterable[str], columns: list[str]) -> list[dict[str, Any]]:
        """The doses of these citizens, as dicts of `columns`."""
        if self.doses.empty:
            return []
        mask = self.doses["citizen_id"].isin(list(citizens)).to_numpy()
        if self.lost is not None:
            mask = mask & ~self.lost
        return _records(self.doses, mask, columns) if mask.any() else []


def _fetch(connection: Connection, table: str, key: str, columns: list[str],
           keys: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    """Rows of `table` by primary key, in batches (bound parameters stay few)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join(f":k{i}" for i in range(len(chunk)))
        result = connection.execute(
            text(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} IN ({marks})"),
            {f"k{i}": value for i, value in enumerate(chunk)},
        )
        out += [dict(row) for row in result.mappings()]
    return out
