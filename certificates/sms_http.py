"""SMS through a generic HTTP gateway: the production `SmsSender` of the certificate lookup.

Chosen with ``VAX_SMS_SENDER=certificates.sms_http:from_settings``. Each message is one
JSON POST to ``VAX_SMS_GATEWAY_URL``::

    Authorization: Bearer <VAX_SMS_GATEWAY_TOKEN>
    {"to": "+84912345678", "text": "...", "sender": "<VAX_SMS_GATEWAY_SENDER_ID>"}

with an ``Idempotency-Key`` header that stays the same across the retries of one message.

* Numbers go out in E.164: ``0xxxxxxxxx`` becomes ``+84xxxxxxxxx``, ``+84xxxxxxxxx`` is
  kept, anything else is refused (`RecipientError`, whose text never holds the number).
* Any 2xx is delivered. Connection errors, timeouts and 5xx are retried with exponential
  backoff (with jitter); 429 is retried after its ``Retry-After`` when that is at most
  `GatewayConfig.retry_after_cap_seconds` (a longer wait gives up at once); any other answer
  (3xx, 4xx) is not retried. All of it fits in ``total_seconds``: no attempt starts, and no
  wait is taken, past that bound, and a watchdog cuts the connection of an attempt that is
  still running when it is reached (a gateway trickling bytes slower than the read timeout
  could otherwise hold it forever).
* A message that cannot be delivered raises `GatewayError` after a warning in the log.
* Logs carry the gateway's status code, the attempt count and the gateway's message id
  (when its JSON answer has one) — never the number, the text or the token.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import random
import re
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from vaxviet.settings import Settings

log = logging.getLogger(__name__)

#: connecting never waits longer than this (and never longer than the read timeout)
CONNECT_TIMEOUT_CAP_SECONDS = 5.0
#: the gateway's answer is read up to this size (enough for any status document)
MAX_ANSWER_BYTES = 64 * 1024
_MESSAGE_ID_KEYS = ("message_id", "messageId", "id")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_jitter = random.SystemRandom()


class RecipientError(ValueError):
    """The number is not a Viet Nam mobile number in a form the adapter sends to."""


class GatewayError(RuntimeError):
    """The gateway did not accept the message; `status` is its last answer (None: none)."""

    def __init__(self, reason: str, status: int | None, attempts: int) -> None:
        super().__init__(f"SMS not delivered: {reason} (attempts: {attempts})")
        self.status = status
        self.attempts = attempts


def to_e164(phone: str) -> str:
    """``0xxxxxxxxx`` or ``+84xxxxxxxxx`` (spaces, dots and dashes ignored) as ``+84xxxxxxxxx``."""
    compact = re.sub(r"[\s.\-]", "", phone)
    if re.fullmatch(r"0[1-9]\d{8}", compact):
        return "+84" + compact[1:]
    if re.fullmatch(r"\+84[1-9]\d{8}", compact):
        return compact
    raise RecipientError(
        "the recipient is not a Viet Nam mobile number (expected 0 or +84 and 9 digits)"
    )


@dataclass(frozen=True)
class GatewayConfig:
    url: str
    token: str = field(repr=False)
    sender_id: str = "VAXVIET"
    connect_timeout_seconds: float = CONNECT_TIMEOUT_CAP_SECONDS
    read_timeout_seconds: float = 10.0
    total_seconds: float = 30.0
    max_attempts: int = 5
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 8.0
    retry_after_cap_seconds: float = 10.0

    def __post_init__(self) -> None:
        target = urlsplit(self.url)
        try:
            port = target.port
        except ValueError:
            port = -1
        if target.scheme not in ("http", "https") or not target.hostname or port == -1:
            raise ValueError("VAX_SMS_GATEWAY_URL must be an http:// or https:// URL")
        if not re.fullmatch(r"[\x21-\x7e]+", self.token):
            raise ValueError("VAX_SMS_GATEWAY_TOKEN must be printable ASCII without spaces")
        if self.max_attempts < 1 or min(self.read_timeout_seconds, self.total_seconds) <= 0:
            raise ValueError("the SMS gateway needs at least one attempt and positive timeouts")


@dataclass(frozen=True)
class _Answer:
    status: int
    retry_after: str | None
    body: bytes


class HttpSmsSender:
    """`certificates.lookup.SmsSender` over an HTTP gateway (see the module text)."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        target = urlsplit(config.url)
        self._https = target.scheme == "https"
        self._host = target.hostname or ""
        self._port = target.port
        self._path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        self._tls = ssl.create_default_context() if self._https else None

    def send(self, phone: str, message: str) -> None:
        recipient = to_e164(phone)
        body = json.dumps(
            {"to": recipient, "text": message, "sender": self.config.sender_id},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {
            "Authorization": f"Bearer {self.config.token}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
            "User-Agent": "VaxViet-SMS/1",
        }
        deadline = time.monotonic() + self.config.total_seconds
        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            try:
                answer = self._post(body, headers, deadline)
            except ssl.SSLCertVerificationError:
                self._give_up("the gateway's TLS certificate is not trusted", None, attempt)
            except (OSError, http.client.HTTPException) as error:
                failure = type(error).__name__
                wait = self._backoff(attempt)
            else:
                status = answer.status
                if 200 <= status < 300:
                    log.info(
                        "SMS accepted by the gateway: status %d, attempts %d, message id %s",
                        status,
                        attempt,
                        _message_id(answer.body, recipient) or "-",
                    )
                    return
                failure = f"status {status}"
                if status == 429:
                    asked = _retry_after_seconds(answer.retry_after)
                    if asked is not None and asked > self.config.retry_after_cap_seconds:
                        self._give_up(
                            f"status 429, Retry-After {asked:.0f} s is above the cap of "
                            f"{self.config.retry_after_cap_seconds:g} s",
                            status,
                            attempt,
                        )
                    wait = self._backoff(attempt) if asked is None else asked
                elif status < 500:
                    self._give_up(f"the gateway refused it with status {status}", status, attempt)
                else:
                    wait = self._backoff(attempt)
            if attempt >= self.config.max_attempts:
                self._give_up(f"{failure} on the last attempt", status, attempt)
            if time.monotonic() + wait >= deadline:
                self._give_up(
                    f"{failure}; no time left within {self.config.total_seconds:g} s",
                    status,
                    attempt,
                )
            log.info(
                "SMS gateway attempt %d failed (%s); retrying in %.2f s", attempt, failure, wait
            )
            time.sleep(wait)

    def _post(self, body: bytes, headers: dict[str, str], deadline: float) -> _Answer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no time left")
        connect_timeout = min(
            self.config.connect_timeout_seconds, self.config.read_timeout_seconds, remaining
        )
        connection: http.client.HTTPConnection
        if self._tls is not None:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=connect_timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=connect_timeout)
        cut = threading.Event()
        watchdog = threading.Timer(remaining, _cut, (connection, cut))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.connect()
            connection.sock.settimeout(
                max(0.001, min(self.config.read_timeout_seconds, deadline - time.monotonic()))
            )
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
            if cut.is_set():  # an answer cut short can look whole (EOF ends the headers)
                raise TimeoutError("the attempt was cut at the total bound")
            try:
                data = response.read(MAX_ANSWER_BYTES)
            except (OSError, http.client.HTTPException):
                if not 200 <= response.status < 300:
                    raise
                data = b""  # accepted: a lost status document is no reason to send it twice
            return _Answer(response.status, response.getheader("Retry-After"), data)
        finally:
            watchdog.cancel()
            connection.close()

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1)
        )
        return ceiling * _jitter.uniform(0.5, 1.0)

    def _give_up(self, reason: str, status: int | None, attempts: int) -> NoReturn:
        log.warning("SMS not delivered: %s (attempts: %d)", reason, attempts)
        raise GatewayError(reason, status, attempts)


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """The watchdog: end an attempt still running at the deadline."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _message_id(body: bytes, recipient: str) -> str | None:
    """The gateway's id for the message, when it gives a plain one that is not the number."""
    try:
        document: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    for key in _MESSAGE_ID_KEYS:
        value = document.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
            if _SAFE_ID.fullmatch(text) and recipient[3:] not in text:
                return text
    return None


def from_settings(settings: Settings) -> HttpSmsSender:
    """The factory ``VAX_SMS_SENDER`` names; ValueError says what is missing or wrong."""
    missing = [
        name
        for name, value in (
            ("VAX_SMS_GATEWAY_URL", settings.sms_gateway_url),
            ("VAX_SMS_GATEWAY_TOKEN", settings.sms_gateway_token),
        )
        if not value
    ]
    if missing:
        raise ValueError("the HTTP SMS gateway needs " + ", ".join(missing) + " (not set)")
    if not settings.embedded and urlsplit(settings.sms_gateway_url).scheme != "https":
        raise ValueError("VAX_SMS_GATEWAY_URL must be an https:// URL in production mode")
    return HttpSmsSender(
        GatewayConfig(
            url=settings.sms_gateway_url,
            token=settings.sms_gateway_token,
            sender_id=settings.sms_gateway_sender_id,
            connect_timeout_seconds=min(
                CONNECT_TIMEOUT_CAP_SECONDS, settings.sms_gateway_timeout_seconds
            ),
            read_timeout_seconds=settings.sms_gateway_timeout_seconds,
            total_seconds=settings.sms_gateway_total_seconds,
        )
    )
