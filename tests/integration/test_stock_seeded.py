"""The stock ledger of a seeded registry (SQLite) holds the stock model's invariants: no
place, product and lot is ever below zero, nothing is used before it arrives or on or
after its expiry date, each site's daily tally is the doses it gave and what its opened
vials had left, and each dose names a lot its site held."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo.calendar import TIME_ZONE
from registry import calibration
from registry.simulator import SeedOptions
from registry.stock import check_ledger, open_vial_loss
from tests.integration.registry_helpers import frame, local, seeded_registry

pytestmark = pytest.mark.integration

#: The surge of autumn 2021 and the first expiries, with every kind of injected error.
OPTIONS = SeedOptions(scale=0.0005, until=date(2021, 12, 31), seed=3, error_rate=0.02)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the stock movements, the doses) of a seeded registry."""
    path: Path = tmp_path_factory.mktemp("stock") / "registry.sqlite"
    engine = seeded_registry(f"sqlite:///{path}", OPTIONS)
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
    return movements, doses


def test_the_ledger_holds_the_invariants(seeded: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    movements, _ = seeded
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


def test_sites_tally_the_doses_they_gave_and_their_open_vial_loss(
    seeded: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    movements, doses = seeded
    keys = ["site_id", "vaccine_code", "day"]
    # a dose recorded twice was given once
    given = doses.drop_duplicates(["citizen_id", "dose_number", "administered_at"])
    given = given.groupby(keys).size()
    site = movements[movements["level"] == "site"].assign(day=lambda f: f["moved_at"].dt.date)
    administered = -site[site["kind"] == "administered"].groupby(keys)["quantity"].sum()
    pd.testing.assert_series_equal(administered.sort_index(), given.sort_index(), check_names=False)
    vial = given.index.get_level_values("vaccine_code").map(
        calibration.vaccines().set_index("code")["vial_doses"]
    )
    loss = pd.Series(open_vial_loss(given.to_numpy(), vial.to_numpy()), index=given.index)
    wasted = -site[site["kind"] == "wasted"].groupby(keys)["quantity"].sum()
    pd.testing.assert_series_equal(
        wasted.reindex(given.index, fill_value=0), loss, check_names=False, check_dtype=False
    )


def test_each_dose_names_a_lot_its_site_held(seeded: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    movements, doses = seeded
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
