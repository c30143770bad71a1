"""The open-data API contract on a real warehouse: status codes, JSON/CSV parity, ETags,
several areas per call, clear errors for bad parameters (never a 500), the OpenAPI document."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import flask
import pytest

from portal.api import PARAMETERS
from tests.portal_data import campaign
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse
from warehouse.ledger import write_states

pytestmark = pytest.mark.integration


@pytest.fixture
def client(warehouse: Warehouse, tmp_path: Path) -> flask.testing.FlaskClient:
    write_states(warehouse, campaign(2000), batch="api")
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    return create_server(Services(settings=settings, warehouse=warehouse)).test_client()


def rows_of_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.mark.parametrize(
    "query",
    [
        "coverage?level=province&area=01,79,95&date=2021-08-04&denominator=adult",
        "timeseries?level=province2025&area=08,01&from=2021-07-25&to=2021-08-02",
        "vaccines?level=region",
        "areas?level=province",
    ],
)
def test_json_and_csv_carry_the_same_rows(client: flask.testing.FlaskClient, query: str) -> None:
    as_json = client.get(f"/api/v1/{query}")
    as_csv = client.get(f"/api/v1/{query}&format=csv")
    assert as_json.status_code == as_csv.status_code == 200
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = as_json.get_json()["data"]
    table = rows_of_csv(as_csv.data)
    assert rows and len(rows) == len(table)
    assert list(rows[0]) == list(table[0])  # same columns, same order
    for row, line in zip(rows, table, strict=True):
        for key, value in row.items():
            expected = str(value).lower() if isinstance(value, bool) else str(value)
            assert line[key] == expected, (key, row, line)


def test_coverage_of_several_areas_matches_direct_sql(
    client: flask.testing.FlaskClient, warehouse: Warehouse
) -> None:
    document = client.get("/api/v1/coverage?level=province&area=79,01&date=2021-08-04").get_json()
    assert [row["area_code"] for row in document["data"]] == ["79", "01"]
    expected = dict(
        warehouse.rows(
            "SELECT province_code, countIf(dose_number = 1) FROM {db:Identifier}.doses_current "
            "WHERE toDate(administered_at) <= '2021-08-04' GROUP BY province_code"
        )
    )
    for row in document["data"]:
        assert row["dose1"] == expected[row["area_code"]]
        assert row["date"] == "2021-08-04" and row["denominator"] == "total"
    meta = document["meta"]
    last = warehouse.scalar(
        "SELECT max(toDate(administered_at)) FROM {db:Identifier}.doses_current"
    )
    assert meta["licence"] == "CC BY 4.0" and meta["data_until"] == last.isoformat()
    national = client.get("/api/v1/coverage").get_json()["data"]
    assert len(national) == 1 and national[0]["doses"] == warehouse.scalar(
        "SELECT count() FROM {db:Identifier}.doses_current"
    )


def test_levels_add_up(client: flask.testing.FlaskClient) -> None:
    totals = {
        level: sum(
            r["doses"] for r in client.get(f"/api/v1/coverage?level={level}").get_json()["data"]
        )
        for level in ("national", "region", "province", "province2025")
    }
    assert len(set(totals.values())) == 1 and totals["national"] > 0


def test_timeseries_runs_every_day_for_every_area(client: flask.testing.FlaskClient) -> None:
    rows = client.get("/api/v1/timeseries?level=province&area=01,96").get_json()["data"]
    days = {r["date"] for r in rows}
    assert min(days) == "2021-07-20" and max(days) == "2021-08-11" and len(days) == 23
    assert len(rows) == 46 and all(r["cum_doses"] == 0 for r in rows if r["area_code"] == "96")
    hanoi = [r for r in rows if r["area_code"] == "01"]
    assert hanoi[-1]["cum_doses"] == sum(r["doses"] for r in hanoi)


def test_etag_and_cache_headers(client: flask.testing.FlaskClient) -> None:
    first = client.get("/api/v1/coverage?level=region")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = client.get("/api/v1/coverage?level=region", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/coverage?level=region&format=csv")
    assert other.headers["ETag"] != etag


BAD_REQUESTS = [
    # query, expected status, the parameter the error names
    ("coverage?level=district", 400, "level"),
    ("coverage?date=2021-13-01", 400, "date"),
    ("coverage?date=1999-01-01", 400, "date"),
    ("coverage?denominator=children", 400, "denominator"),
    ("coverage?format=xml", 400, "format"),
    ("coverage?date=20210804", 400, "date"),  # ISO's basic form: not the documented one
    ("coverage?date=", 400, "date"),
    ("coverage?level=province&area=00", 400, "area"),  # no area's code
    ("coverage?level=province&area=01,XX", 400, "area"),
    ("coverage?level=region&area=01", 404, "area"),  # a province: not a region
    ("coverage?level=national&area=01,79", 404, "area"),
    ("coverage?level=province&level=region", 400, "level"),  # given twice
    ("coverage?colour=red", 400, "colour"),
    ("timeseries?to=2021-02-29", 400, "to"),
    ("corrections?level=province&by=month", 404, "by"),  # not published
    ("areas?date=2021-08-04", 400, "date"),
    (
        "coverage?level=province&area=" + ",".join(["01"] * 50 + [f"{i:02d}" for i in range(200)]),
        400,
        "area",
    ),
]


def test_bad_parameters_are_clear_4xx(client: flask.testing.FlaskClient) -> None:
    for query, status, parameter in BAD_REQUESTS:
        response = client.get(f"/api/v1/{query}")
        assert response.status_code == status, query
        error = response.get_json()["error"]
        assert error["status"] == status and error["parameter"] == parameter, query
        assert error["message"] and response.headers["Cache-Control"] == "no-store"


def test_unknown_paths_and_methods(client: flask.testing.FlaskClient) -> None:
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/coverage").status_code == 405
    assert client.delete("/api/v1/coverage").get_json()["error"]["code"] == "method_not_allowed"
    assert client.open("/api/v1/coverage", method="TRACE").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_from_after_to_is_no_days(client: flask.testing.FlaskClient) -> None:
    answer = client.get("/api/v1/timeseries?from=2021-08-02&to=2021-08-01")
    assert answer.status_code == 200 and answer.get_json()["data"] == []


def test_random_garbage_never_gives_a_500(client: flask.testing.FlaskClient) -> None:
    rng = random.Random(5)
    junk = ["", "-", "%00", "'; DROP TABLE x", "2021-02-30", "9" * 40, "national,province",
            ",,,", "01,", "\u00e9", "null", "[]", "0x10", "2021-08-04T00:00"]  # fmt: skip
    for _ in range(150):
        endpoint = rng.choice(list(PARAMETERS))
        names = [*PARAMETERS[endpoint], "x"]
        params = {rng.choice(names): rng.choice(junk) for _ in range(rng.randint(1, 3))}
        response = client.get(f"/api/v1/{endpoint}", query_string=params)
        assert response.status_code < 500, (endpoint, params, response.data[:200])
        assert response.is_json or response.status_code == 200


def test_empty_warehouse_answers_zeros(warehouse: Warehouse, tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    client = create_server(Services(settings=settings, warehouse=warehouse)).test_client()
    coverage = client.get("/api/v1/coverage?level=province").get_json()
    assert len(coverage["data"]) == 63 and all(r["doses"] == 0 for r in coverage["data"])
    assert coverage["data"][0]["date"] == date(2021, 8, 4).isoformat()
    assert client.get("/api/v1/timeseries").get_json()["data"] == []
    assert client.get("/api/v1/vaccines").get_json()["data"] == []


def test_openapi_documents_every_endpoint_and_parameter(client: flask.testing.FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert (
        document["openapi"].startswith("3.") and document["info"]["license"]["name"] == "CC BY 4.0"
    )
    for endpoint, names in PARAMETERS.items():
        operation = document["paths"][f"/{endpoint}"]["get"]
        assert [p["name"] for p in operation["parameters"]] == list(names)
        fields = set(operation["responses"]["200"]["content"]["application/json"]["schema"]
                     ["properties"]["data"]["items"]["properties"])  # fmt: skip
        sample = client.get(f"/api/v1/{endpoint}?level=province").get_json()["data"]
        assert set(sample[0]) == fields
    page = client.get("/api")
    assert page.status_code == 200  # the Dash page for people
