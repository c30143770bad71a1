"""The HTTP SMS gateway adapter against a real local HTTP server standing for the gateway.

Every test also checks, through the captured log, that the number, the message text and the
token never reach a log line.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from certificates import web
from certificates.sms_http import (
    GatewayConfig,
    GatewayError,
    HttpSmsSender,
    RecipientError,
    to_e164,
)
from tests.conftest import free_port
from vaxviet.settings import Settings, SettingsError

pytestmark = pytest.mark.integration

PHONE = "0912345678"
E164 = "+84912345678"
SUBSCRIBER_DIGITS = "912345678"
CODE = "493817"
TEXT = f"VaxViet: ma xac nhan giay chung nhan tiem chung {CODE} (hieu luc 5 phut)"
TOKEN = "tok-" + secrets.token_hex(16)
PATH = "/v1/sms"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gateway:
    """What the fake gateway answers, in order (then 200), and what it received."""

    url: str = ""
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    received: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, request: Request) -> tuple[Any, ...]:
        with self.lock:
            self.received.append(request)
            return self.replies.pop(0) if self.replies else ("answer", 200, {}, b"{}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = self.server.gateway.take(
            Request(self.path, dict(self.headers.items()), body, time.monotonic())
        )
        if reply[0] == "hang":  # reads the request, never answers
            self.server.gateway.release.wait(30)
        elif reply[0] == "trickle":  # a status line, then header bytes slower than any bound
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            stop = time.monotonic() + 5
            while time.monotonic() < stop and not self.server.gateway.release.is_set():
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)
        else:
            _, status, headers, payload = reply
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.gateway = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.gateway
    server.gateway.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The adapter's log at DEBUG; after each test: nothing personal or secret in it."""
    caplog.set_level(logging.DEBUG, logger="certificates.sms_http")
    yield caplog
    assert_clean(caplog.text)
    for record in caplog.records:
        assert_clean(record.getMessage())


def assert_clean(text: str) -> None:
    for secret in (SUBSCRIBER_DIGITS, CODE, TEXT, TOKEN, TOKEN[4:]):
        assert secret not in text


def sender(gateway: Gateway, **overrides: Any) -> HttpSmsSender:
    options: dict[str, Any] = {
        "url": gateway.url + PATH,
        "token": TOKEN,
        "sender_id": "VAXVIET",
        "read_timeout_seconds": 2.0,
        "total_seconds": 5.0,
        "backoff_base_seconds": 0.01,
        "backoff_cap_seconds": 0.05,
    }
    return HttpSmsSender(GatewayConfig(**(options | overrides)))


def answer(status: int, headers: dict[str, str] | None = None, body: Any = None) -> tuple[Any, ...]:
    return ("answer", status, headers or {}, json.dumps(body or {}).encode())


def test_a_message_is_delivered_as_json_with_the_bearer_token(
    gateway: Gateway, log: pytest.LogCaptureFixture
) -> None:
    gateway.replies.append(answer(202, body={"message_id": "gw-7f3a"}))
    sender(gateway).send(PHONE, TEXT)
    [request] = gateway.received
    assert request.path == PATH
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.json == {"to": E164, "text": TEXT, "sender": "VAXVIET"}
    assert "status 202, attempts 1, message id gw-7f3a" in log.text


def test_a_number_already_in_e164_is_kept(gateway: Gateway) -> None:
    sender(gateway).send(E164, TEXT)
    assert gateway.received[0].json["to"] == E164


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("0912345678", E164),
        ("+84912345678", E164),
        ("091 234 5678", E164),
        ("0387.654.321", "+84387654321"),
    ],
)
def test_numbers_in_national_or_e164_form(typed: str, sent: str) -> None:
    assert to_e164(typed) == sent


@pytest.mark.parametrize(
    "typed",
    ["84912345678", "+85212345678", "091234567", "09123456789", "+840912345678", "0012345678", ""],
)
def test_other_numbers_are_refused_without_echoing_them(gateway: Gateway, typed: str) -> None:
    with pytest.raises(RecipientError) as caught:
        sender(gateway).send(typed, TEXT)
    digits = "".join(c for c in typed if c.isdigit())
    assert not digits or digits not in str(caught.value)
    assert gateway.received == []


def test_a_503_is_retried_once_then_delivered(
    gateway: Gateway, log: pytest.LogCaptureFixture
) -> None:
    gateway.replies += [answer(503), answer(200, body={"id": 81234})]
    sender(gateway).send(PHONE, TEXT)
    first, second = gateway.received
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert "attempt 1 failed (status 503)" in log.text
    assert "status 200, attempts 2, message id 81234" in log.text


def test_a_429_waits_for_its_retry_after(gateway: Gateway, log: pytest.LogCaptureFixture) -> None:
    gateway.replies += [answer(429, {"Retry-After": "1"}), answer(200)]
    sender(gateway, retry_after_cap_seconds=2.0).send(PHONE, TEXT)
    first, second = gateway.received
    assert second.at - first.at >= 0.95  # the backoff alone would be ≤ 0.05 s
    assert "status 200, attempts 2" in log.text


def test_a_429_asking_longer_than_the_cap_gives_up_at_once(gateway: Gateway) -> None:
    gateway.replies.append(answer(429, {"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(GatewayError, match="above the cap") as caught:
        sender(gateway, retry_after_cap_seconds=2.0).send(PHONE, TEXT)
    assert time.monotonic() - started < 1
    assert (caught.value.status, caught.value.attempts, len(gateway.received)) == (429, 1, 1)


def test_a_400_is_not_retried(gateway: Gateway, log: pytest.LogCaptureFixture) -> None:
    gateway.replies.append(answer(400, body={"error": "bad request"}))
    with pytest.raises(GatewayError) as caught:
        sender(gateway).send(PHONE, TEXT)
    assert (caught.value.status, caught.value.attempts, len(gateway.received)) == (400, 1, 1)
    assert_clean(str(caught.value))
    assert "refused it with status 400 (attempts: 1)" in log.text


def test_a_gateway_that_never_answers_times_out_within_the_bound(
    gateway: Gateway, log: pytest.LogCaptureFixture
) -> None:
    gateway.replies += [("hang",)] * 10
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        sender(gateway, read_timeout_seconds=0.3, total_seconds=1.0).send(PHONE, TEXT)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.5
    assert caught.value.status is None and len(gateway.received) >= 2
    assert "TimeoutError" in log.text
    assert_clean(str(caught.value))


def test_a_trickling_gateway_is_cut_at_the_bound(gateway: Gateway) -> None:
    gateway.replies += [("trickle",)] * 3
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        # every byte comes well within the read timeout: only the total bound can end it
        sender(gateway, read_timeout_seconds=2.0, total_seconds=1.0).send(PHONE, TEXT)
    assert time.monotonic() - started < 1.5
    assert caught.value.status is None  # the status line came, but not a whole answer


def test_an_unreachable_gateway_is_retried_up_to_the_attempt_limit() -> None:
    unreachable = Gateway(url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayError) as caught:
        sender(unreachable, max_attempts=3).send(PHONE, TEXT)
    assert (caught.value.status, caught.value.attempts) == (None, 3)


def settings(tmp_path: Path, **variables: str) -> Settings:
    return Settings.from_env(
        {
            "VAX_VAR_DIR": str(tmp_path),
            "VAX_SMS_SENDER": "certificates.sms_http:from_settings",
            **variables,
        }
    )


PRODUCTION = {
    "VAX_MODE": "production",
    "VAX_WAREHOUSE_DSN": "https://etl:pw@clickhouse.internal:8443",
    "VAX_SOURCE_DSN": "postgresql+psycopg://registry@db/registry",
    "VAX_SECRET_KEY": "s" * 40,
    "VAX_PSEUDONYM_KEY": "ab" * 32,
    "VAX_SIGNING_KEY_PATH": "/etc/vax/key.pem",
    "VAX_SIGNING_CERT_PATH": "/etc/vax/cert.pem",
}


def test_the_web_layer_loads_the_adapter_named_by_vax_sms_sender(
    gateway: Gateway, tmp_path: Path
) -> None:
    configured = settings(
        tmp_path,
        VAX_SMS_GATEWAY_URL=gateway.url + PATH,
        VAX_SMS_GATEWAY_TOKEN=TOKEN,
        VAX_SMS_GATEWAY_SENDER_ID="BYT",
        VAX_SMS_GATEWAY_TIMEOUT_SECONDS="1.5",
        VAX_SMS_GATEWAY_TOTAL_SECONDS="4",
    )
    assert TOKEN not in repr(configured)
    loaded, why = web.sms_sender(configured)
    assert why == "" and isinstance(loaded, HttpSmsSender)
    config = loaded.config
    assert (config.read_timeout_seconds, config.connect_timeout_seconds) == (1.5, 1.5)
    assert config.total_seconds == 4
    loaded.send(PHONE, TEXT)
    assert gateway.received[0].json == {"to": E164, "text": TEXT, "sender": "BYT"}
    assert gateway.received[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_web_layer_says_what_is_missing(tmp_path: Path) -> None:
    loaded, why = web.sms_sender(settings(tmp_path, VAX_SMS_GATEWAY_TOKEN=TOKEN))
    assert loaded is None
    assert "VAX_SMS_GATEWAY_URL" in why and "VAX_SMS_GATEWAY_TOKEN" not in why
    assert TOKEN not in why


def test_production_needs_https_and_both_variables(tmp_path: Path) -> None:
    loaded, why = web.sms_sender(settings(tmp_path, **PRODUCTION))
    assert loaded is None
    assert "VAX_SMS_GATEWAY_URL" in why and "VAX_SMS_GATEWAY_TOKEN" in why
    plain = {"VAX_SMS_GATEWAY_URL": "http://sms.example.vn/send", "VAX_SMS_GATEWAY_TOKEN": TOKEN}
    loaded, why = web.sms_sender(settings(tmp_path, **PRODUCTION, **plain))
    assert loaded is None and "https://" in why and TOKEN not in why
    secure = plain | {"VAX_SMS_GATEWAY_URL": "https://sms.example.vn/send"}
    loaded, why = web.sms_sender(settings(tmp_path, **PRODUCTION, **secure))
    assert isinstance(loaded, HttpSmsSender) and why == ""


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_gateway_seconds_must_be_positive_numbers(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="VAX_SMS_GATEWAY_TOTAL_SECONDS"):
        settings(tmp_path, VAX_SMS_GATEWAY_TOTAL_SECONDS=value)


def test_a_token_that_cannot_travel_in_a_header_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    broken = TOKEN[:10] + "é" + TOKEN[10:]
    loaded, why = web.sms_sender(
        settings(
            tmp_path, VAX_SMS_GATEWAY_URL="http://127.0.0.1:9/send", VAX_SMS_GATEWAY_TOKEN=broken
        )
    )
    assert loaded is None and "VAX_SMS_GATEWAY_TOKEN" in why
    assert TOKEN[:10] not in why and TOKEN[10:] not in why
