"""The API's parameter check, a pure function: every refusal names its parameter."""

from __future__ import annotations

from datetime import date

import pytest

from portal.api import MAX_AREAS, ApiError, parse_query, to_csv


def test_defaults_and_normalisation() -> None:
    query = parse_query("coverage", {})
    assert (query.level, query.areas, query.day, query.denominator, query.format) == (
        "national",
        (),
        None,
        "total",
        "json",
    )
    assert query.all_areas == ("VN",)
    query = parse_query(
        "coverage", {"level": "province", "area": " 79, 01,79 ,", "date": "2021-08-04"}
    )
    assert query.areas == ("79", "01") and query.day == date(2021, 8, 4)
    assert len(query.all_areas) == 63
    series = parse_query("timeseries", {"from": "2021-07-01", "to": "2021-07-01"})
    assert series.start == series.end == date(2021, 7, 1)


@pytest.mark.parametrize(
    ("endpoint", "args", "status", "parameter"),
    [
        ("coverage", {"level": "PROVINCE"}, 400, "level"),
        ("coverage", {"date": "04/08/2021"}, 400, "date"),
        ("coverage", {"date": "2101-01-01"}, 400, "date"),
        ("timeseries", {"from": "2021-08-02", "to": "2021-08-01"}, 400, "from"),
        ("timeseries", {"to": "x"}, 400, "to"),
        ("vaccines", {"denominator": "adult"}, 400, "denominator"),
        ("areas", {"level": "province2025", "area": "01"}, 400, "area"),
        ("coverage", {"level": "province2025", "area": "02"}, 404, "area"),
        (
            "coverage",
            {"level": "province", "area": ",".join(f"{i:03d}" for i in range(MAX_AREAS + 1))},
            400,
            "area",
        ),
        ("coverage", {"format": "CSV"}, 400, "format"),
    ],
)
def test_refusals_name_the_parameter(
    endpoint: str, args: dict[str, str], status: int, parameter: str
) -> None:
    with pytest.raises(ApiError) as refused:
        parse_query(endpoint, args)
    assert refused.value.status == status and refused.value.parameter == parameter
    document = refused.value.document()["error"]
    assert document["parameter"] == parameter and parameter in document["message"]


def test_csv_writes_booleans_as_json_does() -> None:
    text = to_csv([{"a": 1, "b": True, "c": 0.5}], ("a", "b", "c"))
    assert text == "a,b,c\n1,true,0.5\n"
