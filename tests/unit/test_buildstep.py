"""The build-step harness every build shares (geo.buildstep)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import buildstep
from geo.buildstep import BuildError


def test_require_raises_the_build_error_with_its_message() -> None:
    buildstep.require(True, "never")
    with pytest.raises(BuildError, match="a source broke"):
        buildstep.require(False, "a source broke")


def test_read_sources_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x\n")
    assert buildstep.read_sources(tmp_path, {"a": "a.csv"}) == {"a": b"x\n"}
    with pytest.raises(BuildError, match=r"b\.csv"):
        buildstep.read_sources(tmp_path, {"a": "a.csv", "b": "b.csv"})
    with pytest.raises(BuildError, match="not found"):
        buildstep.read_sources(tmp_path / "absent", {})


def test_csv_json_and_manifest_entries_are_deterministic() -> None:
    assert (
        buildstep.csv_bytes(["a", "b"], [(1, "x, y"), ("Hà", "")]) == b'a,b\n1,"x, y"\nH\xc3\xa0,\n'
    )
    assert (
        buildstep.json_bytes({"b": 1, "a": "Hà"}, sort_keys=True)
        == '{\n "a": "Hà",\n "b": 1\n}\n'.encode()
    )
    entries = buildstep.file_entries({"z": b"", "a": b"abc"})
    assert list(entries) == ["a", "z"]
    assert entries["a"] == {
        "bytes": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }


def test_render_template_fills_every_placeholder_and_refuses_a_missing_one(tmp_path: Path) -> None:
    template = tmp_path / "README.template.md"
    template.write_text("# ${title}\n\n${count} rows, $$5.\n", encoding="utf-8")
    assert (
        buildstep.render_template(template, {"title": "Data", "count": 63})
        == "# Data\n\n63 rows, $5.\n"
    )
    with pytest.raises(BuildError, match="count"):
        buildstep.render_template(template, {"title": "Data"})


def test_write_files_writes_only_what_differs_and_a_check_writes_nothing(tmp_path: Path) -> None:
    same, other, new = tmp_path / "same", tmp_path / "other", tmp_path / "sub" / "new"
    same.write_bytes(b"1")
    other.write_bytes(b"old")
    files = {same: b"1", other: b"2", new: b"3"}
    assert buildstep.write_files(files, check=True) == [other, new]
    assert other.read_bytes() == b"old" and not new.exists()
    assert buildstep.write_files(files) == [other, new]
    assert (other.read_bytes(), new.read_bytes()) == (b"2", b"3")
    assert buildstep.write_files(files) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["new", "other", "same", "sub"]
