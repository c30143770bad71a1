"""The platform's one table of vaccine products (geo/products.csv)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from certificates.schema import DATA_DIR
from geo.products import CAMPAIGN_COLUMNS, all_products, campaign_products
from registry import calibration

#: The generic SNOMED code the value set allows for every product; a product carries its
#: specific platform code when the encoding instructions list one.
GENERIC_PROPHYLAXIS = "28531000087107"


def _values(name: str) -> dict[str, Any]:
    path = DATA_DIR / "valuesets" / f"{name}.json"
    values: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["valueSetValues"]
    return values


@pytest.fixture(scope="module")
def valuesets() -> dict[str, dict[str, Any]]:
    names = {
        "mp": "vaccine-medicinal-product",
        "ma": "vaccine-mah-manf",
        "vp": "vaccine-prophylaxis",
        "encoding": "vaccine-encoding-instructions",
    }
    return {key: _values(name) for key, name in names.items()}


def test_every_code_and_text_is_the_value_sets(valuesets: dict[str, dict[str, Any]]) -> None:
    mp, ma, vp = valuesets["mp"], valuesets["ma"], valuesets["vp"]
    for row in all_products().itertuples(index=False):
        assert row.code in mp and mp[row.code]["active"] is True, row.code
        assert row.manufacturer in ma, row.code
        assert row.prophylaxis in vp and vp[row.prophylaxis]["active"] is True, row.code
        assert row.product_display == mp[row.code]["display"], row.code
        assert row.manufacturer_display == ma[row.manufacturer]["display"], row.code
        assert row.prophylaxis_display == vp[row.prophylaxis]["display"], row.code


def test_campaign_products_follow_the_encoding_instructions(
    valuesets: dict[str, dict[str, Any]],
) -> None:
    rules = {rule["vaccine-code"]: rule for rule in valuesets["encoding"].values()}
    for row in campaign_products().itertuples(index=False):
        rule = rules[row.code]
        assert rule["vaccine-manufacturer"] == row.manufacturer, row.code
        specific = [c for c in rule["sct-codes"] if c != GENERIC_PROPHYLAXIS]
        assert row.prophylaxis == (specific[0] if specific else GENERIC_PROPHYLAXIS), row.code


def test_campaign_schedules_are_consistent() -> None:
    table = campaign_products()
    assert tuple(table.columns) == CAMPAIGN_COLUMNS
    for row in table.itertuples(index=False):
        assert (row.primary_doses == 1) == (row.typical_interval_days == 0), row.code
        assert 0 <= row.min_interval_days <= row.typical_interval_days, row.code
        assert row.vial_doses >= 1, row.code
    abdala = table.set_index("code").loc["Abdala"]
    assert (abdala["primary_doses"], abdala["min_interval_days"]) == (3, 14)


def test_the_campaign_is_a_part_of_the_table_and_the_simulator_reads_it() -> None:
    table = all_products()
    campaign = campaign_products()
    assert table["code"].is_unique
    assert set(campaign["code"]) == set(table.loc[table["in_campaign"] == 1, "code"])
    assert set(campaign["code"]) < set(table["code"])
    assert calibration.vaccines().equals(campaign)
    assert set(table["primary_doses"]) == {1, 2, 3}


def test_callers_get_copies() -> None:
    for table in (campaign_products(), all_products()):
        table.loc[0, "name"] = "changed"
    assert "changed" not in set(campaign_products()["name"]) | set(all_products()["name"])
