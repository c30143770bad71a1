"""The platform's web process: one Flask server carrying the public portal (``/``), the
health endpoint (``/healthz``) and, as later parts land, the internal dashboards
(``/internal/``), the open-data API (``/api/v1/``) and the embedded ETL worker.
"""

from __future__ import annotations

from typing import Any

import flask

from vaxviet.services import Services, current_services
from web.stored import EXTENSION_KEY


def _worker_health(document: dict[str, Any], key: str, name: str, state: dict[str, Any]) -> None:
    """Add a background worker's `state` under `key`; a stopped or failing worker degrades
    an otherwise healthy platform."""
    document[key] = state
    if document["status"] == "ok" and (not state["running"] or state["last_error"]):
        document["status"] = "degraded"
        document["reason"] = f"the {name} " + (
            f"is failing: {state['last_error']}" if state["last_error"] else "has stopped"
        )


def healthz() -> flask.Response:
    services = current_services()
    document = services.warehouse_health()
    if services.worker is not None:
        _worker_health(document, "etl_worker", "ETL worker", services.worker.status())
    if services.live is not None:
        _worker_health(document, "live_feed", "live feed", services.live.document())
    web = {
        name: extension.status()
        for name, extension in (
            ("stored_answers", flask.current_app.extensions.get(STORED_KEY)),
            ("admission", flask.current_app.extensions.get(ADMISSION_KEY)),
            ("front", flask.current_app.extensions.get(FRONT_KEY)),
            ("security", flask.current_app.extensions.get(SECURITY_KEY)),
        )
        if extension is not None
    }
    if web:
        document["web"] = web
    response = flask.jsonify(document)
    response.status_code = 200 if document["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def trust_proxies(server: flask.Flask, count: int, front: int = 0) -> None:
    """Believe the client address and scheme that `count` reverse proxies in front of the
    server forward (X-Forwarded-For, X-Forwarded-Proto); with 0, the connection's own.
    `front` (1 behind the serve process's own front, :mod:`vaxviet.front`) adds to the
    addresses believed; the front forwards no scheme."""
    if count or front:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=count + front, x_proto=count)  # type: ignore[method-assign]


ADMISSION_KEY = "vaxviet.admission"
SECURITY_KEY = "vaxviet.security"
FRONT_KEY = "vaxviet.front"
STORED_KEY = EXTENSION_KEY


def _version() -> tuple[str, bool]:
    """(the data version visitors see, whether it comes from fallback copies)."""
    from web.cache import data_version, is_stale

    version = data_version()
    return version, is_stale()


def store_answers(server: flask.Flask) -> None:
    """Put the portal's stored answers (:mod:`web.stored`, rules in :mod:`portal.stored`)
    in front of `server`'s app; the store is ``server.extensions[STORED_KEY]``."""
    from portal.stored import PortalRules
    from web.stored import StoredAnswers

    def version() -> tuple[str, bool]:
        with server.app_context():
            return _version()

    store = StoredAnswers(server.wsgi_app, PortalRules(), version)
    server.extensions[STORED_KEY] = store
    server.wsgi_app = store  # type: ignore[method-assign]


def admit(server: flask.Flask, ahead: Any, waited: Any, bound: int) -> None:
    """Turn away requests queued behind more than `bound` others (:mod:`web.admission`):
    inside the security headers (:func:`secure`), so the answers turned away carry them."""
    from web.admission import Admission

    headers = server.extensions[SECURITY_KEY]
    admission = Admission(headers.app, ahead, waited, bound, secure=headers.headers.production)
    server.extensions[ADMISSION_KEY] = admission
    headers.app = admission


def secure(server: flask.Flask, production: bool, apps: list[Any]) -> None:
    """Every answer of `server` gets the security headers of its kind (:mod:`web.security`),
    pages a policy allowing the inline scripts of the Dash `apps` (the portal's first: Dash
    gives the callbacks declared outside an app to the first that asks); the officials'
    session cookie is same-site only, and in production sent over TLS only."""
    from web.security import REPORT_PATH, SecurityHeaders, csp_report

    server.add_url_rule(REPORT_PATH, "csp_report", csp_report, methods=["POST"])
    server.config.update(
        SESSION_COOKIE_NAME="__Host-vaxviet" if production else "vaxviet",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=production,
    )
    headers = SecurityHeaders(server.wsgi_app, production)
    # Dash adds some inline scripts (the pages' title) when it sets itself up on the first
    # request: set up now, so that the hashes are all known before a page is served
    with server.test_request_context(REPORT_PATH):
        server.preprocess_request()
    for app in apps:
        headers.allow_scripts(app.csp_hashes())
    server.extensions[SECURITY_KEY] = headers
    server.wsgi_app = headers  # type: ignore[method-assign]


def create_server(services: Services, behind_front: bool = False) -> flask.Flask:
    """The whole web platform as one WSGI app for `services`; `behind_front`: it is served
    on the private socket of the serve process's front (:mod:`vaxviet.front`)."""
    from certificates.web import register_certificates
    from dashboards.app import create_dashboards
    from portal.api import api  # Dash import is heavy; keep module import light
    from portal.app import create_portal
    from web.cache import init_cache

    server = flask.Flask("vaxviet")
    trust_proxies(server, services.settings.trusted_proxies, int(behind_front))
    server.config["SECRET_KEY"] = services.settings.secret_key
    services.attach(server)
    init_cache(server, services.settings.cache_url)
    server.add_url_rule("/healthz", "healthz", healthz)
    register_certificates(server)
    server.register_blueprint(api)
    portal = create_portal(server)
    dashboards = create_dashboards(server)  # after the portal: Dash's global callbacks are its
    store_answers(server)
    secure(server, not services.settings.embedded, [portal, dashboards])
    return server
