"""Integration fixtures: real engines.

chDB allows one data directory per process, so the session opens one and every test gets
a fresh database in it (``t_<random>``), migrated from the real schema files. The same
test bodies run against a ClickHouse server when VAX_TEST_CLICKHOUSE_URL is set
(e.g. http://default:@127.0.0.1:8123); otherwise that variant is skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(params=["chdb", pytest.param("server", marks=pytest.mark.clickhouse_server)])
def warehouse(request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    """A freshly migrated, empty database on each engine."""
    root: Warehouse = request.getfixturevalue(f"{request.param}_root")
    database = f"t_{uuid.uuid4().hex[:12]}"
    fresh = dataclasses.replace(root, database=database)
    migrate(fresh)
    yield fresh
    fresh.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")
