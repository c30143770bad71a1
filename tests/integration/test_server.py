"""The web process: /healthz and the status page, in-process and as `python -m vaxviet serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import flask
import plotly.utils
import pytest

from tests.conftest import ROOT, free_port
from tests.integration.conftest import get
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse, observe_statements
from warehouse.migrate import latest_version

pytestmark = pytest.mark.integration


@pytest.fixture
def server(warehouse: Warehouse, tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    return create_server(Services(settings=settings, warehouse=warehouse))


def test_healthz_reports_engine_versions_and_counts(server: flask.Flask) -> None:
    response = server.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()
    assert document["status"] == "ok"
    assert document["engine"] in ("chdb", "clickhouse")
    assert document["version"].split(".")[0].isdigit()
    assert document["schema_version"] == latest_version() == document["schema_expected"]
    assert document["data_version"] == "0"
    assert document["tables"]["schema_migrations"] == latest_version()
    assert document["tables"]["dose_ledger"] == 0


def test_data_version_moves_with_each_etl_commit(server: flask.Flask, warehouse: Warehouse) -> None:
    client = server.test_client()
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('registry', 10, 'a')"
    )
    first = client.get("/healthz").get_json()["data_version"]
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('registry', 20, 'b')"
    )
    second = client.get("/healthz").get_json()["data_version"]
    assert first != "0" and second != first


def test_health_checks_arriving_together_share_one_warehouse_read(server: flask.Flask) -> None:
    """/healthz answers anyone: sixteen requests at once cost the warehouse two status reads
    (the first request's, and one for every request that arrived while it ran), not 16."""
    import threading

    one: list[str] = []
    with observe_statements(lambda sql, seconds: one.append(sql)):
        assert server.test_client().get("/healthz").status_code == 200
    statements: list[str] = []
    first = threading.Event()

    def observe(sql: str, seconds: float) -> None:
        statements.append(sql)
        if not first.is_set():
            first.set()
            time.sleep(0.5)  # hold the first read while the other requests arrive

    answers: list[int] = []

    def check() -> None:
        answers.append(server.test_client().get("/healthz").status_code)

    threads = [threading.Thread(target=check) for _ in range(16)]
    with observe_statements(observe):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * 16
    assert len(statements) <= 2 * len(one)  # one request alone: len(one) statements


def test_status_page_shows_the_warehouse(server: flask.Flask) -> None:
    client = server.test_client()
    page = client.get("/status")
    assert page.status_code == 200
    assert b'<script id="_dash-renderer"' in page.data  # the Dash app, not an error page
    assert b"https://" not in page.data  # scripts and styles are served locally
    html = page.data.decode()
    assert "<title>VaxViet — trạng thái / status</title>" in html
    # the first paint already holds the status table and the warehouse's row counts
    assert '<th scope="row">Trạng thái / Status</th><td>ok</td>' in html
    engine = client.get("/healthz").get_json()["engine"]
    assert f'<th scope="row">Máy kho dữ liệu / Warehouse engine</th><td>{engine}</td>' in html
    assert '<td>dose_ledger</td><td class="number">0</td>' in html
    assert f'<td>schema_migrations</td><td class="number">{latest_version()}</td>' in html
    from portal.pages import status

    with server.app_context():
        text = json.dumps(status.layout(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "dose_ledger" in text and "schema_migrations" in text and '"ok"' in text


def test_degraded_when_the_warehouse_is_missing(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    server = create_server(Services(settings, None, "cannot open the warehouse: test"))
    response = server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "degraded"
    assert "cannot open" in response.get_json()["reason"]


# -- the real process, as `make run` starts it -------------------------------------------------


def test_serve_answers_health_and_status(running: tuple[str, dict[str, str]]) -> None:
    base, env = running
    status, body = get(f"{base}/healthz")
    document = json.loads(body)
    assert status == 200 and document["status"] == "ok" and document["engine"] == "chdb"
    assert document["schema_version"] == latest_version()
    status, page = get(f"{base}/")
    assert status == 200 and b"VaxViet" in page
    assert Path(env["VAX_VAR_DIR"], "secrets.json").exists()


def test_a_second_process_on_the_same_warehouse_is_refused_clearly(
    running: tuple[str, dict[str, str]],
) -> None:
    _, env = running
    result = subprocess.run(
        [sys.executable, "-m", "vaxviet", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_serve_streams_the_registry_in_its_worker_thread(tmp_path: Path) -> None:
    """`make run`'s process loads the seeded registry by itself (embedded: one process)."""
    from datetime import date

    from registry.db import make_engine, migrate
    from registry.simulator import SeedOptions, seed
    from tests.integration.conftest import serve_process

    (tmp_path / "var").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'registry.sqlite'}")
    migrate(engine)
    seed(engine, SeedOptions(scale=0.0002, until=date(2021, 5, 31), seed=5, error_rate=0.0))
    with engine.connect() as connection:
        from sqlalchemy import text

        valid = connection.execute(text("SELECT count(*) FROM doses WHERE status = 'valid'"))
        expected = int(valid.scalar_one())
    engine.dispose()
    assert expected > 0
    with serve_process(tmp_path) as (base, _):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            document = json.loads(get(f"{base}/healthz")[1])
            worker = document["etl_worker"]
            if worker["passes"] and worker["read"] >= expected:
                break
            time.sleep(0.5)
        assert document["status"] == "ok", document
        assert worker["running"] and worker["failures"] == 0
        assert worker["loaded"] == expected and worker["rejected"] == 0
        assert document["tables"]["dose_ledger"] >= expected
        assert document["data_version"] != "0"


def test_a_failing_etl_worker_makes_health_degraded(warehouse: Warehouse, tmp_path: Path) -> None:
    from etl.worker import EtlWorker
    from registry.db import make_engine

    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path)})
    broken = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'registry.sqlite'}")
    worker = EtlWorker(warehouse, broken, settings.pseudonym_key, interval=0.05).start()
    try:
        server = create_server(Services(settings, warehouse, worker=worker))
        deadline = time.monotonic() + 30
        while worker.state.failures < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        response = server.test_client().get("/healthz")
        document = response.get_json()
        assert response.status_code == 503
        assert document["etl_worker"]["running"] and document["etl_worker"]["failures"] >= 2
        assert "ETL worker is failing" in document["reason"]
    finally:
        worker.stop()
    assert not worker.status()["running"]


def test_serve_keeps_answering_with_over_a_thousand_connections_open(tmp_path: Path) -> None:
    """Waitress watched its sockets with select() unless told otherwise, and select() fails
    on a descriptor numbered 1024 or more: with chDB's open files beside them, a crowd of
    connections made the whole server exit ("filedescriptor out of range in select()").
    1,100 idle connections push the descriptors past that; the server must stay up."""
    import resource
    import socket

    from tests.integration.conftest import serve_process

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:  # the server's own limit is inherited from this process
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    settings = {"VAX_ETL_WORKER": "off", "VAX_WEB_THREADS": "300"}  # accepts up to 1,200
    with serve_process(tmp_path, settings) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        crowd = []
        try:
            for _ in range(1100):
                crowd.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            time.sleep(2)  # the server accepts them all and watches them
            status, body = get(f"{base}/healthz")
            assert status == 200, body[:300]
        finally:
            for connection in crowd:
                connection.close()
        assert get(f"{base}/healthz")[0] == 200
