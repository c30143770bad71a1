"""What a browser sends to the internal dashboards, for code that drives them with a Flask
test client instead (the tests and ``bench.dashboards_callbacks``): the login form and the
bodies Dash posts to ``/internal/_dash-update-component``. Built from the app's own
component IDs and paths, so they follow a change there.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dashboards.app import INTERVAL_ID, PAGE_ID, URL_ID, VERSION_ID
from dashboards.auth import LOGIN_PATH, PREFIX


def log_in(client: FlaskClient, name: str, password: str) -> TestResponse:
    """Log in through the form, with the token of the form as served; returns the answer
    (a redirect to the dashboards when the name and password are right)."""
    form = client.get(LOGIN_PATH).data.decode()
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("the login page has no form token")
    response = client.post(
        LOGIN_PATH,
        data={"csrf": token.group(1), "name": name, "password": password, "next": f"{PREFIX}/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"logging in answered HTTP {response.status_code}")
    return response


def render_body(path: str, search: str) -> dict[str, Any]:
    """The JSON Dash posts to draw the page at `path` with query string `search` (what a
    forged request would post, too)."""
    return {
        "output": f"{PAGE_ID}.children",
        "outputs": {"id": PAGE_ID, "property": "children"},
        "inputs": [
            {"id": URL_ID, "property": "pathname", "value": path},
            {"id": URL_ID, "property": "search", "value": search},
            {"id": VERSION_ID, "property": "data", "value": None},
        ],
        "changedPropIds": [f"{URL_ID}.pathname"],
        "state": [],
    }


def version_body(known: str) -> dict[str, Any]:
    """The JSON of the auto-refresh check from a page drawn on data version `known`."""
    return {
        "output": f"{VERSION_ID}.data",
        "outputs": {"id": VERSION_ID, "property": "data"},
        "inputs": [{"id": INTERVAL_ID, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{INTERVAL_ID}.n_intervals"],
        "state": [{"id": VERSION_ID, "property": "data", "value": known}],
    }
