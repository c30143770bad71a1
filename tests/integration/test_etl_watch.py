"""The drop folder: settled files load once and move to loaded/; unreadable ones to failed/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from etl.__main__ import reference_codes
from etl.reference import refresh_reference
from etl.watch import ready_files, watch_once
from tests.conftest import ROOT
from tests.integration.helpers import BAD_ROWS, KEY, row, write
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration


def test_ready_files_wait_for_a_file_to_settle(tmp_path: Path) -> None:
    fresh = write(pd.DataFrame([row("S1")]), tmp_path / "fresh.csv")
    old = write(pd.DataFrame([row("S2")]), tmp_path / "old.csv")
    os.utime(old, (time.time() - 60, time.time() - 60))
    (tmp_path / ".hidden.csv").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert ready_files(tmp_path, settle=5) == [old]
    assert ready_files(tmp_path, settle=0) == [old, fresh]


def test_watch_loads_moves_and_never_loads_twice(warehouse: Warehouse, tmp_path: Path) -> None:
    refresh_reference(warehouse, *reference_codes())
    drops = tmp_path / "drops"
    drops.mkdir()
    good = write(pd.DataFrame([row("W1"), row("W2"), BAD_ROWS["unknown_vaccine"]]), drops / "a.csv")
    (drops / "b.parquet").write_bytes(b"not parquet at all")
    results = watch_once(warehouse, drops, KEY, 1000, settle=0)
    by_file = {r["file"]: r for r in results}
    assert by_file["a.csv"]["loaded"] == 2 and by_file["a.csv"]["rejected"] == 1
    assert "cannot read" in by_file["b.parquet"]["failed"]
    assert (drops / "loaded" / "a.csv").exists() and not good.exists()
    error = (drops / "failed" / "b.parquet.error.txt").read_text()
    assert "b.parquet" in error
    assert watch_once(warehouse, drops, KEY, 1000, settle=0) == []

    # the same content dropped again under another name: nothing new lands, nothing is lost
    write(pd.DataFrame([row("W1"), row("W2"), BAD_ROWS["unknown_vaccine"]]), drops / "a.csv")
    again = watch_once(warehouse, drops, KEY, 1000, settle=0)
    assert again[0]["skipped_already_loaded"] == 3
    assert (drops / "loaded" / "a.1.csv").exists()
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.doses_current") == 2
    assert warehouse.scalar("SELECT count() FROM {db:Identifier}.etl_rejects") == 1


def test_watch_command_once(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    drops.mkdir()
    path = write(pd.DataFrame([row("C1")]), drops / "day.csv")
    os.utime(path, (time.time() - 60, time.time() - 60))
    env = {**os.environ, "VAX_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "-m", "etl", "watch", str(drops), "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    document = json.loads(result.stdout.strip().splitlines()[-1])
    assert document["command"] == "watch" and document["loaded_files"] == 1
    assert document["files"][0]["loaded"] == 1
    assert (drops / "loaded" / "day.csv").exists()
