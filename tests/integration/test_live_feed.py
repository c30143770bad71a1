"""The live feed on real SQLite and PostgreSQL registries, on a simulated clock: its
intervals, the sites' opening hours, who comes for which dose, the catch-up on start and
its limit, and the end of first doses when the sample's population is used up."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from geo.calendar import TIME_ZONE
from registry.live import BACKFILL, DUE_AFTER_DAYS, LiveFeed
from registry.simulator import CHECKIN_LEAD, SeedOptions
from tests.integration.registry_helpers import SeedTemplates, frame, local

pytestmark = pytest.mark.integration

SCALE = 0.0005
NOW = pd.Timestamp("2026-12-07 15:20:00", tz=TIME_ZONE)


@pytest.fixture
def registry(registry_dsn: str, seed_templates: SeedTemplates) -> Engine:
    """A seeded registry of the test's own (a copy of the session's seed on its engine)."""
    options = SeedOptions(scale=SCALE, until=date(2021, 9, 30), seed=2, error_rate=0.0)
    return seed_templates.copy(registry_dsn, options)


def live_doses(engine: Engine) -> pd.DataFrame:
    doses = frame(
        engine,
        "SELECT d.dose_id, d.citizen_id, d.site_id, d.dose_number, d.vaccine_code, d.status, "
        "d.administered_at, d.recorded_at, s.opens_minute, s.closes_minute "
        "FROM doses d JOIN sites s ON s.site_id = d.site_id",
    )
    doses["administered_at"] = local(doses["administered_at"])
    doses["recorded_at"] = local(doses["recorded_at"])
    return doses


def test_a_catch_up_day_at_open_sites_from_people_due(registry: Engine) -> None:
    before = live_doses(registry)
    feed = LiveFeed(registry, seed=3)
    people_before = int(frame(registry, "SELECT count(*) AS n FROM citizens")["n"][0])
    recorded = feed.backfill(NOW)
    doses = live_doses(registry)
    new = doses[~doses["dose_id"].isin(before["dose_id"])]
    assert len(new) == recorded == feed.status.doses

    # about the sample's share of a busy day (Poisson), all within the last 24 h
    expected = SCALE * feed.day.doses
    assert abs(recorded - expected) < 5 * np.sqrt(expected)
    assert (new["administered_at"] >= NOW - BACKFILL).all()
    assert (new["administered_at"] < NOW).all()
    assert (new["recorded_at"] >= new["administered_at"]).all()
    assert (new["recorded_at"] <= NOW).all()

    # at sites that were open, busier in the morning
    minute = new["administered_at"].dt.hour * 60 + new["administered_at"].dt.minute
    assert ((minute >= new["opens_minute"]) & (minute < new["closes_minute"])).all()
    middle = (new["opens_minute"] + new["closes_minute"]) / 2
    assert (minute < middle).mean() > 0.5

    # first doses to new people; a later dose is the person's next, a month after the last
    first = new[new["dose_number"] == 1]
    citizens = int(frame(registry, "SELECT count(*) AS n FROM citizens")["n"][0])
    assert citizens - people_before == len(first) == feed.status.first_doses
    assert 0.05 < len(first) / len(new) < 0.2  # the busy day's 12 %
    later = new[new["dose_number"] > 1]
    previous = before.groupby("citizen_id").agg(
        number=("dose_number", "max"), last=("administered_at", "max")
    )
    mine = previous.loc[later["citizen_id"]]
    assert (later["dose_number"].to_numpy() == mine["number"].to_numpy() + 1).all()
    gap = later["administered_at"].to_numpy() - mine["last"].to_numpy()
    assert (gap >= pd.Timedelta(days=DUE_AFTER_DAYS)).all()
    assert later["citizen_id"].is_unique  # nobody twice in a day

    # one check-in per dose, minutes before it
    checkins = frame(registry, "SELECT citizen_id, scanned_at FROM checkins")
    checkins["scanned_at"] = local(checkins["scanned_at"])
    scans = checkins[checkins["scanned_at"] >= NOW - BACKFILL - pd.Timedelta(hours=1)]
    assert len(scans) == len(new)
    lead = new.set_index("citizen_id")["administered_at"] - scans.set_index("citizen_id")[
        "scanned_at"
    ].reindex(new["citizen_id"])
    seconds = lead.dt.total_seconds()
    assert seconds.between(CHECKIN_LEAD[0], CHECKIN_LEAD[1]).all()

    # the night is quiet; a restart catches up on the gap only, not a whole day again
    night = NOW.normalize() + pd.Timedelta(days=1, hours=2)
    assert feed.record(night, night + pd.Timedelta(hours=1)) == 0
    again = LiveFeed(registry, seed=4)
    assert again.backfill(NOW + pd.Timedelta(hours=2)) < recorded / 4


def test_first_doses_stop_when_the_sample_has_no_one_left(registry: Engine) -> None:
    feed = LiveFeed(registry, seed=5)
    assert feed.unvaccinated > 0  # the sample's people without a dose, from the census
    feed.unvaccinated = 3  # as if nearly everyone had had one
    feed.backfill(NOW)
    assert feed.status.first_doses == 3
    assert feed.unvaccinated == 0
    doses = feed.status.doses
    feed.record(NOW, NOW + pd.Timedelta(hours=2))
    assert feed.status.doses > doses and feed.status.first_doses == 3
