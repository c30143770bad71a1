"""The national campaign simulator, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from certificates import rules
from geo.calendar import TIME_ZONE
from portal.queries import series_lengths
from registry import calibration, people
from registry.db import make_engine, migrate
from registry.live import run_live
from registry.models import STREAMED_TABLES
from registry.simulator import BOOSTER_MIN_DAYS, CampaignStep, SeedOptions, SeedReport, seed
from tests.conftest import ROOT
from tests.integration.registry_helpers import BackgroundSeeds, frame, seeded_registry

pytestmark = pytest.mark.integration

SCALE = 0.001
UNTIL = date(2021, 9, 15)
#: A longer, smaller campaign: Abdala from late September 2021, the first boosters in December.
ABDALA_SCALE = 0.0001
ABDALA_UNTIL = date(2021, 12, 15)
ABDALA = "Abdala"


def seeded(dsn: str, **options: object) -> Engine:
    settings = {"scale": SCALE, "until": UNTIL, "seed": 7, "error_rate": 0.0, **options}
    return seeded_registry(dsn, SeedOptions(**settings))  # type: ignore[arg-type]


CLEAN = SeedOptions(scale=SCALE, until=UNTIL, seed=7, error_rate=0.0)  # as `seeded` by default
NOISY = dataclasses.replace(CLEAN, error_rate=0.05)
#: seeded in the background while the suite's earlier tests run (conftest's `background_seeds`)
BACKGROUND_SEEDS = [("sqlite", CLEAN), ("sqlite", NOISY), ("postgresql", CLEAN)]


def local_days(values: pd.Series) -> pd.Series:
    times = pd.to_datetime(values, utc=True, format="mixed")
    return times.dt.tz_convert(TIME_ZONE).dt.date


@pytest.fixture(scope="module")
def clean_sqlite(
    tmp_path_factory: pytest.TempPathFactory, background_seeds: BackgroundSeeds
) -> Engine:
    path = tmp_path_factory.mktemp("clean") / "registry.sqlite"
    return background_seeds.sqlite_file(CLEAN, path)


@pytest.fixture(scope="module")
def noisy_sqlite(
    tmp_path_factory: pytest.TempPathFactory, background_seeds: BackgroundSeeds
) -> Engine:
    path = tmp_path_factory.mktemp("noisy") / "registry.sqlite"
    return background_seeds.sqlite_file(NOISY, path)


@pytest.fixture
def clean_postgres(postgres_dsn: str, background_seeds: BackgroundSeeds) -> Engine:
    """The clean campaign on PostgreSQL (seeded in the background; `postgres_dsn`'s own
    database stays empty), or seeded here."""
    taken = background_seeds.take("postgresql", CLEAN)
    return make_engine(taken) if taken else seeded(postgres_dsn)


@pytest.fixture(scope="module")
def autumn_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, SeedReport]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('autumn') / 'registry.sqlite'}")
    migrate(engine)
    options = SeedOptions(scale=ABDALA_SCALE, until=ABDALA_UNTIL, seed=7, error_rate=0.0)
    return engine, seed(engine, options)


def valid_doses(engine: Engine) -> pd.DataFrame:
    doses = frame(
        engine,
        "SELECT citizen_id, vaccine_code, dose_number, administered_at FROM doses "
        "WHERE status = 'valid' ORDER BY citizen_id, dose_number",
    )
    doses["administered_at"] = pd.to_datetime(doses["administered_at"], utc=True, format="mixed")
    return doses


# -- calibration --------------------------------------------------------------------------------


def test_daily_national_totals_follow_the_scaled_series(clean_sqlite: Engine) -> None:
    doses = frame(clean_sqlite, "SELECT administered_at FROM doses")
    per_day = local_days(doses["administered_at"]).value_counts()
    targets = calibration.daily_targets(SCALE, UNTIL)
    expected = pd.Series(targets["doses"].to_numpy(), index=pd.to_datetime(targets["date"]).dt.date)
    expected = expected[expected > 0]
    assert per_day.reindex(expected.index, fill_value=0).to_dict() == expected.to_dict()
    assert int(per_day.sum()) == int(targets["doses"].sum())


def test_daily_kinds_follow_the_split_of_the_real_series(
    autumn_sqlite: tuple[Engine, SeedReport],
) -> None:
    """Each day: first doses, later primary-series doses (Abdala's second and third
    included) and doses beyond the primary series each equal that day's target."""
    engine, report = autumn_sqlite
    assert report.shortfall_to_first == 0
    doses = valid_doses(engine)
    series = doses["vaccine_code"].map(series_lengths())
    doses["kind"] = np.select(
        [doses["dose_number"] == 1, doses["dose_number"] <= series], ["first", "second"], "booster"
    )
    doses["date"] = local_days(doses["administered_at"])
    got = doses.groupby(["date", "kind"]).size().unstack(fill_value=0)
    targets = calibration.daily_targets(ABDALA_SCALE, ABDALA_UNTIL)
    targets["date"] = targets["date"].dt.date
    expected = targets.set_index("date")[list(calibration.DOSE_KINDS)]
    expected = expected[expected.sum(axis=1) > 0]
    got = got.reindex(index=expected.index, columns=expected.columns, fill_value=0)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False)
    assert (doses["vaccine_code"] == ABDALA).sum() > 300 and (doses["kind"] == "booster").any()


def test_province_shares_of_first_doses_on_2021_08_04(clean_sqlite: Engine) -> None:
    first = frame(
        clean_sqlite,
        "SELECT s.province_code, d.administered_at FROM doses d "
        "JOIN sites s ON s.site_id = d.site_id WHERE d.dose_number = 1",
    )
    first = first.loc[local_days(first["administered_at"]) <= date(2021, 8, 4)]
    shares = first["province_code"].value_counts(normalize=True)
    snapshot = calibration.provinces().set_index("gso_code")["snapshot_dose1"]
    snapshot = snapshot / snapshot.sum()
    difference = (shares.reindex(snapshot.index, fill_value=0) - snapshot).abs()
    assert difference.max() < 0.02, difference.sort_values().tail(3)


def test_sites_per_province(clean_sqlite: Engine) -> None:
    """Sites scale with the sample: the real count per province × the scale, at least one."""
    sites = frame(clean_sqlite, "SELECT province_code, count(*) AS n FROM sites GROUP BY 1")
    counts = sites.set_index("province_code")["n"]
    real = calibration.simulated_sites_per_province()
    expected = pd.Series(np.maximum(np.rint(real * SCALE), 1), index=calibration.province_codes())
    assert counts.sort_index().to_dict() == expected.sort_index().to_dict()
    snapshot = calibration.sites_per_province()
    known = snapshot > calibration.UNFILLED_SITE_COUNT
    assert (real[known] == snapshot[known]).all()


# -- people and doses ---------------------------------------------------------------------------


def test_citizen_ids_are_well_formed_and_consistent(clean_sqlite: Engine) -> None:
    citizens = frame(clean_sqlite, "SELECT citizen_id, sex, date_of_birth FROM citizens")
    valid = people.cccd_valid(
        citizens["citizen_id"], citizens["sex"], pd.to_datetime(citizens["date_of_birth"])
    )
    assert valid.all()
    assert citizens["citizen_id"].is_unique


def test_adults_first_then_teenagers(clean_sqlite: Engine) -> None:
    first = frame(
        clean_sqlite,
        "SELECT c.date_of_birth, d.administered_at FROM doses d "
        "JOIN citizens c ON c.citizen_id = d.citizen_id WHERE d.dose_number = 1",
    )
    born = pd.to_datetime(first["date_of_birth"])
    given = pd.to_datetime(first["administered_at"], utc=True, format="mixed").dt.tz_localize(None)
    ages = (given - born).dt.days / 365.25
    assert ages.min() >= 18 - 1 / 365  # until mid-October 2021 only adults


def test_second_doses_respect_the_product_interval(clean_sqlite: Engine) -> None:
    pairs = frame(
        clean_sqlite,
        "SELECT a.vaccine_code, a.administered_at AS first_at, b.administered_at AS second_at "
        "FROM doses a JOIN doses b ON a.citizen_id = b.citizen_id "
        "AND a.dose_number = 1 AND b.dose_number = 2",
    )
    assert len(pairs) > 100
    minimum = pairs["vaccine_code"].map(
        calibration.vaccines().set_index("code")["min_interval_days"]
    )
    gap = pd.to_datetime(pairs["second_at"], utc=True, format="mixed") - pd.to_datetime(
        pairs["first_at"], utc=True, format="mixed"
    )
    assert (gap.dt.days >= minimum - 1).all()  # the day boundary allows a few hours less
    assert (gap > pd.Timedelta(0)).all()


def test_abdala_recipients_get_a_third_dose_14_days_after_the_second(
    autumn_sqlite: tuple[Engine, SeedReport],
) -> None:
    doses = valid_doses(autumn_sqlite[0])
    times = doses.pivot(index="citizen_id", columns="dose_number", values="administered_at")
    products = doses.pivot(index="citizen_id", columns="dose_number", values="vaccine_code")
    started = products.index[products[1] == ABDALA]
    third = started[products.loc[started, 3].notna()]
    assert len(third) > 50 and len(started) > len(third)  # some are still between doses
    assert (products.loc[started, [2, 3]].fillna(ABDALA) == ABDALA).all().all()
    gap = times.loc[third, 3] - times.loc[third, 2]
    assert (gap >= pd.Timedelta(days=14)).all()
    assert (gap < pd.Timedelta(days=21)).all()  # served first: about 14 days, not a backlog
    # the others' third doses are boosters: never Abdala, at least 28 days after dose 2
    boosted = products.index[(products[1] != ABDALA) & products[3].notna()]
    assert len(boosted) > 10 and not (products.loc[boosted, 3] == ABDALA).any()
    assert ((times.loc[boosted, 3] - times.loc[boosted, 2]).dt.days >= BOOSTER_MIN_DAYS).all()


def test_certificates_agree_with_the_portal_counts_on_every_person(
    autumn_sqlite: tuple[Engine, SeedReport],
) -> None:
    """The certificate rules judge a person; the portal counts each dose by its own product
    and number. On the simulated campaign they agree for everyone, and a person whose doses
    are all Abdala is green exactly when they have three."""
    doses = valid_doses(autumn_sqlite[0])
    series = doses["vaccine_code"].map(series_lengths())
    doses["full"] = doses["dose_number"] == series
    doses["booster"] = doses["dose_number"] > series
    people = doses.groupby("citizen_id").agg(
        codes=("vaccine_code", list), full=("full", "sum"), boosters=("booster", "sum")
    )
    progress = people["codes"].map(rules.progress)
    assert (people["full"] == progress.map(lambda p: int(p.status == "green"))).all()
    assert (people["boosters"] == progress.map(lambda p: p.boosters)).all()
    abdala = people[people["codes"].map(lambda codes: set(codes) == {ABDALA})]
    green = progress[abdala.index].map(lambda p: p.status == "green")
    assert (green == (abdala["codes"].map(len) == 3)).all()
    assert green.sum() > 50 and (~green).sum() > 50


def test_queue_reads_bounded_by_due_day_give_the_same_campaign(
    autumn_sqlite: tuple[Engine, SeedReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queue reads stop at the last dose that can be due and skip what they read in full; read
    up to everything written instead, the seed gives the same registry."""

    def everything_written(self: CampaignStep, day: date) -> str:
        return self.c.day_ends[-1][1] if self.c.day_ends else ""

    monkeypatch.setattr(CampaignStep, "last_dose_until", everything_written)
    options = SeedOptions(scale=ABDALA_SCALE, until=ABDALA_UNTIL, seed=7, error_rate=0.0)
    engine = seeded_registry(f"sqlite:///{tmp_path / 'loose.sqlite'}", options)
    pd.testing.assert_frame_equal(fingerprint(engine), fingerprint(autumn_sqlite[0]))


def test_checkins_come_minutes_before_each_dose(clean_sqlite: Engine) -> None:
    counts = frame(
        clean_sqlite,
        "SELECT (SELECT count(*) FROM doses) AS d, (SELECT count(*) FROM checkins) AS c",
    )
    assert counts["d"].iloc[0] == counts["c"].iloc[0]
    registrations = frame(clean_sqlite, "SELECT registered_at, slot_start FROM registrations")
    assert (registrations["registered_at"] < registrations["slot_start"]).all()


def test_referential_integrity(clean_sqlite: Engine) -> None:
    with clean_sqlite.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        orphans = connection.execute(
            text("SELECT count(*) FROM doses d LEFT JOIN citizens c USING (citizen_id) "
                 "WHERE c.citizen_id IS NULL")
        ).scalar_one()  # fmt: skip
    assert orphans == 0


def test_change_sequence_is_unique_across_tables(clean_sqlite: Engine) -> None:
    union = " UNION ALL ".join(f"SELECT change_seq FROM {table}" for table in STREAMED_TABLES)
    seqs = frame(clean_sqlite, union)["change_seq"]
    assert seqs.is_unique
    with clean_sqlite.connect() as connection:
        last = connection.execute(text("SELECT value FROM change_counter")).scalar_one()
    assert int(seqs.max()) == int(last)


def test_stock_arrives_before_it_is_used(clean_sqlite: Engine) -> None:
    arrivals = frame(
        clean_sqlite,
        "SELECT site_id, lot_number, min(moved_at) AS arrived, sum(quantity) AS received "
        "FROM stock_movements WHERE level = 'site' AND kind = 'transferred' GROUP BY 1, 2",
    )
    use = frame(
        clean_sqlite,
        "SELECT site_id, lot_number, min(administered_at) AS first_use, count(*) AS used "
        "FROM doses GROUP BY 1, 2",
    )
    joined = use.merge(arrivals, on=["site_id", "lot_number"], how="left")
    assert joined["arrived"].notna().all()
    assert (joined["arrived"] < joined["first_use"]).all()
    assert (joined["received"] >= joined["used"]).all()
    balance = frame(
        clean_sqlite,
        "SELECT vaccine_code, lot_number, sum(quantity) AS on_hand FROM stock_movements GROUP BY 1, 2",
    )
    assert (balance["on_hand"] >= 0).all()


# -- errors -------------------------------------------------------------------------------------


def test_realistic_errors_are_injected(noisy_sqlite: Engine) -> None:
    doses = frame(
        noisy_sqlite,
        "SELECT dose_id, version, status, citizen_id, province_code, dose_number, "
        "administered_at FROM doses",
    )
    total = len(doses)
    assert (doses["version"] > 1).sum() > 0.002 * total  # corrections and voids
    assert (doses["status"] == "void").sum() > 0.001 * total
    assert (~doses["province_code"].isin(calibration.province_codes())).sum() > 0.001 * total
    times = pd.to_datetime(doses["administered_at"], utc=True, format="mixed")
    assert (times > pd.Timestamp.now(tz="UTC")).sum() > 0.0005 * total
    same = doses.duplicated(["citizen_id", "dose_number", "administered_at"], keep=False)
    assert same.sum() > 0.002 * total  # one dose recorded under two dose_ids
    citizens = frame(noisy_sqlite, "SELECT citizen_id, sex, date_of_birth FROM citizens")
    valid = people.cccd_valid(
        citizens["citizen_id"], citizens["sex"], pd.to_datetime(citizens["date_of_birth"])
    )
    assert 0.001 < 1 - valid.mean() < 0.02


# -- reproducibility and engines ----------------------------------------------------------------

DOSE_FINGERPRINT = (
    "SELECT dose_id, version, status, citizen_id, site_id, vaccine_code, lot_number, "
    "dose_number, administered_at FROM doses ORDER BY dose_id"
)


def fingerprint(engine: Engine) -> pd.DataFrame:
    doses = frame(engine, DOSE_FINGERPRINT)
    doses["administered_at"] = pd.to_datetime(doses["administered_at"], utc=True, format="mixed")
    return doses


def test_same_seed_same_registry(clean_sqlite: Engine, tmp_path: Path) -> None:
    again = seeded(f"sqlite:///{tmp_path / 'again.sqlite'}")
    pd.testing.assert_frame_equal(fingerprint(again), fingerprint(clean_sqlite))
    other = seeded(f"sqlite:///{tmp_path / 'other.sqlite'}", seed=8)
    assert not fingerprint(other)["citizen_id"].equals(fingerprint(clean_sqlite)["citizen_id"])


def test_postgresql_gets_the_same_campaign(clean_sqlite: Engine, clean_postgres: Engine) -> None:
    pd.testing.assert_frame_equal(fingerprint(clean_postgres), fingerprint(clean_sqlite))


def test_live_mode_keeps_recording(registry_dsn: str) -> None:
    engine = seeded(registry_dsn, until=date(2021, 5, 31), error_rate=0.05)
    count_checkins = text("SELECT count(*) FROM checkins")
    with engine.connect() as connection:
        before = connection.execute(text("SELECT count(*), max(change_seq) FROM doses")).one()
        checkins_before = connection.execute(count_checkins).scalar_one()
    report = run_live(engine, rate=40, stop=threading.Event(), duration=3, seed=3)
    with engine.connect() as connection:
        after = connection.execute(text("SELECT count(*), max(change_seq) FROM doses")).one()
        checkins = connection.execute(count_checkins).scalar_one() - checkins_before
        administered = connection.execute(
            text("SELECT count(*) FROM stock_movements WHERE kind = 'administered' "
                 "AND moved_at > '2023-07-01'")
        ).scalar_one()  # fmt: skip
    assert report["doses"] > 40 and after[0] == before[0] + report["doses"]
    assert after[1] > before[1]
    assert checkins == report["doses"]  # the seed's unrecorded doses have one and no dose
    assert administered > 0
    assert report["rows"]["stock_movements"] > 0  # the summary counts the final tally too


# -- command line -------------------------------------------------------------------------------


def run_cli(*args: str, var: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VAX_VAR_DIR": str(var)}
    return subprocess.run(
        [sys.executable, "-m", "registry", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_seed_command_summary_and_refusals(tmp_path: Path) -> None:
    first = run_cli(
        "seed", "--scale", "0.0005", "--until", "2021-05-15", "--no-progress", var=tmp_path
    )
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["command"] == "seed" and summary["doses"] > 0
    assert summary["rows"]["doses"] == summary["doses"]
    again = run_cli("seed", "--scale", "0.0005", "--no-progress", var=tmp_path)
    assert again.returncode == 1 and "already holds" in again.stderr
    skipped = run_cli("seed", "--if-empty", "--no-progress", var=tmp_path)
    assert skipped.returncode == 0 and json.loads(skipped.stdout)["skipped"] is True
    bad = run_cli("seed", "--scale", "2", var=tmp_path)
    assert bad.returncode == 2 and "scale" in bad.stderr
    worse = run_cli("seed", "--until", "yesterday", var=tmp_path)
    assert worse.returncode == 2 and "not a date" in worse.stderr
    assert np.isfinite(summary["seconds"])
