"""The citizen lookup API on real parts: an ETL-loaded chDB warehouse, the Flask app with the
real limiter, the demo SMS outbox, Redis when it runs. Canary identity values must never
reach a log, the outbox, a URL or the limiter's storage."""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path
from typing import Any

import flask
import pytest

from certificates import keys, lookup, qr, verify, web
from tests.certificates_helpers import page_image, png_of
from tests.integration.helpers import (
    CANARY_CCCD,
    CANARY_NAME,
    CANARY_PHONE,
    DETAILS,
    KEY_HEX,
    canary_loaded,  # noqa: F401  (the fixture `loaded`)
)
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration


def make_app(warehouse: Warehouse, tmp_path: Path, **env: str) -> flask.Flask:
    settings = Settings.from_env(
        {"VAX_VAR_DIR": str(tmp_path / "var"), "VAX_PSEUDONYM_KEY": KEY_HEX, **env}
    )
    app = flask.Flask("test")
    Services(settings=settings, warehouse=warehouse).attach(app)
    web.register_certificates(app)
    return app


@pytest.fixture
def app(loaded: Warehouse, tmp_path: Path) -> flask.Flask:
    return make_app(loaded, tmp_path)


def post(client: Any, path: str, body: dict[str, str], address: str = "10.0.0.1") -> Any:
    return client.post(path, json=body, environ_base={"REMOTE_ADDR": address})


def outbox_codes(app: flask.Flask) -> list[str]:
    service = web.certificate_service(app)
    assert service.lookup is not None and service.outbox is not None
    service.lookup.wait_for_sending()
    return [m["message"].split("nhan tiem chung ")[1][:6] for m in service.outbox.recent()]


def test_code_then_certificate(app: flask.Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    started = time.monotonic()
    asked = post(client, "/api/v1/certificate/code", DETAILS)
    assert time.monotonic() - started >= web.CODE_REQUEST_FLOOR_SECONDS
    assert asked.status_code == 202 and asked.headers["Cache-Control"] == "no-store"
    token = asked.get_json()["request"]
    (code,) = outbox_codes(app)

    wrong = post(client, "/api/v1/certificate/confirm", {"request": token, "code": "000000"})
    if code == "000000":
        pytest.skip("the random code happened to be 000000")
    assert wrong.status_code == 401
    shown = post(client, "/api/v1/certificate/confirm", {"request": token, "code": code})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    card = shown.get_json()
    assert card["status"] == "green" and card["name"] == "Nguyễn V. C."
    assert card["birth_year"] == 1990
    assert [d["lot"] for d in card["doses"]] == ["LOT1", "LOT2"]
    assert card["doses"][0]["province"] == "Hồ Chí Minh"
    png = base64.b64decode(card["png"])
    trust = web.certificate_service(app).trust
    result = verify.verify_image(png, trust, verify.parse_instant(card["valid_until"] + "T00:00Z"))
    assert qr.decode_qr(png) == card["hc1"] and result.valid
    # the printable PDF of that certificate; only verified certificates are drawn
    printed = post(client, "/api/v1/certificate/pdf", {"hc1": card["hc1"]})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.headers["Cache-Control"] == "no-store"
    assert "attachment" in printed.headers["Content-Disposition"]
    assert qr.decode_qr(png_of(page_image(printed.data))) == card["hc1"]
    forged = card["hc1"][:-8] + ("A" if card["hc1"][-8] != "A" else "B") + card["hc1"][-7:]
    refused = post(client, "/api/v1/certificate/pdf", {"hc1": forged})
    assert refused.status_code == 422 and refused.get_json()["failed_stage"]
    assert post(client, "/api/v1/certificate/pdf", {}).status_code == 400
    # single use
    again = post(client, "/api/v1/certificate/confirm", {"request": token, "code": code})
    assert again.status_code == 401

    # trust list published beside it
    assert client.get("/api/v1/trust-list").get_json()["keys"]
    # the outbox shows the message with a masked number; the demo page says it is a demo
    demo = client.get("/certificate/demo-sms")
    assert b"DEMO" in demo.data and b"*******321" in demo.data
    assert demo.headers["Cache-Control"] == "no-store"

    records = "\n".join(r.getMessage() for r in caplog.records)
    for canary in (CANARY_CCCD, CANARY_NAME, CANARY_PHONE, "Canary"):
        assert canary not in records
        assert canary.encode() not in demo.data


@pytest.mark.parametrize(
    "changes",
    [
        {"citizen_id": "079090999999"},  # no such person
        {"full_name": "Nguyen Van Canary"},  # diacritics missing: not tolerated
        {"date_of_birth": "1990-05-02"},
        {"phone": "0900000000"},
    ],
    ids=["no-such-person", "name", "birth", "phone"],
)
def test_mismatches_look_like_matches(app: flask.Flask, changes: dict[str, str]) -> None:
    client = app.test_client()
    started = time.monotonic()
    answer = post(client, "/api/v1/certificate/code", {**DETAILS, **changes})
    assert time.monotonic() - started >= web.CODE_REQUEST_FLOOR_SECONDS
    assert answer.status_code == 202
    assert set(answer.get_json()) == {"request", "message", "expires_in"}
    assert outbox_codes(app) == []  # no code went anywhere
    for code in ("000000", "123456"):
        token = answer.get_json()["request"]
        rejected = post(client, "/api/v1/certificate/confirm", {"request": token, "code": code})
        assert rejected.status_code == 401 and rejected.get_json() == {"error": "code_rejected"}


def test_tolerant_name_and_phone_spelling(app: flask.Flask) -> None:
    client = app.test_client()
    variant = {**DETAILS, "full_name": "  NGUYỄN   văn  CANARY ", "phone": "+84 987 654 321"}
    assert post(client, "/api/v1/certificate/code", variant).status_code == 202
    assert len(outbox_codes(app)) == 1


def test_malformed_input(app: flask.Flask) -> None:
    client = app.test_client()
    answer = post(client, "/api/v1/certificate/code", {**DETAILS, "citizen_id": "12345"})
    assert answer.status_code == 400 and answer.get_json()["field"] == "citizen_id"
    assert post(client, "/api/v1/certificate/code", {}).status_code == 400


def test_rate_limit_per_citizen_id(app: flask.Flask) -> None:
    client = app.test_client()
    other = {**DETAILS, "citizen_id": "001190000001"}
    codes = [
        post(client, "/api/v1/certificate/code", other, address=f"10.1.0.{n}").status_code
        for n in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    limited = post(client, "/api/v1/certificate/code", other, address="10.1.0.9")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"] == "rate_limited"
    # another person from the same addresses is not affected
    assert post(client, "/api/v1/certificate/code", DETAILS, address="10.1.0.9").status_code == 202


def test_rate_limit_per_client(app: flask.Flask) -> None:
    client = app.test_client()
    statuses = [
        post(client, "/api/v1/certificate/confirm", {"request": "x", "code": "1"}).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_redis_storage_for_limits_and_codes(
    loaded: Warehouse, tmp_path: Path, redis_url: str
) -> None:
    app = make_app(loaded, tmp_path, VAX_CACHE_URL=redis_url)
    service = web.certificate_service(app)
    assert service.lookup is not None
    assert isinstance(service.lookup.store, lookup.RedisChallengeStore)
    client = app.test_client()
    token = post(client, "/api/v1/certificate/code", DETAILS).get_json()["request"]
    (code,) = outbox_codes(app)
    assert (
        post(client, "/api/v1/certificate/confirm", {"request": token, "code": code}).status_code
        == 200
    )
    assert (
        post(client, "/api/v1/certificate/confirm", {"request": token, "code": code}).status_code
        == 401
    )

    import redis

    stored = b"\n".join(redis.Redis.from_url(redis_url).keys("*"))
    assert CANARY_CCCD.encode() not in stored and CANARY_PHONE.encode() not in stored


def test_production_without_gateway_refuses_lookup(loaded: Warehouse, tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")})
    keys.ensure(settings)
    app = make_app(
        loaded,
        tmp_path,
        VAX_MODE="production",
        VAX_WAREHOUSE_DSN="http://localhost:8123",
        VAX_SOURCE_DSN="sqlite:///x",
        VAX_SECRET_KEY="s",
        VAX_SIGNING_KEY_PATH=str(settings.signing_key_path),
        VAX_SIGNING_CERT_PATH=str(settings.signing_cert_path),
    )
    answer = post(app.test_client(), "/api/v1/certificate/code", DETAILS)
    assert answer.status_code == 503 and "VAX_SMS_SENDER" in answer.get_json()["reason"]
    assert app.test_client().get("/certificate/demo-sms").status_code == 404


@pytest.mark.parametrize("proxies", [0, 1])
def test_rate_limits_count_the_forwarded_client_only_behind_a_trusted_proxy(
    loaded: Warehouse, tmp_path: Path, proxies: int
) -> None:
    """Behind a proxy every request comes from the proxy's address: with
    VAX_TRUSTED_PROXIES=1 the limit counts per forwarded client; with 0 the header is
    ignored (a client cannot choose its own address to dodge the limit)."""
    from vaxviet.server import trust_proxies

    app = make_app(loaded, tmp_path, VAX_TRUSTED_PROXIES=str(proxies))
    trust_proxies(app, app.extensions["vaxviet"].settings.trusted_proxies)  # as create_server does
    client = app.test_client()

    def confirm(forwarded: str) -> int:
        answer = client.post(
            "/api/v1/certificate/confirm",
            json={"request": "x", "code": "1"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},  # the proxy
            headers={"X-Forwarded-For": forwarded},
        )
        return int(answer.status_code)

    assert [confirm("203.0.113.1") for _ in range(21)] == [401] * 20 + [429]
    assert confirm("203.0.113.2") == (401 if proxies else 429)
