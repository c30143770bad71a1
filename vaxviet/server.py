"""The platform's web process: one Flask server carrying the public portal (``/``), the
health endpoint (``/healthz``) and, as later parts land, the internal dashboards
(``/internal/``), the open-data API (``/api/v1/``) and the embedded ETL worker.
"""

from __future__ import annotations

from typing import Any

import flask

from vaxviet.services import Services, current_services


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
    response = flask.jsonify(document)
    response.status_code = 200 if document["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def trust_proxies(server: flask.Flask, count: int) -> None:
    """Believe the client address and scheme that `count` reverse proxies in front of the
    server forward (X-Forwarded-For, X-Forwarded-Proto); with 0, the connection's own."""
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def create_server(services: Services) -> flask.Flask:
    """The whole web platform as one WSGI app for `services`."""
    from certificates.web import register_certificates
    from dashboards.app import create_dashboards
    from portal.api import api  # Dash import is heavy; keep module import light
    from portal.app import create_portal
    from web.cache import init_cache

    server = flask.Flask("vaxviet")
    trust_proxies(server, services.settings.trusted_proxies)
    server.config["SECRET_KEY"] = services.settings.secret_key
    services.attach(server)
    init_cache(server, services.settings.cache_url)
    server.add_url_rule("/healthz", "healthz", healthz)
    register_certificates(server)
    server.register_blueprint(api)
    create_portal(server)
    create_dashboards(server)  # after the portal: Dash's global callbacks belong to the portal
    return server
