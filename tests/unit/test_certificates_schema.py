"""DCC schema validation against the schema project's own test cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certificates import schema
from tests.conftest import ROOT

CASES = ROOT / "tests" / "data" / "dcc" / "schema-tests"


@pytest.mark.parametrize("path", sorted((CASES / "valid").glob("*.json")), ids=lambda p: p.stem)
def test_valid_cases_pass(path: Path) -> None:
    assert schema.problems(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", sorted((CASES / "invalid").glob("*.json")), ids=lambda p: p.stem)
def test_invalid_cases_fail(path: Path) -> None:
    assert schema.problems(json.loads(path.read_text(encoding="utf-8")))


def test_every_release_is_shipped() -> None:
    names = {".".join(map(str, version)) for version in schema.releases()}
    assert names == {
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "1.2.0",
        "1.2.1",
        "1.3.0",
        "1.3.1",
        "1.3.2",
        "1.3.3",
    }


def test_not_a_payload() -> None:
    assert schema.problems(["v"]) == ["payload is not a JSON object"]
    assert schema.problems({"ver": "9.9.9"})[0].startswith("no schema release")
