"""The portal's queries and figures against direct SQL on a real warehouse.

The portal reads the aggregates (coverage_daily, site_hourly); these tests recount the same
things from the per-dose contract view vax.doses_current, after corrections and voids.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from portal import metrics, queries
from tests.doses import dose, states
from tests.portal_data import campaign
from warehouse.client import Warehouse
from warehouse.ledger import write_states
from web.data import last_commit

pytestmark = pytest.mark.integration

PER_DOSE = """
SELECT toDate(administered_at) AS day, province_code, vaccine_code, dose_number, site_id,
       count() AS n
FROM {db:Identifier}.doses_current GROUP BY ALL
"""


@pytest.fixture
def filled(warehouse: Warehouse) -> Warehouse:
    write_states(warehouse, campaign(3000), batch="portal")
    return warehouse


def per_dose(warehouse: Warehouse) -> pd.DataFrame:
    frame = warehouse.frame(PER_DOSE)
    frame["day"] = pd.to_datetime(frame["day"])
    series = frame["vaccine_code"].map(queries.series_lengths()).fillna(2)
    frame["full"] = frame["dose_number"] == series
    frame["booster"] = frame["dose_number"] > series
    return frame


def test_series_lengths_come_from_the_vaccine_table() -> None:
    lengths = queries.series_lengths()
    assert lengths["EU/1/20/1525"] == 1 and lengths["EU/1/21/1529"] == 2
    assert lengths["Abdala"] == 3
    assert set(lengths.values()) <= {1, 2, 3}


def test_full_and_boosters_follow_each_products_series(warehouse: Warehouse) -> None:
    """Abdala's third dose completes its series (no booster); Pfizer's third is a booster;
    so is a single-dose Janssen series' second dose. Dose n of everyone falls on day 10 + n."""
    schedules = {
        "abdala": ["Abdala", "Abdala", "Abdala", "EU/1/20/1528"],
        "pfizer": ["EU/1/20/1528", "EU/1/20/1528", "EU/1/20/1528"],
        "janssen": ["EU/1/20/1525", "EU/1/20/1525"],
    }
    rows = [
        dose(f"{key}-{number}", citizen_key=key, vaccine_code=code, dose_number=number,
             administered_at=f"2021-10-{10 + number} 09:00:00")
        for key, codes in schedules.items()
        for number, code in enumerate(codes, start=1)
    ]  # fmt: skip
    write_states(warehouse, states(*rows), batch="series")
    daily = queries.province_daily(warehouse)

    def national(day: int) -> tuple[int, int, int]:
        totals = metrics.totals_as_of(daily, date(2021, 10, day)).sum()
        return int(totals["dose1"]), int(totals["full"]), int(totals["boosters"])

    assert national(11) == (3, 1, 0)  # Janssen complete after one dose
    assert national(12) == (3, 2, 1)  # Pfizer complete; Abdala's second dose is neither
    assert national(13) == (3, 3, 2)  # Abdala complete after three; Pfizer's third a booster
    assert national(14) == (3, 3, 3)  # a dose after Abdala's series is a booster


def test_province_daily_matches_doses_current(filled: Warehouse) -> None:
    daily = queries.province_daily(filled)
    assert list(daily.columns) == list(queries.DAILY_COLUMNS)
    doses = per_dose(filled)
    expected = (
        doses.assign(
            dose1=doses["n"].where(doses["dose_number"] == 1, 0),
            dose2=doses["n"].where(doses["dose_number"] == 2, 0),
            boosters=doses["n"].where(doses["booster"], 0),
            full=doses["n"].where(doses["full"], 0),
            doses=doses["n"],
        )
        .groupby(["day", "province_code"], as_index=False)[list(queries.COUNT_COLUMNS)]
        .sum()
    )
    got = daily.assign(day=pd.to_datetime(daily["day"]))
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.astype(got.dtypes.to_dict()), check_dtype=False
    )
    assert daily["full"].sum() > 0 and (daily["full"] != daily["dose2"]).any()  # Janssen


def test_coverage_as_of_matches_direct_sql(filled: Warehouse) -> None:
    as_of = date(2021, 8, 4)
    table = metrics.coverage(
        metrics.totals_as_of(queries.province_daily(filled), as_of), "province"
    ).set_index("area_code")
    codes, lengths = zip(*queries.series_lengths().items(), strict=True)
    sql = filled.rows(
        "SELECT province_code, countIf(dose_number = 1), "
        "countIf(dose_number > transform(vaccine_code, {codes:Array(String)}, "
        "{lengths:Array(UInt8)}, toUInt8(2))), count() "
        "FROM {db:Identifier}.doses_current WHERE toDate(administered_at) <= {d:Date} "
        "GROUP BY province_code",
        {"d": as_of, "codes": list(codes), "lengths": list(lengths)},
    )
    assert sql
    for code, dose1, boosters, doses in sql:
        row = table.loc[code]
        assert (row["dose1"], row["boosters"], row["doses"]) == (dose1, boosters, doses)
        assert row["pct_dose1"] == pytest.approx(min(100.0, 100 * dose1 / row["population"]))
    assert table.drop([code for code, *_ in sql])["doses"].eq(0).all()


def test_vaccine_mix_and_sites_match_doses_current(filled: Warehouse) -> None:
    as_of = date(2021, 8, 1)
    doses = per_dose(filled)
    upto = doses[doses["day"] <= pd.Timestamp(as_of)]
    mix = queries.vaccine_mix(filled, as_of, ["01", "79"])
    assert set(mix["province_code"]) == {"01", "79"}
    expected = (
        upto[upto["province_code"].isin(["01", "79"])]
        .groupby(["province_code", "vaccine_code", "dose_number"], as_index=False)["n"]
        .sum()
    )
    merged = mix.merge(expected, on=["province_code", "vaccine_code", "dose_number"], how="outer")
    assert (merged["doses"] == merged["n"]).all()
    sites = queries.site_counts(filled, as_of).set_index("province_code")["sites"]
    expected_sites = upto.groupby("province_code")["site_id"].nunique()
    assert sites.sort_index().to_dict() == expected_sites.sort_index().to_dict()
    assert queries.vaccine_mix(filled, date(2020, 1, 1)).empty


def test_empty_warehouse_gives_empty_typed_frames(warehouse: Warehouse) -> None:
    daily = queries.province_daily(warehouse)
    assert daily.empty and list(daily.columns) == list(queries.DAILY_COLUMNS)
    assert last_commit(warehouse) is None
    assert metrics.data_span(daily) is None
    assert metrics.totals_as_of(daily, date(2021, 8, 4))["doses"].sum() == 0
    assert metrics.timeseries(daily, "national").empty
