"""Coverage metrics on small inline tables: as-of totals, roll-ups, capping, series."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from portal import metrics


def daily(*rows: tuple[str, str, int, int, int, int, int]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["day", "province_code", *metrics.COUNTS])
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[s]")
    return frame


SAMPLE = daily(
    # day, province, dose1, dose2, boosters, full, doses
    ("2021-08-01", "01", 10, 0, 0, 1, 10),  # one of them a single-dose product
    ("2021-08-03", "01", 5, 4, 0, 4, 9),
    ("2021-08-04", "79", 7, 0, 2, 0, 9),
    ("2021-08-05", "79", 100, 0, 0, 0, 100),
)


def test_totals_as_of_counts_days_up_to_and_including_the_day() -> None:
    totals = metrics.totals_as_of(SAMPLE, date(2021, 8, 4)).set_index("province_code")
    assert len(totals) == 63
    assert totals.loc["01", "dose1"] == 15 and totals.loc["01", "full"] == 5
    assert totals.loc["79", "doses"] == 9 and totals.loc["79", "boosters"] == 2
    assert totals.drop(["01", "79"])["doses"].eq(0).all()


def test_levels_add_up_and_cover_every_area() -> None:
    totals = metrics.totals_as_of(SAMPLE, date(2021, 8, 31))
    sizes = {"national": 1, "region": 6, "province": 63, "province2025": 34}
    for level, size in sizes.items():
        table = metrics.coverage(totals, level)
        assert len(table) == size, level
        assert table["doses"].sum() == 128, level
        assert table["population"].sum() == 96_208_984, level
    national = metrics.coverage(totals, "national").iloc[0]
    assert national["pct_dose1"] == pytest.approx(122 * 100 / 96_208_984)
    adults = metrics.coverage(totals, "national", "adult").iloc[0]
    assert adults["population"] == 68_969_931


def test_province2025_merges_whole_provinces() -> None:
    # Hà Giang (02) and Tuyên Quang (08) became one province, code 08
    frame = daily(("2021-08-01", "02", 3, 0, 0, 0, 3), ("2021-08-01", "08", 4, 0, 0, 0, 4))
    table = metrics.coverage(metrics.totals_as_of(frame, date(2021, 8, 1)), "province2025")
    row = table.set_index("area_code").loc["08"]
    assert row["dose1"] == 7 and row["population"] == 854_679 + 784_811


def test_coverage_is_capped_at_100_and_says_so() -> None:
    population = int(metrics.areas("province").set_index("area_code").loc["95", "population_total"])
    frame = daily(("2021-09-01", "95", population + 500, 0, 0, 0, population + 500))
    table = metrics.coverage(metrics.totals_as_of(frame, date(2021, 9, 1)), "province")
    row = table.set_index("area_code").loc["95"]
    assert row["pct_dose1"] == 100.0 and row["pct_dose1_raw"] > 100.0 and row["capped"]
    assert row["per100"] > 100.0  # doses per 100 are not a share of people: never capped
    assert not table.set_index("area_code").drop("95")["capped"].any()


def test_timeseries_fills_every_day_and_keeps_running_totals() -> None:
    series = metrics.timeseries(SAMPLE, "province", codes=["01"])
    assert list(series["day"].dt.strftime("%m-%d")) == ["08-01", "08-02", "08-03", "08-04", "08-05"]
    assert list(series["doses"]) == [10, 0, 9, 0, 0]
    assert list(series["cum_dose1"]) == [10, 10, 15, 15, 15]
    assert series["doses_avg7"].iloc[2] == pytest.approx(19 / 3)
    clipped = metrics.timeseries(SAMPLE, "national", start=date(2021, 8, 4))
    assert list(clipped["cum_doses"]) == [28, 128]  # running totals from the first day


def test_timeseries_for_an_area_without_doses_is_zero() -> None:
    series = metrics.timeseries(SAMPLE, "province", codes=["01", "96"])
    assert series[series["area_code"] == "96"]["cum_doses"].eq(0).all()
    assert len(series) == 10


def test_recent_doses_and_span() -> None:
    assert metrics.recent_doses(SAMPLE, date(2021, 8, 4)) == {
        "today": 9.0,
        "yesterday": 9.0,
        "avg7": pytest.approx(28 / 7),
    }
    assert metrics.data_span(SAMPLE) == (date(2021, 8, 1), date(2021, 8, 5))
    assert metrics.data_span(SAMPLE.iloc[0:0]) is None


def test_vaccine_shares_per_area() -> None:
    mix = pd.DataFrame(
        [("01", "A", 1, 30), ("01", "A", 2, 10), ("01", "B", 1, 60), ("79", "B", 1, 5)],
        columns=["province_code", "vaccine_code", "dose_number", "doses"],
    )
    shares = metrics.vaccine_shares(mix, "province")
    hanoi = shares[shares["area_code"] == "01"].set_index("vaccine_code")
    assert hanoi.loc["B", "share"] == pytest.approx(0.6) and hanoi.loc["A", "doses"] == 40
    national = metrics.vaccine_shares(mix, "national").set_index("vaccine_code")
    assert national.loc["B", "doses"] == 65


def test_region_codes_are_stable_slugs() -> None:
    assert metrics.region_code("Red River Delta") == "red-river-delta"
    assert set(metrics.area_of("region").values()) == set(metrics.areas("region")["area_code"])


def test_a_sample_is_measured_against_its_fraction_of_the_population() -> None:
    totals = metrics.totals_as_of(SAMPLE, date(2021, 8, 31))
    census = metrics.areas("province").set_index("area_code")
    for level in metrics.LEVELS:
        whole = metrics.coverage(totals, level).set_index("area_code")
        sample = metrics.coverage(totals, level, fraction=0.01).set_index("area_code")
        assert (sample[list(metrics.COUNTS)] == whole[list(metrics.COUNTS)]).all().all()
        # every level still adds up: areas sum their provinces' rounded populations
        assert (
            sample["population"].sum()
            == metrics.coverage(totals, "national", fraction=0.01)["population"].sum()
        )
    provinces = metrics.coverage(totals, "province", fraction=0.01).set_index("area_code")
    assert provinces.loc["01", "population"] == round(census.loc["01", "population_total"] / 100)
    assert provinces.loc["01", "pct_dose1"] == pytest.approx(
        15 * 100 / provinces.loc["01", "population"]
    )
    assert provinces.loc["79", "per100"] == pytest.approx(
        109 * 100 / provinces.loc["79", "population"]
    )
    national = metrics.coverage(totals, "national", "adult", fraction=0.01).iloc[0]
    assert national["population"] == pytest.approx(68_969_931 / 100, abs=63)


def test_a_tiny_sample_keeps_one_person_per_province_and_caps() -> None:
    frame = daily(("2021-08-01", "95", 5, 0, 0, 0, 5))
    table = metrics.coverage(
        metrics.totals_as_of(frame, date(2021, 8, 1)), "province", fraction=1e-9
    )
    assert table["population"].min() == 1
    row = table.set_index("area_code").loc["95"]
    assert row["pct_dose1"] == 100.0 and row["pct_dose1_raw"] == 500.0 and row["capped"]
    assert row["per100"] == 500.0


def test_timeseries_and_areas_use_the_fraction() -> None:
    series = metrics.timeseries(SAMPLE, "national", fraction=0.5)
    whole = metrics.timeseries(SAMPLE, "national")
    assert series["pct_dose1"].iloc[-1] == pytest.approx(2 * whole["pct_dose1"].iloc[-1])
    halves = metrics.areas("province", 0.5)["population_total"]
    assert halves.sum() == pytest.approx(96_208_984 / 2, abs=63)
    assert metrics.areas("national", 1.0)["population_total"].iloc[0] == 96_208_984


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.01, float("nan")])
def test_a_fraction_outside_0_1_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="sample fraction"):
        metrics.areas("national", bad)
