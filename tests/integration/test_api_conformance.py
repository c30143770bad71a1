"""The open-data API is exactly what its OpenAPI document says (docs/api.md, "What is
guaranteed"), tested by a property-based tester driven by that document: Schemathesis.

The document is read through WSGI from the API's blueprint when the module is collected
(it needs no warehouse), and is checked to be the one the whole server serves. For every
operation Schemathesis sends the document's examples, every boundary and excluded value of
each parameter and the methods the document does not list (its coverage phase), then
random requests the document allows and excludes (fuzzing), to the whole server (the
stored-answers middleware included) on a small warehouse loaded once for the module, and
runs all its response checks on every answer: no 5xx; a status, content type (JSON or
CSV), headers and body the document gives for the operation; a request it allows answered
200 (or a documented 404: an area code of another level, by=month below the country), one
it excludes refused with a 400; another method a 405 with `Allow`. Beside it: a CSV, a 304,
a 400 and a 404 of every operation, every other method, unknown paths, a 503.

Deterministic (derandomised, a fixed seed) and bounded (MAX_EXAMPLES; ~20 s here).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import flask
import hypothesis
import jsonschema
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case

from portal.api import api
from tests.integration.conftest import MigratedSchema
from tests.portal_data import campaign
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse
from warehouse.ledger import write_states

pytestmark = pytest.mark.integration

#: random requests per operation and generation mode (positive, negative), after the
#: document's examples and the coverage phase's boundaries (those are not counted here)
MAX_EXAMPLES = 100

#: every check schemathesis has for a single response; the stateful ones (use_after_free,
#: ensure_resource_availability, object_level_authorization) need links between operations
#: and the auth ones (ignored_auth, missing_required_header) security schemes or required
#: headers, which this read-only, keyless API has none of: enabled all the same, they pass
#: trivially.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20211208,
        "checks": {
            "enabled": True,
            # a request the document allows is answered: rows, or a documented 404 (an
            # area code of another level than the one asked, by=month below the country)
            "positive_data_acceptance": {"expected-statuses": ["200", "404"]},
            # a request the document excludes is refused with a 400 naming the parameter
            "negative_data_rejection": {"expected-statuses": ["400"]},
        },
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


@pytest.fixture(scope="module")
def api_app(
    chdb_root: Warehouse, chdb_schema: MigratedSchema, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[flask.Flask]:
    """The whole server on a small campaign, one warehouse for the module."""
    warehouse = dataclasses.replace(chdb_root, database=f"t_{uuid.uuid4().hex[:12]}")
    chdb_schema.clone(warehouse)
    write_states(warehouse, campaign(600), batch="conformance")
    var: Path = tmp_path_factory.mktemp("conformance")
    settings = Settings.from_env({"VAX_VAR_DIR": str(var)})
    yield create_server(Services(settings=settings, warehouse=warehouse))
    warehouse.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


def _document_app() -> flask.Flask:
    """The API's blueprint alone: the document is served without a warehouse, so it can be
    read (through WSGI, as a client would) when the tests are collected."""
    app = flask.Flask("conformance")
    app.register_blueprint(api)
    return app


DOCUMENT = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app(), config=CONFIG)


@DOCUMENT.parametrize()
@hypothesis.settings(
    derandomize=True,
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_response_is_what_the_document_says(case: Case, api_app: flask.Flask) -> None:
    # identity: the WSGI client does not undo gzip (the server gzips stored answers for a
    # client that accepts it; HTTP's business, the same body)
    case.call_and_validate(app=api_app, headers=IDENTITY)


def test_the_document_tested_is_the_one_the_server_serves(api_app: flask.Flask) -> None:
    served = api_app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.is_json
    assert served.get_json() == DOCUMENT.raw_schema


IDENTITY: Final = {"Accept-Encoding": "identity"}
OPERATIONS: Final = sorted(DOCUMENT.raw_schema["paths"])

#: per operation, requests that must meet each documented answer: rows as CSV, a 400 and
#: a 404 (the fuzzing above finds them too, but not surely each for every operation)
CSV_QUERY: Final = {
    "/coverage": {"level": "province", "area": "79,01", "denominator": "adult"},
    "/timeseries": {"level": "province2025", "area": "08", "from": "2021-08-01"},
    "/vaccines": {"level": "region"},
    "/areas": {"level": "province"},
    "/corrections": {"level": "province", "area": "01,79"},
    "/supply": {"area": "79,01", "from": "2021-08-01", "to": "2021-08-03"},
}
#: operations without a 404 of their own: no `area` (areas), or only one level (supply)
NO_404: Final = ("/areas", "/supply")


@pytest.mark.parametrize("path", OPERATIONS)
def test_csv_error_and_not_modified_answers_are_documented(path: str, api_app: flask.Flask) -> None:
    operation = DOCUMENT[path]["GET"]
    fields = DOCUMENT.raw_schema["paths"][path]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["properties"]["data"]["items"]["required"]
    as_csv = operation.Case(query={**CSV_QUERY[path], "format": "csv"})
    answer = as_csv.call_and_validate(app=api_app, headers=IDENTITY)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == ["text/csv; charset=utf-8"]
    lines = answer.text.splitlines()
    assert lines[0] == ",".join(fields) and len(lines) > 1
    etag = answer.headers["etag"][0]
    again = as_csv.call(app=api_app, headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304
    as_csv.validate_response(again)
    refused = operation.Case(query={"level": "district"}).call_and_validate(app=api_app)
    assert refused.status_code == 400 and refused.json()["error"]["parameter"] == "level"
    if path not in NO_404:
        absent = operation.Case(query={"level": "national", "area": "01,79"})
        assert absent.call_and_validate(app=api_app).status_code == 404


def _error_schema(status: int) -> dict[str, Any]:
    response = DOCUMENT.raw_schema["components"]["responses"][f"Error{status}"]
    return dict(response["content"]["application/json"]["schema"])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "QUERY", "BREW"])
def test_every_other_method_is_a_documented_405_with_allow(
    method: str, api_app: flask.Flask
) -> None:
    client = api_app.test_client()
    for path in OPERATIONS:
        answer = client.open(f"/api/v1{path}?level=province", method=method)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["Allow"] == "GET, HEAD, OPTIONS"
        assert answer.headers["Cache-Control"] == "no-store"
        jsonschema.validate(answer.get_json(), _error_schema(405))
    preflight = client.options("/api/v1/coverage")
    assert preflight.status_code == 204 and preflight.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_unknown_paths_are_the_documented_json_404(api_app: flask.Flask) -> None:
    client = api_app.test_client()
    for method in ("GET", "POST", "TRACE"):
        for path in ("/api/v1/", "/api/v1/nothing", "/api/v1/coverage/01"):
            answer = client.open(path, method=method)
            assert answer.status_code == 404 and answer.is_json, (method, path)
            jsonschema.validate(answer.get_json(), _error_schema(404))
            assert answer.get_json()["error"]["code"] == "not_found"


def test_an_unreachable_warehouse_is_the_documented_503(
    chdb_root: Warehouse, tmp_path: Path
) -> None:
    """A database that is not there: nothing cached, so a 503 with `Retry-After`."""
    missing = dataclasses.replace(chdb_root, database=f"t_missing_{uuid.uuid4().hex[:8]}")
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    cold = create_server(Services(settings=settings, warehouse=missing))
    answer = DOCUMENT["/coverage"]["GET"].Case(query={"level": "region"})
    # a 503 is a server error, documented: every other check holds
    response = answer.call_and_validate(
        app=cold, headers=IDENTITY, excluded_checks=[not_a_server_error]
    )
    assert response.status_code == 503 and response.json()["error"]["code"] == "data_unavailable"
