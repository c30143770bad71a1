"""Integration fixtures: real engines.

chDB allows one data directory per process, so the session opens one and every test gets
a fresh database in it (``t_<random>``), migrated from the real schema files (on chDB: the
statements `migrate` ran once for the session, run again under the test's name; see
`MigratedSchema`). The same
test bodies run against a ClickHouse server when VAX_TEST_CLICKHOUSE_URL is set
(e.g. http://default:@127.0.0.1:8123); otherwise that variant is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port, require
from tests.integration.registry_helpers import BackgroundSeeds, SeedTemplates
from warehouse.client import Warehouse, connect
from warehouse.migrate import migrate

SERVER_URL_VARIABLE = "VAX_TEST_CLICKHOUSE_URL"


@pytest.fixture(scope="session")
def chdb_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path: Path = tmp_path_factory.mktemp("chdb")
    root = connect(f"chdb://{path}", "default")
    yield root
    root.close()


@pytest.fixture(scope="session")
def server_root() -> Iterator[Warehouse]:
    url = os.environ.get(SERVER_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"no ClickHouse server: set {SERVER_URL_VARIABLE} to run this variant")
    root = connect(url, "default")
    yield root
    root.close()


@dataclasses.dataclass(frozen=True)
class MigratedSchema:
    """What `migrate` does to an empty database, done once and replayable under another name.

    `migrate` costs ~0.7 s a database on chDB, mostly per-statement overhead: its reads of
    what is applied, one insert per file into the bookkeeping tables, a template compile per
    file; ~170 tests take a fresh database. The session migrates one template database with
    `migrate` itself and records the DDL statements it ran (rendered for the template's
    unique name); a test's database gets the same statements under its own name and the
    template's rows (the bookkeeping), in ~0.25 s. `clone` then proves the copy is a migrated
    database: the real `migrate` finds nothing to apply, and its tables (definitions and row
    counts) are the template's. Migrating from empty is tested where it is the subject
    (test_warehouse.py, test_migrate_layout.py) and by the template itself."""

    template: Warehouse
    statements: tuple[str, ...]

    @classmethod
    def record(cls, root: Warehouse) -> MigratedSchema:
        template = dataclasses.replace(root, database=f"t_template_{uuid.uuid4().hex[:12]}")
        statements: list[str] = []
        command = Warehouse.command

        def recording(
            self: Warehouse,
            sql: str,
            parameters: Mapping[str, Any] | None = None,
            *,
            dedup_token: str | None = None,
        ) -> Any:
            if self.database == template.database:
                assert parameters is None and dedup_token is None, sql  # DDL text only
                statements.append(sql)
            return command(self, sql, parameters, dedup_token=dedup_token)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Warehouse, "command", recording)
            migrate(template)
        assert statements
        return cls(template, tuple(statements))

    def tables(self, warehouse: Warehouse) -> list[tuple[Any, ...]]:
        """Each table's name, engine, definition (the database's name blanked) and rows."""
        return warehouse.rows(
            "SELECT name, engine, replaceAll(create_table_query, {db:String}, '<db>'), "
            "total_rows FROM system.tables WHERE database = {db:String} ORDER BY name"
        )

    def clone(self, fresh: Warehouse) -> None:
        """`fresh` (not there yet) as the template: its statements, then its rows."""
        name, template = fresh.database, self.template.database
        assert template not in name and name not in template
        for statement in self.statements:
            fresh.command(statement.replace(template, name))
        for table, _engine, _query, rows in self.tables(self.template):
            if rows:
                fresh.command(
                    "INSERT INTO {db:Identifier}.{t:Identifier} "
                    "SELECT * FROM {template:Identifier}.{t:Identifier}",
                    {"t": table, "template": template},
                )
        report = migrate(fresh)
        assert not report.applied and not report.views, f"a copy short of migrate: {report}"
        assert self.tables(fresh) == self.tables(self.template)


@pytest.fixture(scope="session")
def chdb_schema(chdb_root: Warehouse) -> Iterator[MigratedSchema]:
    schema = MigratedSchema.record(chdb_root)
    yield schema
    schema.template.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


@pytest.fixture(params=["chdb", pytest.param("server", marks=pytest.mark.clickhouse_server)])
def warehouse(request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    """A freshly migrated, empty database on each engine (on chDB, the session's migrated
    template copied: `MigratedSchema`)."""
    root: Warehouse = request.getfixturevalue(f"{request.param}_root")
    database = f"t_{uuid.uuid4().hex[:12]}"
    fresh = dataclasses.replace(root, database=database)
    if request.param == "chdb":
        schema: MigratedSchema = request.getfixturevalue("chdb_schema")
        schema.clone(fresh)
    else:
        migrate(fresh)
    yield fresh
    fresh.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def serve_process(
    directory: Path, settings: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """`python -m vaxviet serve` as `make run` starts it, on a free port, with its var/ in
    `directory` (which may already hold a registry) and any extra `settings` (the live feed
    is off unless they set VAX_LIVE); its output is
    appended to `directory`/serve.log. Yields (base URL, environment)."""
    port = free_port()
    env = {
        "VAX_LIVE": "off",  # a test that wants the live feed asks for it
        **os.environ,
        **(settings or {}),
        "VAX_VAR_DIR": str(directory / "var"),
        "VAX_PORT": str(port),
    }
    log = directory / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "vaxviet", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited early: {log.read_text(errors='replace')[-2000:]}")
        try:
            if get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("serve did not answer /healthz within 90 s")
    try:
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`python -m vaxviet serve` as `make run` starts it, on a free port and a fresh var/."""
    with serve_process(tmp_path) as served:
        yield served


# -- the operational registry: SQLite always, PostgreSQL when it runs ---------------------------

POSTGRES_ADMIN_URL = os.environ.get(
    "VAX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


POSTGRES_PART = "PostgreSQL at 127.0.0.1:5432 (or VAX_TEST_POSTGRES_URL)"


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards)."""
    require(_postgres_available(), POSTGRES_PART)
    with postgres_database() as dsn:
        yield dsn


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the block (dropped after it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"vax_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def background_seeds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundSeeds]:
    """The registries the selected tests' modules name in BACKGROUND_SEEDS, as (engine,
    `SeedOptions`), seeded in the background from the first integration test on
    (`BackgroundSeeds`): a seed takes from a few to ~50 s of one core, which the suite, one
    test at a time, mostly leaves idle. One is seeded when a selected test of its module runs
    on its engine (the test's `registry_dsn` parameter, or any engine without one); a
    PostgreSQL one only when PostgreSQL is here (without it the test skips or fails as
    `require` says)."""
    with contextlib.ExitStack() as stack:
        seeds = BackgroundSeeds(
            tmp_path_factory.mktemp("background-seeds"),
            lambda: stack.enter_context(postgres_database()),
        )
        try:
            postgres: bool | None = None  # asked once, if a seed needs it
            for item in request.session.items:
                declared = getattr(getattr(item, "module", None), "BACKGROUND_SEEDS", ())
                callspec = getattr(item, "callspec", None)
                runs_on = callspec.params.get("registry_dsn") if callspec else None
                for backend, options in declared:
                    if runs_on not in (None, backend):
                        continue
                    if backend != "sqlite" and postgres is None:
                        postgres = _postgres_available()
                    if backend == "sqlite" or postgres:
                        seeds.add(backend, options)
            seeds.start()
            yield seeds
        finally:
            seeds.stop()


@pytest.fixture(scope="session")
def seed_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedTemplates]:
    """Seeded registries to copy (`SeedTemplates`), for the whole session."""
    with contextlib.ExitStack() as stack:
        yield SeedTemplates(
            tmp_path_factory.mktemp("seed-templates"),
            lambda: stack.enter_context(postgres_database()),
            POSTGRES_ADMIN_URL,
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty registry database on each engine the registry supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return str(request.getfixturevalue("postgres_dsn"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One headless Chromium with a desktop-sized window for a whole browser-test module
    (tests/integration/test_browser.py has its own phone-sized one per test)."""
    from tests.integration.browser import start_chromium

    driver: object = start_chromium(tmp_path_factory.mktemp("chromium"), size="1280,1000")
    yield driver
    driver.quit()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _pages_obey_their_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that drove a browser: the console reported no page breaking its
    Content-Security-Policy (web.security): every page works under the policy."""
    if "browser" not in request.fixturenames:
        yield
        return
    from tests.integration.browser import csp_violations

    driver = request.getfixturevalue("browser")  # now: it outlives this fixture's end
    csp_violations(driver)  # what earlier tests left is theirs
    yield
    violations = csp_violations(driver)
    assert not violations, f"pages broke their Content-Security-Policy: {violations[:5]}"
