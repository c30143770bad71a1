"""The stock ledger of a seeded registry (SQLite) holds the stock model's invariants: no
place, product and lot is ever below zero, nothing is used before it arrives or on or
after its expiry date, each site's daily tally is the doses it gave (recorded, or checked in
and never recorded) and what its opened vials had left, and each dose names a lot its site
held."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo.calendar import TIME_ZONE
from registry import calibration
from registry.simulator import CHECKIN_LEAD, SeedOptions
from registry.stock import check_ledger, open_vial_loss
from tests.integration.registry_helpers import BackgroundSeeds, frame, local

pytestmark = pytest.mark.integration

#: The surge of autumn 2021 and the first expiries, with every kind of injected error.
OPTIONS = SeedOptions(scale=0.0005, until=date(2021, 12, 31), seed=3, error_rate=0.02)
#: seeded in the background while the suite's earlier tests run (conftest's `background_seeds`)
BACKGROUND_SEEDS = [("sqlite", OPTIONS)]


Seeded = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, background_seeds: BackgroundSeeds) -> Seeded:
    """(the stock movements, the doses, the check-ins) of a seeded registry."""
    path: Path = tmp_path_factory.mktemp("stock") / "registry.sqlite"
    engine = background_seeds.sqlite_file(OPTIONS, path)
    movements = frame(engine, "SELECT * FROM stock_movements")
    movements["moved_at"] = local(movements["moved_at"])
    doses = frame(
        engine,
        "SELECT dose_id, version, citizen_id, site_id, vaccine_code, lot_number, dose_number, "
        "administered_at FROM doses",
    )
    doses["administered_at"] = local(doses["administered_at"])
    # a time in the future is a typo ten years ahead: the dose was given at the real time
    ahead = doses["administered_at"] > pd.Timestamp("2030-01-01", tz=TIME_ZONE)
    doses.loc[ahead, "administered_at"] -= pd.DateOffset(years=10)
    doses["day"] = doses["administered_at"].dt.date
    checkins = frame(engine, "SELECT citizen_id, site_id, scanned_at FROM checkins")
    checkins["scanned_at"] = local(checkins["scanned_at"])
    # the simulator dates a future-dated dose's check-in from it: the same typo
    ahead = checkins["scanned_at"] > pd.Timestamp("2030-01-01", tz=TIME_ZONE)
    checkins.loc[ahead, "scanned_at"] -= pd.DateOffset(years=10)
    return movements, doses, checkins


def unrecorded(doses: pd.DataFrame, checkins: pd.DataFrame) -> pd.Series:
    """Doses given and never recorded, per site and day: check-ins that no dose at that site
    follows within the check-in's lead (the sites' own records, not approved claims)."""
    own = doses[doses["dose_id"].str.startswith("VN")]
    pairs = checkins.reset_index().merge(own, on=["citizen_id", "site_id"], how="left")
    lead = (pairs["administered_at"] - pairs["scanned_at"]).dt.total_seconds()
    pairs["followed"] = lead.between(CHECKIN_LEAD[0], CHECKIN_LEAD[1])
    followed = pairs.groupby("index")["followed"].any()
    lost = checkins.loc[~followed.reindex(checkins.index, fill_value=False)]
    return lost.groupby(["site_id", lost["scanned_at"].dt.date.rename("day")]).size()


def test_the_ledger_holds_the_invariants(seeded: Seeded) -> None:
    movements, _, _ = seeded
    assert check_ledger(movements) == []
    assert set(movements["kind"]) == {
        "received",
        "transferred",
        "administered",
        "wasted",
        "expired",
    }
    # expiries only on their own date, and only within the seeded period
    expired = movements[movements["kind"] == "expired"]
    assert (expired["moved_at"].dt.date <= OPTIONS.until).all()
    assert movements["moved_at"].max().date() <= OPTIONS.until


def test_sites_tally_the_doses_they_gave_and_their_open_vial_loss(seeded: Seeded) -> None:
    movements, doses, checkins = seeded
    keys = ["site_id", "vaccine_code", "day"]
    # a dose recorded twice was given once; an approved claim is not the site's record
    own = doses[doses["dose_id"].str.startswith("VN")]
    recorded = own.drop_duplicates(["citizen_id", "dose_number", "administered_at"])
    site = movements[movements["level"] == "site"].assign(day=lambda f: f["moved_at"].dt.date)
    administered = -site[site["kind"] == "administered"].groupby(keys)["quantity"].sum()
    # each site and day: the doses recorded and those checked in and never recorded
    lost = unrecorded(doses, checkins)
    assert 0 < lost.sum() < 0.01 * len(recorded)  # the injected share (of doses 1-2)
    per_day = administered.groupby(["site_id", "day"]).sum()
    expected = recorded.groupby(["site_id", "day"]).size().add(lost, fill_value=0)
    pd.testing.assert_series_equal(
        per_day.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    # each product of a site's day: at least what was recorded
    given = recorded.groupby(keys).size()
    assert (administered.reindex(given.index, fill_value=0) >= given).all()
    vial = administered.index.get_level_values("vaccine_code").map(
        calibration.vaccines().set_index("code")["vial_doses"]
    )
    loss = pd.Series(
        open_vial_loss(administered.to_numpy(), vial.to_numpy()), index=administered.index
    )
    wasted = -site[site["kind"] == "wasted"].groupby(keys)["quantity"].sum()
    pd.testing.assert_series_equal(
        wasted.reindex(administered.index, fill_value=0), loss, check_names=False,
        check_dtype=False,
    )  # fmt: skip


def test_each_dose_names_a_lot_its_site_held(seeded: Seeded) -> None:
    movements, doses, _ = seeded
    site = movements[movements["level"] == "site"]
    lots = site[site["quantity"] > 0].groupby(["site_id", "lot_number"])["moved_at"].min()
    first = doses[doses["version"] == 1]  # a correction names another lot
    arrived = lots.reindex(pd.MultiIndex.from_frame(first[["site_id", "lot_number"]]))
    assert arrived.notna().all()
    assert (arrived.to_numpy() < first["administered_at"].to_numpy()).all()
    # and used it that day: the site's tally of the lot covers its doses
    keys = ["site_id", "lot_number", "day"]
    counted = (
        first.drop_duplicates(["citizen_id", "dose_number", "administered_at"]).groupby(keys).size()
    )
    tally = site[site["kind"] == "administered"].assign(day=lambda f: f["moved_at"].dt.date)
    tally = -tally.groupby(keys)["quantity"].sum()
    assert (tally.reindex(counted.index, fill_value=0) >= counted).all()
