"""`python -m certificates` as a user runs it: the verify contract of DESIGN.md, keys, trust list."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certificates import verify
from tests.conftest import ROOT

VECTORS = ROOT / "tests" / "data" / "dcc" / "testdata"
pytestmark = pytest.mark.integration


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    done = subprocess.run(
        [sys.executable, "-m", "certificates", *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) <= 1, "one JSON document on stdout"
    return done.returncode, json.loads(lines[0]) if lines else None, done.stderr


@pytest.fixture
def vector(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    data = json.loads((VECTORS / "BE/2DCode/raw/1.json").read_text(encoding="utf-8"))
    cert = tmp_path / "dsc.der"
    cert.write_bytes(base64.b64decode(data["TESTCTX"]["CERTIFICATE"]))
    return data, cert


def test_valid_text_and_png(vector: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    data, cert = vector
    clock = data["TESTCTX"]["VALIDATIONCLOCK"]
    code, document, _ = run("verify", "--trust", str(cert), "--at", clock, data["PREFIX"])
    assert code == 0 and document["valid"] is True
    assert document["status"] == "green" and document["boosters"] == 0
    assert set(document["stages"]) == set(verify.STAGES)
    assert document["stages"]["qr"] is None
    assert all(document["stages"][stage] is True for stage in verify.STAGES[1:])
    assert document["payload"] == data["JSON"]

    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(data["2DCODE"]))
    code, document, _ = run("verify", "--trust", str(cert), "--at", clock, str(png))
    assert code == 0 and document["stages"]["qr"] is True


def test_invalid_results_exit_1(vector: tuple[dict[str, Any], Path]) -> None:
    data, cert = vector
    code, document, _ = run("verify", "--trust", str(cert), data["PREFIX"])  # clock: now
    assert code == 1 and document["valid"] is False
    assert document["failed_stage"] == "expiry" and document["status"] is None
    code, document, _ = run("verify", "--trust", str(cert), "HC2:" + data["PREFIX"][4:])
    assert code == 1 and document["stages"]["prefix"] is False
    assert document["stages"]["base45"] is None


def test_usage_errors_exit_2(vector: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    data, cert = vector
    assert run("verify", "--trust", str(cert), "--at", "soon", data["PREFIX"])[0] == 2
    assert run("verify", "--trust", str(tmp_path / "none.pem"), data["PREFIX"])[0] == 2
    assert run("verify", "--trust", str(cert), str(tmp_path / "missing.png"))[0] == 2
    assert run("verify")[0] == 2


def test_trust_list_json_and_default_platform_trust(
    vector: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    data, cert = vector
    env = {**os.environ, "VAX_VAR_DIR": str(tmp_path / "var")}
    code, first, _ = run("keys", env=env)
    assert code == 0 and first["trusted_keys"] == 1
    assert (tmp_path / "var" / "keys" / "signing-key.pem").stat().st_mode & 0o077 == 0
    code, rotated, _ = run("keys", "--rotate", env=env)
    assert code == 0 and rotated["kid"] != first["kid"] and rotated["trusted_keys"] == 2
    code, listed, _ = run("trust-list", env=env)
    kids = {base64.b64decode(kid).hex() for kid in listed["keys"]}
    assert kids == {first["kid"], rotated["kid"]}

    # the platform's own trust list does not trust the test vector's signer
    code, document, _ = run(
        "verify", "--at", data["TESTCTX"]["VALIDATIONCLOCK"], data["PREFIX"], env=env
    )
    assert code == 1 and document["failed_stage"] == "signature"
    # a trust-list file that lists it does
    listing = tmp_path / "trust.json"
    kid = base64.b64encode(bytes.fromhex(document["kid"])).decode()
    listing.write_text(json.dumps({"keys": {kid: base64.b64encode(cert.read_bytes()).decode()}}))
    code, document, _ = run(
        "verify",
        "--trust",
        str(listing),
        "--at",
        data["TESTCTX"]["VALIDATIONCLOCK"],
        data["PREFIX"],
    )
    assert code == 0
