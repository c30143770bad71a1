"""``registry live``: keep recording doses in real time, as sites do, until stopped.

Every second: about `rate` doses (Poisson), each with its QR check-in minutes before and,
for some, an app registration; new people get first doses, earlier recipients come back for
their next dose (its product chosen as the seed chooses it,
`registry.simulator.later_products`, so a primary series keeps its length); a few recent
doses are corrected or voided. Every minute each active site tallies what it administered,
and receives stock from its province (and the province from the national store) before it
runs out. Works on SQLite and PostgreSQL alike; each second is one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from registry import calibration, people
from registry.bulk import BulkWriter
from registry.simulator import (
    CAMPAIGN_END,
    CHECKIN_LEAD,
    REGISTERED_SHARE,
    TZ,
    ErrorRates,
    _lot_numbers,
    _serials,
    later_products,
    series_lengths,
    sites_for,
)

log = logging.getLogger(__name__)

FIRST_DOSE_SHARE = 0.4
POOL_SIZE = 5000
POOL_COLUMNS = ["citizen_id", "site_id", "dose_number", "vaccine_code"]
RESTOCK = 500


def _next_serial(connection: Connection, sql: str, offset: int = 0) -> int:
    value = connection.execute(text(sql)).scalar()
    if value is None:
        return 1
    return int(str(value)[offset:]) + 1


class LiveRecorder:
    def __init__(self, engine: Engine, rate: float, seed: int | None, error_rate: float) -> None:
        self.engine = engine
        self.rate = rate
        self.rng = np.random.default_rng(seed)
        self.rates = ErrorRates.scaled(error_rate)
        with engine.connect() as connection:
            self.sites = pd.DataFrame(
                connection.execute(
                    text(
                        "SELECT site_id, province_code, daily_capacity FROM sites ORDER BY site_id"
                    )
                ).fetchall(),
                columns=["site_id", "province_code", "daily_capacity"],
            )
            if self.sites.empty:
                raise RuntimeError("the registry has no sites: run `python -m registry seed` first")
            self.dose_serial = _next_serial(connection, "SELECT max(dose_id) FROM doses", 2)
            self.checkin_serial = _next_serial(connection, "SELECT max(checkin_id) FROM checkins")
            self.registration_serial = _next_serial(
                connection, "SELECT max(registration_id) FROM registrations"
            )
            self.movement_serial = _next_serial(
                connection, "SELECT max(movement_id) FROM stock_movements"
            )
            self.transfer_serial = _next_serial(
                connection, "SELECT max(transfer_id) FROM stock_movements"
            )
            pool = connection.execute(
                text(
                    "SELECT citizen_id, site_id, dose_number, vaccine_code FROM doses "
                    "WHERE status = 'valid' "
                    "AND dose_number < 5 ORDER BY dose_id DESC LIMIT :n"
                ),
                {"n": POOL_SIZE},
            ).fetchall()
            known_ids = [
                row[0] for row in connection.execute(text("SELECT citizen_id FROM citizens"))
            ]
        self.issuer = people.CccdIssuer.from_ids(known_ids)
        self.pool = pd.DataFrame(pool, columns=POOL_COLUMNS)
        self.lengths = series_lengths(calibration.vaccines())
        self.pool = self.pool.drop_duplicates("citizen_id")
        self.recent: list[str] = []
        self.minute_usage: list[pd.DataFrame] = []
        self.site_stock: dict[tuple[str, str, str], int] = {}
        self.counts: dict[str, int] = {}
        self.doses = 0

    def tick(self, now: pd.Timestamp) -> None:
        count = int(self.rng.poisson(self.rate))
        with self.engine.begin() as connection:
            writer = BulkWriter(connection)
            if count:
                self.record(writer, count, now)
            self.correct(writer, now)
            if now.second == 0 or len(self.minute_usage) >= 60:
                self.stock(writer, now)
            for table, rows in writer.counts.items():
                self.counts[table] = self.counts.get(table, 0) + rows

    def record(self, writer: BulkWriter, count: int, now: pd.Timestamp) -> None:
        rng = self.rng
        returning = min(int(rng.binomial(count, 1 - FIRST_DOSE_SHARE)), len(self.pool))
        back = self.pool.sample(n=returning, random_state=rng) if returning else self.pool.iloc[:0]
        self.pool = self.pool.drop(back.index)
        first = count - returning
        today = min(now.date(), CAMPAIGN_END)
        codes = self.sites["province_code"].unique()
        newcomers = people.make_people(
            rng, first, on_day=now.date(), min_age=5, max_age=90,
            province_codes=rng.choice(codes, first), issuer=self.issuer,
        )  # fmt: skip
        new_sites = sites_for(rng, self.sites, newcomers["residence_province"].to_numpy())[
            "site_id"
        ]
        doses = pd.DataFrame(
            {
                "citizen_id": np.concatenate([newcomers["citizen_id"], back["citizen_id"]]),
                "site_id": np.concatenate([new_sites.to_numpy(dtype=object), back["site_id"]]),
                "dose_number": np.concatenate([np.ones(first, dtype=int), back["dose_number"] + 1]),
            }
        )
        product_codes, shares = calibration.vaccine_mix(today)
        later = later_products(
            rng,
            pd.Series([today] * returning, dtype=object),
            back["vaccine_code"],
            back["dose_number"] + 1,
            self.lengths,
        )
        doses["vaccine_code"] = np.concatenate(
            [rng.choice(np.array(product_codes), first, p=shares), later]
        )
        doses["province_code"] = doses["site_id"].map(
            self.sites.set_index("site_id")["province_code"]
        )
        offsets = pd.to_timedelta(rng.integers(0, 1000, len(doses)), unit="ms")
        doses["administered_at"] = now - offsets
        doses["recorded_at"] = now
        doses["lot_number"] = _lot_numbers(doses["vaccine_code"], today)
        doses["version"] = 1
        doses["status"] = "valid"
        doses["dose_id"] = _serials(self.dose_serial, len(doses), "VN", 12).to_numpy()
        self.dose_serial += len(doses)

        writer.insert(
            "citizens",
            writer.stamp(newcomers[["citizen_id", "full_name", "date_of_birth", "sex", "phone",
                                    "residence_province"]]),
        )  # fmt: skip
        lead = rng.integers(*CHECKIN_LEAD, len(doses))
        checkins = pd.DataFrame(
            {
                "checkin_id": np.arange(self.checkin_serial, self.checkin_serial + len(doses)),
                "site_id": doses["site_id"],
                "citizen_id": doses["citizen_id"],
                "scanned_at": doses["administered_at"] - pd.to_timedelta(lead, unit="s"),
            }
        )
        self.checkin_serial += len(doses)
        writer.insert("checkins", writer.stamp(checkins))
        booked = checkins.loc[rng.random(len(checkins)) < REGISTERED_SHARE]
        registrations = pd.DataFrame(
            {
                "registration_id": np.arange(
                    self.registration_serial, self.registration_serial + len(booked)
                ),
                "citizen_id": booked["citizen_id"],
                "site_id": booked["site_id"],
                "slot_start": booked["scanned_at"].dt.floor("30min"),
                "registered_at": booked["scanned_at"] - pd.Timedelta(days=1),
                "status": "attended",
            }
        )
        self.registration_serial += len(booked)
        writer.insert("registrations", writer.stamp(registrations))
        writer.insert(
            "doses",
            writer.stamp(doses[["dose_id", "version", "status", "citizen_id", "site_id",
                                "province_code", "vaccine_code", "lot_number", "dose_number",
                                "administered_at", "recorded_at"]]),
        )  # fmt: skip
        self.doses += len(doses)
        self.recent = (self.recent + list(doses["dose_id"]))[-POOL_SIZE:]
        again = doses.loc[doses["dose_number"] < 5, POOL_COLUMNS]
        self.pool = pd.concat([self.pool, again], ignore_index=True).iloc[-POOL_SIZE:]
        self.minute_usage.append(
            doses.groupby(["site_id", "province_code", "vaccine_code", "lot_number"])
            .size()
            .rename("doses")
            .reset_index()
        )

    def correct(self, writer: BulkWriter, now: pd.Timestamp) -> None:
        """A few recent doses get a correction (new lot) or are voided."""
        if not self.recent:
            return
        expected = self.rate * (self.rates.correction + self.rates.void)
        count = min(int(self.rng.poisson(expected)), len(self.recent))
        if not count:
            return
        ids = list(self.rng.choice(np.array(self.recent), count, replace=False))
        rows = connection_rows(
            writer.connection,
            "SELECT dose_id, version, status, lot_number FROM doses WHERE dose_id IN ("
            + ", ".join(f":id{i}" for i in range(len(ids)))
            + ")",
            {f"id{i}": value for i, value in enumerate(ids)},
        )
        frame = pd.DataFrame(rows, columns=["dose_id", "version", "status", "lot_number"])
        void = self.rng.random(len(frame)) < self.rates.void / (
            self.rates.correction + self.rates.void
        )
        frame["version"] = frame["version"] + 1
        frame["status"] = np.where(void, "void", frame["status"])
        frame["lot_number"] = np.where(void, frame["lot_number"], frame["lot_number"] + "A")
        frame["recorded_at"] = now
        writer.update("doses", "dose_id", writer.stamp(frame))
        done = set(ids)
        self.recent = [dose for dose in self.recent if dose not in done]

    def stock(self, writer: BulkWriter, now: pd.Timestamp) -> None:
        """Each active site tallies the last minute's doses, restocking first if needed."""
        if not self.minute_usage:
            return
        usage = (
            pd.concat(self.minute_usage)
            .groupby(["site_id", "province_code", "vaccine_code", "lot_number"], as_index=False)[
                "doses"
            ]
            .sum()
        )
        self.minute_usage = []
        expiry = (now + pd.Timedelta(days=180)).date()
        rows: list[dict[str, Any]] = []
        for site_id, province, product, lot, used in usage.itertuples(index=False):
            key = (site_id, product, lot)
            stock = self.site_stock.get(key, 0)
            if stock < used:
                quantity = max(RESTOCK, int(used) - stock)
                transfer = self.transfer_serial
                self.transfer_serial += 2
                rows += [
                    _movement("received", "national", None, None, product, lot, expiry, quantity, now),
                    _movement("transferred", "national", None, None, product, lot, expiry, -quantity, now, transfer),
                    _movement("transferred", "province", province, None, product, lot, expiry, quantity, now, transfer),
                    _movement("transferred", "province", province, None, product, lot, expiry, -quantity, now, transfer + 1),
                    _movement("transferred", "site", province, site_id, product, lot, expiry, quantity, now, transfer + 1),
                ]  # fmt: skip
                stock += quantity
            rows.append(_movement("administered", "site", province, site_id, product, lot, expiry, -int(used), now))  # fmt: skip
            self.site_stock[key] = stock - int(used)
        frame = pd.DataFrame(rows)
        frame.insert(
            0, "movement_id", np.arange(self.movement_serial, self.movement_serial + len(frame))
        )
        self.movement_serial += len(frame)
        writer.insert("stock_movements", writer.stamp(frame))


def connection_rows(connection: Connection, sql: str, parameters: dict[str, Any]) -> list[Any]:
    return list(connection.execute(text(sql), parameters).fetchall())


def _movement(kind: str, level: str, province: str | None, site: str | None, product: str,
              lot: str, expiry: date, quantity: int, at: pd.Timestamp,
              transfer: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "kind": kind, "level": level, "province_code": province, "site_id": site,
        "vaccine_code": product, "lot_number": lot, "expiry_date": expiry,
        "quantity": quantity, "moved_at": at, "transfer_id": transfer,
    }  # fmt: skip


def run_live(
    engine: Engine,
    *,
    rate: float,
    stop: threading.Event,
    duration: float | None = None,
    seed: int | None = None,
    error_rate: float = 0.005,
) -> dict[str, Any]:
    """Record at `rate` doses/s until `stop` is set or `duration` seconds have passed."""
    recorder = LiveRecorder(engine, rate, seed, error_rate)
    started = time.monotonic()
    next_tick = started
    while not stop.is_set():
        if duration is not None and time.monotonic() - started >= duration:
            break
        now = pd.Timestamp(datetime.now().astimezone()).tz_convert(TZ)
        recorder.tick(now)
        next_tick += 1.0
        stop.wait(max(0.0, next_tick - time.monotonic()))
    with engine.begin() as connection:
        writer = BulkWriter(connection)
        recorder.stock(writer, pd.Timestamp(datetime.now().astimezone()).tz_convert(TZ))
        for table, rows in writer.counts.items():
            recorder.counts[table] = recorder.counts.get(table, 0) + rows
    seconds = time.monotonic() - started
    return {
        "command": "live",
        "doses": recorder.doses,
        "rows": recorder.counts,
        "seconds": round(seconds, 1),
        "doses_per_second": round(recorder.doses / seconds, 1) if seconds else None,
    }
