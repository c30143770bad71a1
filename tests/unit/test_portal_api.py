"""The API's parameter check, a pure function: every refusal names its parameter."""

from __future__ import annotations

import re
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
    empty = parse_query("timeseries", {"from": "2021-07-02", "to": "2021-07-01"})  # no days
    assert empty.start is not None and empty.end is not None and empty.start > empty.end
    assert parse_query("coverage", {"area": ""}).areas == ()
    assert parse_query("coverage", {"level": "province", "area": ","}).areas == ()


def test_the_document_patterns_are_the_checks() -> None:
    """What the OpenAPI document says `area` and the dates take is what parse_query takes.
    (fullmatch: JSON Schema's `$` is the end of the string, Python's may be before a final
    newline.)"""
    from portal.openapi import document

    parameters = {
        (path, p["name"]): p["schema"]
        for path, item in document()["paths"].items()
        for p in item["get"]["parameters"]
    }
    area = re.compile(parameters[("/coverage", "area")]["pattern"])
    for value in ("01,79", " 79 , 01,", "VN", "red-river-delta,VN", ""):
        assert area.fullmatch(value)
        try:  # taken: rows, or a 404 for codes of other levels (VN, a region)
            parse_query("coverage", {"level": "province", "area": value})
        except ApiError as error:
            assert error.status == 404 and error.parameter == "area"
    for value in ("01;79", "1", "01\n", "vn", ",".join(["01"] * (MAX_AREAS + 1))):
        assert not area.fullmatch(value), value
        with pytest.raises(ApiError) as refused:
            parse_query("coverage", {"level": "province", "area": value})
        assert refused.value.status == 400
    day = re.compile(parameters[("/timeseries", "from")]["pattern"])
    assert day.fullmatch("2024-02-29") and not day.fullmatch("2100-02-29")
    assert not day.fullmatch("2019-12-31") and not day.fullmatch("20210801")
    corrections = re.compile(parameters[("/corrections", "area")]["pattern"])
    assert corrections.fullmatch("VN,01") and not corrections.fullmatch("red-river-delta")


@pytest.mark.parametrize(
    ("endpoint", "args", "status", "parameter"),
    [
        ("coverage", {"level": "PROVINCE"}, 400, "level"),
        ("coverage", {"date": "04/08/2021"}, 400, "date"),
        ("coverage", {"date": "2101-01-01"}, 400, "date"),
        ("timeseries", {"from": "20210802"}, 400, "from"),  # Python reads it; the API not
        ("timeseries", {"from": ""}, 400, "from"),
        ("coverage", {"level": "province", "area": "01\t"}, 400, "area"),
        ("coverage", {"level": "province", "area": "00"}, 400, "area"),
        ("coverage", {"area": "01,79"}, 404, "area"),  # provinces, not the country
        ("corrections", {"level": "province", "by": "month", "area": "XX"}, 400, "area"),
        ("corrections", {"level": "province", "by": "month"}, 404, "by"),
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


def test_supply_answers_provinces_only() -> None:
    """/supply: level `province` (its default and only value), province codes in `area`,
    `from` and `to`; no country, region, `date` or denominator."""
    query = parse_query("supply", {"area": "79,01", "from": "2021-08-01", "to": "2021-08-31"})
    assert (query.level, query.areas, query.start, query.end) == (
        "province", ("79", "01"), date(2021, 8, 1), date(2021, 8, 31),
    )  # fmt: skip
    assert len(parse_query("supply", {}).all_areas) == 63
    assert parse_query("supply", {"level": "province"}).level == "province"
    for args, parameter in (
        ({"level": "national"}, "level"),
        ({"area": "VN"}, "area"),
        ({"area": "red-river-delta"}, "area"),
        ({"date": "2021-08-04"}, "date"),
        ({"denominator": "adult"}, "denominator"),
    ):
        with pytest.raises(ApiError) as refused:
            parse_query("supply", args)
        assert (refused.value.status, refused.value.parameter) == (400, parameter), args
