"""The sample fraction end to end: a seeded registry records the share of the country it
stands for, the ETL streams it to the warehouse, and every denominator of the portal and
the open-data API uses it; a real registry records nothing and stands for the whole country.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import math
from datetime import date
from pathlib import Path
from typing import Any

import flask
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.stream import stream_once
from geo.provinces import load_provinces
from registry.db import last_change, make_engine, migrate
from registry.sample import REAL, read_sample, record_sample
from registry.simulator import SeedOptions, seed
from tests.portal_data import campaign
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse
from warehouse.ledger import write_states
from warehouse.sample import WHOLE, sample

pytestmark = pytest.mark.integration

KEY = bytes(range(32))
SCALE = 0.0003


@pytest.fixture
def registry(registry_dsn: str) -> Engine:
    engine = make_engine(registry_dsn)
    migrate(engine)
    return engine


def test_the_registry_records_one_sample_row(registry: Engine) -> None:
    with registry.connect() as connection:
        assert read_sample(connection) == REAL  # nothing recorded: a real registry
    with registry.begin() as connection:
        record_sample(connection, 0.01, "first")
    with registry.begin() as connection:
        before = last_change(connection)
        record_sample(connection, 0.02, "second")
    with registry.connect() as connection:
        found = read_sample(connection)
        rows = connection.execute(text("SELECT count(*), max(change_seq) FROM registry_sample"))
        assert tuple(rows.one()) == (1, before + 1)  # replaced, with a fresh change_seq
    assert (found.fraction, found.simulated, found.description) == (0.02, True, "second")
    for bad in (0.0, -0.5, 1.5, math.nan):
        with pytest.raises(ValueError, match="sample fraction"), registry.begin() as connection:
            record_sample(connection, bad, "bad")
    with pytest.raises(IntegrityError), registry.begin() as connection:  # the table's own check
        connection.execute(text("DELETE FROM registry_sample"))
        connection.execute(
            text("INSERT INTO registry_sample VALUES (1, 2.0, true, 'x', '2021-08-04 00:00:00', 0)")
        )


def server(warehouse: Warehouse, tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    return create_server(Services(settings=settings, warehouse=warehouse))


def build(warehouse: Warehouse, tmp_path: Path) -> flask.testing.FlaskClient:
    return server(warehouse, tmp_path).test_client()


def coverage_of(client: flask.testing.FlaskClient, query: str) -> Any:
    response = client.get(f"/api/v1/coverage?{query}")
    assert response.status_code == 200, response.data
    return response.get_json()


def test_a_seeded_registry_streams_its_fraction_to_every_denominator(
    registry: Engine, warehouse: Warehouse, tmp_path: Path
) -> None:
    seed(registry, SeedOptions(scale=SCALE, until=date(2021, 8, 4), seed=3, error_rate=0.0))
    refresh_reference(warehouse, *reference_codes())
    assert sample(warehouse) == WHOLE  # nothing streamed yet
    report = stream_once(warehouse, registry, KEY)
    assert report.operations["registry_sample"] == 1
    found = sample(warehouse)
    assert (found.fraction, found.simulated) == (SCALE, True)
    assert f"scale {SCALE:g}" in found.description

    app = server(warehouse, tmp_path)
    client = app.test_client()
    # the API: populations are the census × the fraction, percentages of those
    for denominator, column in (("total", "population_2019"), ("adult", "population_18plus")):
        document = coverage_of(client, f"level=province&date=2021-08-04&denominator={denominator}")
        census = load_provinces().set_index("gso_code")[column]
        for row in document["data"]:
            assert row["population"] == max(1, round(census[row["area_code"]] * SCALE))
            if row["pct_dose1"] < 100:
                assert row["pct_dose1"] == pytest.approx(
                    100 * row["dose1"] / row["population"], abs=1e-4
                )
            assert row["per100"] == pytest.approx(100 * row["doses"] / row["population"], abs=1e-4)
    national = coverage_of(client, "date=2021-08-04")
    meta, (row,) = national["meta"], national["data"]
    assert meta["sample_fraction"] == SCALE and meta["simulated"] is True
    assert "scale" in meta["sample"]
    census_total = int(load_provinces()["population_2019"].sum())
    assert row["population"] == pytest.approx(census_total * SCALE, rel=1e-3)
    # 6.1 % when this was written (1,767 first doses for 28,864 people); of the whole
    # census the same doses would read 0.002 %
    assert 3 < row["pct_dose1"] < 20, row

    as_csv = client.get("/api/v1/areas?level=national&format=csv")
    assert as_csv.headers["X-Sample-Fraction"] == repr(SCALE)
    assert as_csv.headers["X-Simulated"] == "true"
    (area,) = list(csv.DictReader(io.StringIO(as_csv.data.decode())))
    assert int(area["population_total"]) == row["population"]

    # the pages say so, with the fraction, and quote the populations from the data
    page = client.get("/?lang=en").data.decode()
    assert "Simulated data: a 0.03% sample of the country" in page
    assert f"{census_total:,} people" in page  # the census, from geo/data
    assert f"{row['population']:,} people" in page  # what the sample stands for
    assert "Dữ liệu mô phỏng: một mẫu 0,03% của cả nước" in client.get("/").data.decode()
    province = client.get("/province/01?lang=en").data.decode()
    assert "Simulated data" in province

    # the ranking's CSV download: the sample's populations, and the fraction on every row
    from portal.pages import home

    with app.test_request_context("/"):
        download = home.download(1, "total", "2021-08-04", "63", home.DEFAULT_SORT, "2021-08-04")
    table = {r["area_code"]: r for r in csv.DictReader(io.StringIO(download["content"]))}
    assert len(table) == 63
    assert {(r["sample_fraction"], r["simulated"]) for r in table.values()} == {
        (repr(SCALE), "true")
    }
    hanoi = load_provinces().set_index("gso_code").loc["01", "population_2019"]
    assert int(table["01"]["population"]) == round(hanoi * SCALE)


def test_a_real_registry_stands_for_the_whole_country(
    registry: Engine, warehouse: Warehouse, tmp_path: Path
) -> None:
    refresh_reference(warehouse, *reference_codes())
    report = stream_once(warehouse, registry, KEY)  # a registry without a sample row
    assert report.operations["registry_sample"] == 0
    assert sample(warehouse) == WHOLE
    write_states(warehouse, campaign(500), batch="real")  # doses from elsewhere (file drops)
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('test', 1, 'real')"
    )
    client = build(warehouse, tmp_path)
    document = coverage_of(client, "level=province&area=01")
    meta, (row,) = document["meta"], document["data"]
    assert meta["sample_fraction"] == 1.0 and meta["simulated"] is False
    assert row["population"] == int(
        load_provinces().set_index("gso_code").loc["01", "population_2019"]
    )
    response = client.get("/api/v1/coverage")
    assert response.headers["X-Sample-Fraction"] == "1.0"
    assert response.headers["X-Simulated"] == "false"
    page = client.get("/?lang=en").data.decode()
    assert "sample-notice" not in page and "Simulated data" not in page
    assert "96,208,984 people" in page  # the census, quoted from the data

    # the OpenAPI document describes both
    spec = client.get("/api/v1/openapi.json").get_json()
    ok = spec["paths"]["/coverage"]["get"]["responses"]["200"]
    meta = ok["content"]["application/json"]["schema"]["properties"]["meta"]
    assert {"sample_fraction", "simulated"} <= set(meta["properties"]) & set(meta["required"])
    assert {"X-Sample-Fraction", "X-Simulated"} <= set(ok["headers"])


def test_the_fraction_is_in_the_warehouse_before_the_first_dose(
    registry: Engine, warehouse: Warehouse
) -> None:
    """A fresh warehouse catching up on a simulated registry never shows a dose as the
    whole country's: the sample row is committed before the first batch of doses."""
    from etl.stream import SOURCE

    seed(registry, SeedOptions(scale=SCALE, until=date(2021, 8, 4), seed=3, error_rate=0.0))
    refresh_reference(warehouse, *reference_codes())
    stream_once(warehouse, registry, KEY, rows=500)  # many dose batches
    commits = warehouse.rows(
        "SELECT source, committed_at FROM {db:Identifier}.etl_checkpoints ORDER BY committed_at"
    )
    sources = [source for source, _ in commits]
    assert sources.count(SOURCE) > 1
    assert sources.index("registry:registry_sample") < sources.index(SOURCE), sources[:5]
