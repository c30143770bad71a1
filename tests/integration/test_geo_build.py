"""The geo build is deterministic: rebuilding from the shared sources gives the shipped bytes.

This is the one test that reads the shared source folder (through ``geo.build``, the only code
allowed to). It is skipped when that folder is absent, e.g. in a bare clone of the repository.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from geo.build import DEFAULT_SOURCE, build  # noqa: E402

DATA = ROOT / "geo" / "data"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not DEFAULT_SOURCE.is_dir(),
        reason=f"shared source folder {DEFAULT_SOURCE} is absent; cannot rebuild geo/data",
    ),
]


def test_rebuild_reproduces_the_shipped_files(tmp_path: Path) -> None:
    result = build(DEFAULT_SOURCE, tmp_path)
    manifest = json.loads((DATA / "manifest.json").read_text("utf-8"))
    assert set(result.files) == {*manifest["files"], "manifest.json"}
    for name, entry in manifest["files"].items():
        rebuilt = (tmp_path / name).read_bytes()
        assert hashlib.sha256(rebuilt).hexdigest() == entry["sha256"], name
    assert (tmp_path / "manifest.json").read_bytes() == (DATA / "manifest.json").read_bytes()


def test_cli_build_prints_one_json_summary(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "geo", "build", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    lines = completed.stdout.decode("utf-8").splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["ok"] is True
    assert summary["features"] == {"provinces_63.geojson": 63, "provinces_2025.geojson": 34}
    assert summary["files"]["provinces_63.geojson"] <= 300_000
    assert b"geo build:" in completed.stderr
    shipped = (DATA / "provinces_63.geojson").read_bytes()
    assert (tmp_path / "provinces_63.geojson").read_bytes() == shipped
