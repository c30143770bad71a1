"""Citizens' correction requests on the web (`registry.corrections` holds the rules).

Filing, from the certificate card (after the one-time code):

  ``POST /api/v1/certificate/corrections`` ``{filing, citizen_id, kind, claim}`` → 201
  ``{"reference", "status": "open"}``. ``filing`` is the token the confirmed lookup gave
  with the card (:func:`filing_token`: the citizen's pseudonym and an expiry, signed with
  the server's secret; valid `FILING_SECONDS`): it proves the one-time code was right, and
  the typed CCCD must be that citizen's. The reference is shown once and sent by SMS to the
  phone on record. 400 ``{"error": "invalid", "field", "message"}`` for a bad claim, 409
  ``duplicate``/``already_recorded``, 401 ``filing_expired`` for a missing, forged or old
  token, 503 when the registry cannot be reached.

Following a request, at ``/certificate/request``:

  ``POST /api/v1/certificate/request/code`` ``{reference}`` → 202 ``{"request"}`` always
  (whether or not the reference exists, after the same floor as a code request); a code
  goes to the phone on record of the request's citizen.
  ``POST /api/v1/certificate/request/status`` ``{request, code}`` → 200 the request's
  state (`registry.corrections.public_status`: kind, state, dates, a rejection's reason)
  or 401.

Everything travels in POST bodies, every answer is ``no-store``, nothing personal is logged
or put in a URL; limits per client address and per citizen (`certificates.web`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from typing import Any, Final

import flask
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from registry import corrections
from vaxviet.services import current_services

log = logging.getLogger(__name__)

#: the certificate service's key on the server (`certificates.web.CertificateService`)
SERVICE_KEY: Final = "vaxviet.certificates"
#: every answer to a code request takes at least this long, match or not
CODE_REQUEST_FLOOR_SECONDS: Final = 0.4
#: how long after the code was confirmed a request can be filed from the card
FILING_SECONDS: Final = 1800
REGISTRY_KEY: Final = "vaxviet.certificates.registry"
REFERENCE_SMS: Final = (
    "VaxViet: yeu cau sua thong tin {reference} da duoc tiep nhan. Tra cuu tai /certificate/request"
)
TRACK_SMS: Final = "VaxViet: ma tra cuu yeu cau {code} (hieu luc 5 phut)"


def _signature(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, f"filing:{message}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def filing_token(secret: bytes, citizen_key: str, now: float | None = None) -> str:
    """What the card carries to file a request: the citizen's pseudonym, an expiry, signed."""
    expires = int((now or time.time()) + FILING_SECONDS)
    message = f"{citizen_key}.{expires}"
    return f"{message}.{_signature(secret, message)}"


def filing_subject(secret: bytes, token: str, now: float | None = None) -> str | None:
    """The citizen key a filing token was given for, if it is genuine and not expired."""
    message, _, signature = token.rpartition(".")
    key, _, expires = message.rpartition(".")
    if not key or not expires.isdigit():
        return None
    if not hmac.compare_digest(signature, _signature(secret, message)):
        return None
    return key if int(expires) >= (now or time.time()) else None


def _answer(document: dict[str, Any], status: int) -> flask.Response:
    response = flask.jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _lookup() -> Any:
    """The lookup (one-time codes, SMS), or None when the lookup is unavailable."""
    return flask.current_app.extensions[SERVICE_KEY].lookup


def _registry() -> Engine:
    engine: Engine = flask.current_app.extensions[REGISTRY_KEY]
    return engine


def _phone(connection: Connection, citizen_id: str) -> str:
    """The phone on record (codes and references go there, never to a typed number)."""
    phone = connection.execute(
        text("SELECT phone FROM citizens WHERE citizen_id = :c"), {"c": citizen_id}
    ).scalar()
    return str(phone or "")


def secret() -> bytes:
    secret = flask.current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else str(secret).encode()


def _refused(error: corrections.CorrectionError) -> flask.Response:
    status = 409 if error.code in ("duplicate", "already_recorded") else 400
    return _answer({"error": error.code, "field": error.field, "message": str(error)}, status)


def _unavailable() -> flask.Response:
    log.warning("correction requests: the registry cannot be reached")
    return _answer(
        {"error": "unavailable", "message": "Dịch vụ tạm thời không khả dụng / The service is "
         "unavailable: try again later"},
        503,
    )  # fmt: skip


def file_correction() -> flask.Response:
    from certificates.issue import citizen_key

    settings = current_services().settings
    body = _body()
    subject = filing_subject(secret(), str(body.get("filing", "")))
    citizen_id = "".join(str(body.get("citizen_id", "")).split())
    typed_key = citizen_key(settings.pseudonym_key, citizen_id)[0] if citizen_id else ""
    if subject is None or not hmac.compare_digest(subject, typed_key):
        return _answer(
            {"error": "filing_expired", "message": "Hãy tra cứu lại giấy chứng nhận rồi gửi "
             "yêu cầu / Look the certificate up again, then file the request"},
            401,
        )  # fmt: skip
    claim = body.get("claim")
    if not isinstance(claim, dict):
        claim = {}
    try:
        with _registry().begin() as connection:
            filed = corrections.file_request(
                connection, citizen_id, str(body.get("kind", "")), claim
            )
            phone = _phone(connection, citizen_id)
    except corrections.CorrectionError as error:
        return _refused(error)
    except SQLAlchemyError:
        return _unavailable()
    lookup = _lookup()
    if phone and lookup is not None:
        lookup.notify(str(phone), REFERENCE_SMS.format(reference=filed.reference))
    return _answer({"reference": filed.reference, "status": "open"}, 201)


def track_code() -> flask.Response:
    started = time.monotonic()
    try:
        lookup = _lookup()
        if lookup is None:
            return _answer({"error": "unavailable"}, 503)
        reference = str(_body().get("reference", "")).strip().upper()[:20]
        subject, phone = "", ""
        if reference:
            try:
                with _registry().connect() as connection:
                    request = corrections.by_reference(connection, reference)
                    if request is not None:
                        subject = f"request:{request.request_id}"
                        phone = _phone(connection, request.citizen_id)
            except SQLAlchemyError:
                return _unavailable()
        token = lookup.challenge(subject, phone, TRACK_SMS)
        return _answer({"request": token, "expires_in": 300}, 202)
    finally:
        time.sleep(max(0.0, CODE_REQUEST_FLOOR_SECONDS - (time.monotonic() - started)))


def track_status() -> flask.Response:
    lookup = _lookup()
    if lookup is None:
        return _answer({"error": "unavailable"}, 503)
    body = _body()
    subject = lookup.confirm(str(body.get("request", "")), str(body.get("code", "")))
    if subject is None or not subject.startswith("request:"):
        return _answer({"error": "code_rejected"}, 401)
    try:
        with _registry().connect() as connection:
            request = corrections.get_request(connection, int(subject.split(":")[1]), "")
    except SQLAlchemyError:
        return _unavailable()
    if request is None:
        return _answer({"error": "code_rejected"}, 401)
    return _answer(corrections.public_status(request), 200)
