"""What a browser sends to the internal dashboards, for code that drives them with a Flask
test client instead (the tests and ``bench.dashboards_callbacks``): the login form and the
bodies Dash posts to ``/internal/_dash-update-component``. Built from the app's own
component IDs and paths, so they follow a change there.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dashboards.auth import LOGIN_PATH, PREFIX
from dashboards.frame import INTERVAL_ID, PAGE_ID, PENDING_ID, PENDING_MS, URL_ID, VERSION_ID

#: where Dash posts its callbacks
PATH = f"{PREFIX}/_dash-update-component"


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


def render_body(path: str, search: str, waited: int | None = None) -> dict[str, Any]:
    """The JSON Dash posts to draw the page at `path` with query string `search` (what a
    forged request would post, too); `waited`: the "preparing" poll's count, when it is
    that poll asking again."""
    changed = f"{PENDING_ID}.n_intervals" if waited else f"{URL_ID}.pathname"
    return {
        "output": f"..{PAGE_ID}.children...{PENDING_ID}.disabled..",
        "outputs": [
            {"id": PAGE_ID, "property": "children"},
            {"id": PENDING_ID, "property": "disabled"},
        ],
        "inputs": [
            {"id": URL_ID, "property": "pathname", "value": path},
            {"id": URL_ID, "property": "search", "value": search},
            {"id": VERSION_ID, "property": "data", "value": None},
            {"id": PENDING_ID, "property": "n_intervals", "value": waited},
        ],
        "changedPropIds": [changed],
        "state": [],
    }


def drawn(response: TestResponse) -> bool:
    """Whether a page callback's answer is the page itself (not "preparing": the browser
    would stop polling)."""
    answer = response.get_json(silent=True) or {}
    return bool(answer.get("response", {}).get(PENDING_ID, {}).get("disabled", True))


def draw(
    client: FlaskClient, path: str, search: str = "", timeout: float = 60.0
) -> tuple[TestResponse, list[float]]:
    """Draw a page as a browser does: the page callback, then, while it answers
    "preparing", the poll every :data:`PENDING_MS` ms. Returns the last answer and the
    server time of each callback (seconds)."""
    deadline = time.monotonic() + timeout
    waited, times = 0, []
    while True:
        started = time.perf_counter()
        response = client.post(PATH, json=render_body(path, search, waited or None))
        times.append(time.perf_counter() - started)
        if response.status_code != 200 or drawn(response) or time.monotonic() > deadline:
            return response, times
        time.sleep(PENDING_MS / 1000)
        waited += 1


def version_body(known: str) -> dict[str, Any]:
    """The JSON of the auto-refresh check from a page drawn on data version `known`."""
    return {
        "output": f"{VERSION_ID}.data",
        "outputs": {"id": VERSION_ID, "property": "data"},
        "inputs": [{"id": INTERVAL_ID, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{INTERVAL_ID}.n_intervals"],
        "state": [{"id": VERSION_ID, "property": "data", "value": known}],
    }


def bench_clients(server: Flask, password: str) -> tuple[FlaskClient, FlaskClient]:
    """Test clients of `server` logged in as a national user and as a user of province 79
    (``bench-national``, ``bench-province``; created with `password` when missing): the
    two viewers of the dashboards' benchmarks."""
    from dashboards.users import add_user, find_user

    engine = server.extensions["vaxviet.dashboards.users"]
    clients = []
    for name, role, province in (
        ("bench-national", "national", ""),
        ("bench-province", "province", "79"),
    ):
        if find_user(engine, name) is None:
            add_user(engine, name, password, role, province)  # type: ignore[arg-type]
        client = server.test_client()
        log_in(client, name, password)
        clients.append(client)
    return clients[0], clients[1]
