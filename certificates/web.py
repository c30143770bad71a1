"""Certificates on the platform's web server.

``register_certificates(server)`` (called once from ``vaxviet.server.create_server``):

* loads the signing key — embedded mode creates it in ``var/keys/`` on the first run;
  production stops at start-up if the configured files are missing;
* serves the trust list at ``GET /api/v1/trust-list`` (kid → signer certificate, every key
  still trusted after rotations);
* serves the citizen lookup (`certificates.lookup`) as two JSON endpoints, the only way in:

  ``POST /api/v1/certificate/code``  ``{citizen_id, full_name, date_of_birth, phone}`` →
  202 ``{"request": token}`` for every well-formed request, whether or not anyone matches,
  after the same fixed minimum time; 400 ``{"error": "invalid_input", "field": …}``.

  ``POST /api/v1/certificate/confirm`` ``{request, code}`` → 200 the certificate card
  (`certificates.issue.card`), or 401 ``{"error": "code_rejected"}`` for every failure.

  Rate limits (Flask-Limiter; storage in Redis when ``VAX_CACHE_URL`` is ``redis://…``,
  else in process, `certificates.limits_memory`): per client address and per citizen ID
  (a keyed hash, never the ID) → 429 with ``Retry-After``. Details travel only in POST
  bodies; every answer carries ``Cache-Control: no-store``; nothing about the person is
  logged.
* in embedded mode, the demo SMS outbox at ``GET /certificate/demo-sms``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import flask
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from certificates import card as drawn
from certificates import issue, keys, limits_memory, pdf, requests, verify
from certificates import lookup as citizen_lookup
from certificates.keys import SigningKey
from certificates.trust import TrustList
from vaxviet.services import EXTENSION_KEY as SERVICES_KEY
from vaxviet.services import Services
from vaxviet.settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = requests.SERVICE_KEY
TRUST_LIST_MAX_AGE = 300
CODE_REQUEST_FLOOR_SECONDS = requests.CODE_REQUEST_FLOOR_SECONDS
CLIENT_CODE_LIMITS = "10 per minute;60 per hour"
ID_CODE_LIMITS = "3 per 10 minutes;10 per day"
CLIENT_CONFIRM_LIMITS = "20 per minute"
CLIENT_PDF_LIMITS = "20 per minute"
#: correction requests filed (certificates.requests): per client address, per citizen ID
CLIENT_FILING_LIMITS = "10 per minute;30 per day"
FILING_LIMITS_PER_ID = "10 per day"
MAX_HC1_CHARS = 4096
NO_STORE = "no-store"


@dataclass
class CertificateService:
    signing: SigningKey
    trust: TrustList
    lookup: citizen_lookup.Lookup | None = None
    outbox: citizen_lookup.OutboxSender | None = None
    unavailable: str = ""


def certificate_service(app: flask.Flask | None = None) -> CertificateService:
    service: CertificateService = (app or flask.current_app).extensions[EXTENSION_KEY]
    return service


def trust_list() -> flask.Response:
    document = certificate_service().trust.to_json(keys.ISSUER_COUNTRY)
    response = flask.jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={TRUST_LIST_MAX_AGE}"
    return response


def _answer(document: dict[str, Any], status: int) -> flask.Response:
    response = flask.jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = NO_STORE
    return response


def _body() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def request_code() -> flask.Response:
    started = time.monotonic()
    service = certificate_service()
    try:
        if service.lookup is None:
            return _answer({"error": "unavailable", "reason": service.unavailable}, 503)
        body = _body()
        try:
            details = citizen_lookup.parse_details(
                str(body.get("citizen_id", "")),
                str(body.get("full_name", "")),
                str(body.get("date_of_birth", "")),
                str(body.get("phone", "")),
            )
        except citizen_lookup.LookupInputError as error:
            return _answer({"error": "invalid_input", "field": str(error)}, 400)
        token = service.lookup.request_code(details)
        return _answer(
            {
                "request": token,
                "message": "If the details match our records, a code was sent to the phone.",
                "expires_in": citizen_lookup.CODE_TTL_SECONDS,
            },
            202,
        )
    finally:
        time.sleep(max(0.0, CODE_REQUEST_FLOOR_SECONDS - (time.monotonic() - started)))


def confirm_code() -> flask.Response:
    service = certificate_service()
    if service.lookup is None:
        return _answer({"error": "unavailable", "reason": service.unavailable}, 503)
    body = _body()
    key = service.lookup.confirm(str(body.get("request", "")), str(body.get("code", "")))
    if key is None:
        return _answer({"error": "code_rejected"}, 401)
    card = issue.certificate_card(service.lookup.reads, key, service.signing, _now())
    if card is None:
        return _answer({"error": "no_certificate"}, 404)
    # what the card's "Report a problem" form files with (certificates.requests)
    card["filing"] = requests.filing_token(requests.secret(), key)
    # the doses shown, vouched for with this certificate, for the PNG and the PDF of the card
    # to print (certificates.card; drawn only when asked for: a drawing costs ~35 ms)
    card["seal"] = drawn.seal(requests.secret(), card["hc1"], drawn.of_card(card).doses)
    return _answer(card, 200)


def certificate_pdf() -> flask.Response:
    """The card of a certificate the trust list verifies, as a printable A4 page (PDF) or,
    with ``"format": "png"``, as the card's own PNG: ``{hc1, lang?, seal?, format?}`` (the
    HC1 text; "vi" or "en"; the lookup's seal over its doses, `certificates.card`)."""
    body = _body()
    as_png = body.get("format") == "png"
    text = str(body.get("hc1", "")).strip()
    lang: Literal["vi", "en"] = "en" if body.get("lang") == "en" else "vi"
    if not text or len(text) > MAX_HC1_CHARS:
        return _answer({"error": "invalid_input", "field": "hc1"}, 400)
    service = certificate_service()
    result = verify.verify_text(text, service.trust, _now())
    progress = result.progress
    if not result.valid or result.payload is None or progress is None:
        failed = result.failed_stage
        reason = result.reasons.get(failed, "") if failed else ""
        return _answer({"error": "not_valid", "failed_stage": failed, "reason": reason}, 422)
    expires = result.claims.expires_at if result.claims else None
    sealed = str(body.get("seal", ""))
    doses = drawn.unseal(requests.secret(), text, sealed) if sealed else None
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC) if expires else None
    try:
        if as_png:
            valid = expires_at.date().isoformat() if expires_at else "—"
            facts = drawn.of_certificate(text, result.payload, progress, valid, doses)
            document, kind, name = drawn.card_png(facts, lang), "image/png", "png"
        else:
            document = pdf.certificate_pdf(text, result.payload, progress, expires_at, lang, doses)
            kind, name = "application/pdf", "pdf"
    except pdf.FontMissingError as error:
        log.error("certificate PDF unavailable: %s", error)
        return _answer({"error": "unavailable", "reason": str(error)}, 503)
    response = flask.Response(document, mimetype=kind)
    response.headers["Content-Disposition"] = f'attachment; filename="vaxviet-certificate.{name}"'
    response.headers["Cache-Control"] = NO_STORE
    return response


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def demo_outbox() -> flask.Response:
    outbox = certificate_service().outbox
    rows = "".join(
        f"<tr><td>{html.escape(m['at'])}</td><td>{html.escape(m['to'])}</td>"
        f"<td>{html.escape(m['message'])}</td></tr>"
        for m in (outbox.recent() if outbox else [])
    )
    page = (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
        "<title>DEMO — hộp thư SMS / SMS outbox</title></head><body>"
        "<h1>DEMO — hộp thư SMS (chế độ nhúng) / SMS outbox (embedded mode only)</h1>"
        "<p>Không phải tin nhắn thật: bản demo ghi mã xác nhận vào đây thay vì gửi SMS. / "
        "Not real messages: the embedded demo writes one-time codes here instead of "
        "sending an SMS.</p>"
        "<table><thead><tr><th>Time (UTC)</th><th>To</th><th>Message</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )
    response = flask.Response(page, mimetype="text/html")
    response.headers["Cache-Control"] = NO_STORE
    return response


def _rate_limited(limit: RequestLimit) -> flask.Response:
    return _answer({"error": "rate_limited", "limit": str(limit.limit)}, 429)


def _citizen_bucket(secret: bytes) -> Callable[[], str]:
    """Rate-limit key per citizen ID: a keyed hash of the typed ID, never the ID itself."""

    def key() -> str:
        typed = "".join(str(_body().get("citizen_id", "")).split())
        return "cccd:" + hmac.new(secret, typed.encode(), hashlib.sha256).hexdigest()[:32]

    return key


def sms_sender(settings: Settings) -> tuple[citizen_lookup.SmsSender | None, str]:
    """The configured SMS sender, or None and why."""
    name = settings.sms_sender
    if name == "outbox":
        if not settings.embedded:
            return None, "the demo SMS outbox is for embedded mode; set VAX_SMS_SENDER"
        return citizen_lookup.OutboxSender(settings.var_dir / "outbox" / "sms.jsonl"), ""
    module_name, _, factory = name.partition(":")
    try:
        sender: citizen_lookup.SmsSender = getattr(importlib.import_module(module_name), factory)(
            settings
        )
    except (ImportError, AttributeError, ValueError) as error:
        return None, f"VAX_SMS_SENDER={name!r} cannot be loaded: {error}"
    return sender, ""


def register_certificates(server: flask.Flask) -> None:
    services: Services = server.extensions[SERVICES_KEY]
    settings = services.settings
    service = CertificateService(keys.ensure(settings), keys.trust_list(settings))
    sender, why = sms_sender(settings)
    redis_url = settings.cache_url if settings.cache_url.startswith("redis") else ""
    if services.warehouse is None:
        service.unavailable = "the warehouse is unavailable"
    elif sender is None:
        service.unavailable = why
        log.warning("certificate lookup disabled: %s", why)
    else:
        store: citizen_lookup.ChallengeStore = (
            citizen_lookup.RedisChallengeStore(redis_url)
            if redis_url
            else citizen_lookup.MemoryChallengeStore()
        )
        service.lookup = citizen_lookup.Lookup(
            services.warehouse, settings.pseudonym_key, sender, store
        )
        if isinstance(sender, citizen_lookup.OutboxSender):
            service.outbox = sender
    server.extensions[EXTENSION_KEY] = service

    limiter = Limiter(
        get_remote_address,
        app=server,
        default_limits=[],
        headers_enabled=True,
        storage_uri=redis_url or f"{limits_memory.SCHEME}://",
        key_prefix="vax-certificates",
        on_breach=_rate_limited,
    )
    blueprint = flask.Blueprint("certificates", __name__)
    blueprint.add_url_rule("/api/v1/trust-list", "trust_list", trust_list)
    per_id = _citizen_bucket(settings.pseudonym_key)
    code_view = limiter.limit(ID_CODE_LIMITS, key_func=per_id)(
        limiter.limit(CLIENT_CODE_LIMITS)(request_code)
    )
    blueprint.add_url_rule("/api/v1/certificate/code", "request_code", code_view, methods=["POST"])
    blueprint.add_url_rule(
        "/api/v1/certificate/confirm",
        "confirm_code",
        limiter.limit(CLIENT_CONFIRM_LIMITS)(confirm_code),
        methods=["POST"],
    )
    blueprint.add_url_rule(
        "/api/v1/certificate/pdf",
        "certificate_pdf",
        limiter.limit(CLIENT_PDF_LIMITS)(certificate_pdf),
        methods=["POST"],
    )
    # correction requests (certificates.requests): filed from the card, followed by reference
    from registry.db import make_engine

    server.extensions[requests.REGISTRY_KEY] = make_engine(settings.source_dsn)
    blueprint.add_url_rule(
        "/api/v1/certificate/corrections",
        "file_correction",
        limiter.limit(FILING_LIMITS_PER_ID, key_func=per_id)(
            limiter.limit(CLIENT_FILING_LIMITS)(requests.file_correction)
        ),
        methods=["POST"],
    )
    blueprint.add_url_rule(
        "/api/v1/certificate/request/code",
        "track_code",
        limiter.limit(CLIENT_CODE_LIMITS)(requests.track_code),
        methods=["POST"],
    )
    blueprint.add_url_rule(
        "/api/v1/certificate/request/status",
        "track_status",
        limiter.limit(CLIENT_CONFIRM_LIMITS)(requests.track_status),
        methods=["POST"],
    )
    if service.outbox is not None:
        blueprint.add_url_rule("/certificate/demo-sms", "demo_outbox", demo_outbox)
    server.register_blueprint(blueprint)
