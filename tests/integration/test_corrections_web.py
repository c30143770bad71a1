"""Correction requests through the web, in-process (real chDB warehouse, SQLite registry):
the citizen's API (filing with the card's token, the reference by SMS, duplicates and bad
claims, following a request by reference and a one-time code), and the officials' queue at
/internal/corrections (their province only — also by a forged callback and a forged form —,
approval, rejection with its reason, a record that changed meanwhile)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from sqlalchemy import Engine, text

import dashboards.background
from certificates import requests
from certificates.issue import citizen_key
from dashboards.client_requests import log_in, render_body
from registry import corrections as c
from tests.dashboards_data import PASSWORD, build
from tests.integration.registry_helpers import CITIZEN, VACCINE, correction_registry
from vaxviet.services import EXTENSION_KEY as SERVICES_KEY
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

MISSING = {"day": "2021-09-01", "site_id": "01-0001", "vaccine_code": VACCINE, "lot_number": ""}


@pytest.fixture
def platform(warehouse: Warehouse, tmp_path: Path) -> Iterator[tuple[flask.Flask, Engine]]:
    registry = correction_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    server = build(warehouse, tmp_path)  # embedded: var/registry.sqlite is this registry
    yield server, registry
    server.extensions[dashboards.background.BUILDS_KEY].shutdown()


def filing(server: flask.Flask, citizen_id: str = CITIZEN) -> str:
    """The token a confirmed lookup puts on the card (the browser test gets it that way)."""
    settings = server.extensions[SERVICES_KEY].settings
    key = citizen_key(settings.pseudonym_key, citizen_id)[0]
    return requests.filing_token(str(server.config["SECRET_KEY"]).encode(), key)


def file(client: Any, token: str, kind: str, claim: dict[str, Any], **extra: Any) -> Any:
    body = {"filing": token, "citizen_id": CITIZEN, "kind": kind, "claim": claim, **extra}
    return client.post(
        "/api/v1/certificate/corrections", json=body, environ_base={"REMOTE_ADDR": "10.1.0.1"}
    )


def outbox(server: flask.Flask) -> list[str]:
    service = server.extensions["vaxviet.certificates"]
    service.lookup.wait_for_sending()
    return [m["message"] for m in service.outbox.recent()]


def test_a_citizen_files_and_follows_a_request(
    platform: tuple[flask.Flask, Engine],
) -> None:
    server, registry = platform
    client = server.test_client()
    token = filing(server)
    answer = file(client, token, "missing_dose", MISSING)
    assert answer.status_code == 201, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    reference = answer.get_json()["reference"]
    assert any(reference in message for message in outbox(server))  # sent to the phone on record
    # the same claim again: a clear refusal, nothing new written
    again = file(client, token, "missing_dose", MISSING)
    assert again.status_code == 409 and again.get_json()["error"] == "duplicate"
    bad = file(client, token, "missing_dose", {**MISSING, "site_id": "nowhere"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "site_id"
    assert "/" in bad.get_json()["message"]  # both languages
    # a token that is not this citizen's, a forged one, none: refused
    for forged in (filing(server, "001190000002"), token[:-2] + "xx", ""):
        assert file(client, forged, "identity", {"sex": "F"}).status_code == 401
    with registry.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM correction_requests")).scalar() == 1

    # following it: the reference → a code to the phone on record → the state
    asked = client.post("/api/v1/certificate/request/code", json={"reference": reference})
    assert asked.status_code == 202
    code = re.search(r"ma tra cuu yeu cau (\d{6})", outbox(server)[0])
    assert code is not None
    state = client.post(
        "/api/v1/certificate/request/status",
        json={"request": asked.get_json()["request"], "code": code[1]},
    )
    assert state.status_code == 200
    assert state.get_json()["status"] == "open" and state.get_json()["reference"] == reference
    # an unknown reference answers the same way, and no code can open it
    unknown = client.post("/api/v1/certificate/request/code", json={"reference": "VX-NOSUCH"})
    assert unknown.status_code == 202
    wrong = client.post(
        "/api/v1/certificate/request/status",
        json={"request": unknown.get_json()["request"], "code": code[1]},
    )
    assert wrong.status_code == 401


def page(client: Any, search: str) -> str:
    answer = client.post(
        "/internal/_dash-update-component", json=render_body("/internal/corrections", search)
    )
    assert answer.status_code == 200
    return json.dumps(answer.get_json(), ensure_ascii=False)


def act(client: Any, **form: str) -> str:
    with client.session_transaction() as session:
        form.setdefault("csrf", session["internal_csrf"])
    answer = client.post("/internal/corrections/act", data=form)
    assert answer.status_code == 303
    done = re.search(r"done=(\w+)", answer.headers["Location"])
    assert done is not None
    return done[1]


def test_officials_work_their_provinces_queue(platform: tuple[flask.Flask, Engine]) -> None:
    server, registry = platform
    with registry.begin() as connection:
        hanoi = c.file_request(connection, CITIZEN, "identity", {"full_name": "Nguyễn Văn An"})
        hcm = c.file_request(connection, CITIZEN, "missing_dose", {**MISSING, "site_id": "79-0001"})
        seen = c.record_seq(connection, CITIZEN)
    client = server.test_client()
    log_in(client, "hanoi-official", PASSWORD)
    queue = page(client, "")
    assert f"#{hanoi.request_id}" in queue and f"#{hcm.request_id}" not in queue
    # a forged callback for Hồ Chí Minh's request: nothing of it
    forged = page(client, f"?request={hcm.request_id}")
    assert "corrections-missing" in forged and "79-0001" not in forged
    # a forged form: refused as not found, the request is untouched
    assert act(client, request=str(hcm.request_id), action="approve", seen=str(seen)) == "not_found"
    assert act(client, request=str(hcm.request_id), action="reject", reason="x") == "not_found"
    # a wrong form token
    assert act(client, request=str(hanoi.request_id), action="approve", seen=str(seen),
               csrf="forged") == "token"  # fmt: skip
    # its own request: the record and the claim, then approval
    detail = page(client, f"?request={hanoi.request_id}")
    assert "Nguyễn Văn An" in detail and "VN000000000001" in detail
    assert f'"value": "{seen}"' in detail  # the record as shown
    assert (
        act(client, request=str(hanoi.request_id), action="approve", seen=str(seen)) == "approved"
    )
    assert (
        act(client, request=str(hanoi.request_id), action="approve", seen=str(seen)) == "resolved"
    )
    with registry.connect() as connection:
        assert c.get_request(connection, hcm.request_id, "").status == "open"  # type: ignore[union-attr]
        trail = c.audit_trail(connection, hanoi.request_id)
    assert [(a.action, a.actor) for a in trail] == [
        ("filed", "citizen"),
        ("approved", "hanoi-official"),
    ]

    # the national official sees Hồ Chí Minh's; the record changed (the approval above)
    national = server.test_client()
    log_in(national, "nat-official", PASSWORD)
    assert f"#{hcm.request_id}" in page(national, "")
    stale = act(national, request=str(hcm.request_id), action="approve", seen=str(seen))
    assert stale == "changed"
    assert act(national, request=str(hcm.request_id), action="reject", reason=" ") == "invalid"
    assert (
        act(national, request=str(hcm.request_id), action="reject", reason="Không có hồ sơ tại điểm tiêm")
        == "rejected"
    )  # fmt: skip
    assert "Không có hồ sơ" in page(national, f"?request={hcm.request_id}")


def test_the_corrections_page_needs_a_login(platform: tuple[flask.Flask, Engine]) -> None:
    server, _ = platform
    client = server.test_client()
    assert client.get("/internal/corrections").status_code == 302
    answer = client.post("/internal/corrections/act", data={"request": "1", "action": "approve"})
    assert answer.status_code == 401
