"""The platform's web process: one Flask server carrying the public portal (``/``), the
health endpoint (``/healthz``) and, as later parts land, the internal dashboards
(``/internal/``), the open-data API (``/api/v1/``) and the embedded ETL worker.
"""

from __future__ import annotations

import flask

from vaxviet.services import Services, current_services
from warehouse.status import warehouse_status


def healthz() -> flask.Response:
    services = current_services()
    document = warehouse_status(services.warehouse, services.warehouse_error)
    response = flask.jsonify(document)
    response.status_code = 200 if document["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def create_server(services: Services) -> flask.Flask:
    """The whole web platform as one WSGI app for `services`."""
    from portal.app import create_portal  # Dash import is heavy; keep module import light

    server = flask.Flask("vaxviet")
    server.config["SECRET_KEY"] = services.settings.secret_key
    services.attach(server)
    server.add_url_rule("/healthz", "healthz", healthz)
    create_portal(server)
    return server
