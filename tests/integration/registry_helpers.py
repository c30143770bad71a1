"""What the tests on a real registry share: a seeded registry (here, or in a child process),
its rows as a frame, its times in local time."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from geo.calendar import TIME_ZONE
from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed
from tests.conftest import ROOT


def seeded_registry(dsn: str, options: SeedOptions) -> Engine:
    """The registry at `dsn`, migrated and seeded by the campaign simulator."""
    engine = make_engine(dsn)
    migrate(engine)
    seed(engine, options)
    return engine


class SeedTemplates:
    """Registries seeded once a session for each engine and `SeedOptions`, copied for every
    test that asks (`copy`): a copy is the seeded database as the seed left it (SQLite: its
    file; PostgreSQL: ``CREATE DATABASE … TEMPLATE``), so each test still has a fresh registry
    of its own to change, and the seed still runs on each engine. The session fixture
    `seed_templates` holds them and drops the PostgreSQL ones at its end."""

    def __init__(self, directory: Path, postgres: Callable[[], str], postgres_admin: str) -> None:
        self.directory = directory
        self.postgres = postgres  # a new empty PostgreSQL database's DSN, dropped at the end
        self.postgres_admin = postgres_admin  # where to connect to copy one
        self.templates: dict[tuple[str, str], str] = {}

    def copy(self, dsn: str, options: SeedOptions) -> Engine:
        """The empty registry database at `dsn` (as the `registry_dsn` fixture gives) made a
        copy of the registry seeded with `options` on its engine."""
        url = make_url(dsn)
        backend = url.get_backend_name()
        key = (backend, repr(options))
        template = self.templates.get(key)
        if template is None:
            if backend == "sqlite":
                template = f"sqlite:///{self.directory / f'{uuid.uuid4().hex}.sqlite'}"
            else:
                template = self.postgres()
            seeded_registry(template, options).dispose()  # no connection left: copyable
            self.templates[key] = template
        source = make_url(template).database
        assert source and url.database
        if backend == "sqlite":
            assert not Path(f"{source}-wal").exists(), "the seed left a write-ahead log"
            assert not Path(url.database).exists(), dsn
            shutil.copyfile(source, url.database)
        else:
            admin = create_engine(self.postgres_admin, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE "{url.database}"'))  # empty
                    connection.execute(
                        text(f'CREATE DATABASE "{url.database}" TEMPLATE "{source}"')
                    )
            finally:
                admin.dispose()
        return make_engine(dsn)


def frame(engine: Engine, sql: str) -> pd.DataFrame:
    """The rows of a registry query, with its column names."""
    with engine.connect() as connection:
        result = connection.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def local(values: pd.Series) -> pd.Series:
    """Registry times in local time (a time without an offset is read as UTC)."""
    return pd.to_datetime(values, utc=True, format="mixed").dt.tz_convert(TIME_ZONE)


#: the citizen of :func:`correction_registry`: one valid dose (8/2021, Hà Nội) of a
#: two-dose product
CITIZEN = "001090000001"  # province 001, a man born in 1990 (the CCCD's rules)
VACCINE = "EU/1/21/1529"


def correction_registry(dsn: str) -> Engine:
    """A migrated registry with two provinces (01, 79), a site in each, and :data:`CITIZEN`
    with one dose at the Hà Nội site."""
    from registry.db import allocate_changes

    engine = make_engine(dsn)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO provinces VALUES ('01', 'Hà Nội'), ('79', 'Hồ Chí Minh')")
        )
        connection.execute(
            text(f"INSERT INTO vaccines VALUES ('{VACCINE}', 'AstraZeneca', 'ORG-100001699', 2)")
        )
        connection.execute(
            text(
                "INSERT INTO sites VALUES ('01-0001', 'Điểm tiêm 0001', '01', 'fixed', 500, 420, "
                "1020, 1), ('79-0001', 'Điểm tiêm 7901', '79', 'fixed', 500, 420, 1020, 2)"
            )
        )
        connection.execute(
            text(
                f"INSERT INTO citizens VALUES ('{CITIZEN}', 'Nguyen Van An', '1990-05-01', 'M', "
                "'0912345678', '01', 3)"
            )
        )
        connection.execute(text("UPDATE change_counter SET value = 3"))
        connection.execute(
            text(
                "INSERT INTO doses VALUES ('VN000000000001', 1, 'valid', :c, '01-0001', '01', "
                ":v, 'LOT-1', 1, '2021-08-04 02:30:00', '2021-08-04 02:31:00', :seq)"
            ),
            {"c": CITIZEN, "v": VACCINE, "seq": allocate_changes(connection, 1)},
        )
    return engine


# -- seeds in child processes ------------------------------------------------------------------


class ChildSeed:
    """`seeded_registry(dsn, options)` run by a child process (`python -m
    tests.integration.registry_helpers`) at a low CPU priority (nice 10): the same code on
    the same engine, mostly on CPU the tests leave idle. `wait` returns the DSN once the seed
    is done, the child back at normal priority meanwhile where that is allowed (root)."""

    def __init__(self, dsn: str, options: SeedOptions, log: Path) -> None:
        fields = dataclasses.asdict(options)
        fields["until"] = options.until.isoformat()
        self.dsn, self.log = dsn, log
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        command = [sys.executable, "-m", "tests.integration.registry_helpers", dsn]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [*nice, *command, json.dumps(fields)],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float) -> str:
        """The seeded registry's DSN, once the seed is done (it fails the test if the seed
        did)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):  # a test waits for it now: its priority is theirs
                os.setpriority(os.PRIO_PROCESS, self.process.pid, 0)
        code = self.process.wait(timeout=timeout)
        assert code == 0, f"the seed exited {code}: {self.log.read_text(errors='replace')[-3000:]}"
        return self.dsn

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


class BackgroundSeeds:
    """The registries test modules name in ``BACKGROUND_SEEDS`` (a list of (engine,
    `SeedOptions`)), seeded by `ChildSeed`s one after the other, in the order the tests
    come, from the session's first integration test on. A test `take`s one to have it for
    itself, waiting for it if it is under way; when it is not started yet, or was taken
    already, the test seeds its own as before. The session fixture `background_seeds` holds
    them."""

    def __init__(self, directory: Path, postgres: Callable[[], str]) -> None:
        self.directory = directory
        self.postgres = postgres  # a new empty PostgreSQL database's DSN, dropped at the end
        self.queued: dict[tuple[str, str], SeedOptions] = {}  # in the order they are needed
        self.children: dict[tuple[str, str], ChildSeed] = {}
        self.lock = threading.Lock()
        self.runner = threading.Thread(target=self._run, name="background-seeds", daemon=True)
        self.stopping = False

    def add(self, backend: str, options: SeedOptions) -> None:
        key = (backend, repr(options))
        if key not in self.queued:
            self.queued[key] = options

    def start(self) -> None:
        if self.queued:
            self.runner.start()

    def _run(self) -> None:
        started = 0
        while True:
            with self.lock:
                if self.stopping or not self.queued:
                    return
                key = next(iter(self.queued))
                options = self.queued.pop(key)
                name = f"{key[0]}-{started}"
                started += 1
                if key[0] == "sqlite":
                    dsn = f"sqlite:///{self.directory / f'{name}.sqlite'}"
                else:
                    dsn = self.postgres()
                child = ChildSeed(dsn, options, self.directory / f"{name}.log")
                self.children[key] = child
            child.process.wait()

    def take(self, backend: str, options: SeedOptions, timeout: float = 600) -> str | None:
        """The DSN of the registry seeded with `options` on `backend` in the background,
        once it is done; None when there is none (not started, or already taken)."""
        key = (backend, repr(options))
        with self.lock:
            self.queued.pop(key, None)  # not started: this test seeds it itself
            child = self.children.pop(key, None)
        return child.wait(timeout) if child else None

    def sqlite_file(self, options: SeedOptions, path: Path) -> Engine:
        """A SQLite registry seeded with `options` at `path`: the one seeded in the
        background moved there, or one seeded here."""
        taken = self.take("sqlite", options)
        if taken:
            source = make_url(taken).database
            assert source and not Path(f"{source}-wal").exists(), "the seed left a write-ahead log"
            shutil.move(source, path)
            return make_engine(f"sqlite:///{path}")
        return seeded_registry(f"sqlite:///{path}", options)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.queued.clear()
            children = list(self.children.values())
        for child in children:
            child.stop()
        if self.runner.is_alive():
            self.runner.join(timeout=60)


def _child_main() -> None:
    dsn, fields = sys.argv[1], json.loads(sys.argv[2])
    fields["until"] = date.fromisoformat(fields["until"])
    seeded_registry(dsn, SeedOptions(**fields)).dispose()


if __name__ == "__main__":
    _child_main()
