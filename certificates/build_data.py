"""Build the project's own copies of the EU DCC reference data from the shared sources.

Two destinations, because they serve different readers:

* ``certificates/data/dcc-schema/`` — what the verifier needs at run time: the combined DCC
  JSON schema of every release (``schema/<ver>/``) and the value sets, with the licence.
* ``tests/data/dcc/`` — what only the tests need: the official test vectors listed in their
  ``MANIFEST.json`` (with ``LICENSE``, ``NOTICE`` and the curated README), and the schema
  project's examples and schema test cases.

Files are copied byte for byte; nothing in the project reads the shared folder when it runs
or tests. ``build(check=True)`` compares instead of writing and lists every difference. The
step stands on the shared build harness, :mod:`geo.buildstep`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from geo.buildstep import BuildError, require, write_files

__all__ = ["DEFAULT_SOURCE", "BuildError", "build"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = PROJECT_ROOT.parent / "shared" / "data"
SCHEMA_OUT = Path(__file__).resolve().parent / "data" / "dcc-schema"
TESTDATA_OUT = PROJECT_ROOT / "tests" / "data" / "dcc"


def _pairs(source: Path, schema_out: Path, testdata_out: Path) -> Iterator[tuple[Path, Path]]:
    """(source file, destination file) for everything the project ships."""
    vectors = source / "dcc-testdata"
    schema = source / "dcc-schema"
    manifest_path = vectors / "MANIFEST.json"
    require(
        manifest_path.is_file(), f"{manifest_path} not found: is --source the shared data folder?"
    )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name in ("MANIFEST.json", "README.md", "LICENSE", "NOTICE"):
        yield vectors / name, testdata_out / "testdata" / name
    for entry in manifest["files"]:
        yield vectors / entry["path"], testdata_out / "testdata" / entry["path"]
    yield schema / "LICENSE", testdata_out / "LICENSE.dcc-schema"
    for folder in ("examples", "schema-tests"):
        for path in sorted((schema / folder).rglob("*.json")):
            yield path, testdata_out / folder / path.relative_to(schema / folder)

    yield schema / "LICENSE", schema_out / "LICENSE"
    for path in sorted((schema / "schema").glob("*/*combined-schema.json")):
        yield path, schema_out / "schema" / path.parent.name / path.name
    yield schema / "valuesets" / "LICENSE", schema_out / "valuesets" / "LICENSE"
    for path in sorted((schema / "valuesets").glob("*.json")):
        yield path, schema_out / "valuesets" / path.name


def build(
    source: Path = DEFAULT_SOURCE,
    schema_out: Path = SCHEMA_OUT,
    testdata_out: Path = TESTDATA_OUT,
    check: bool = False,
) -> dict[str, int | list[str]]:
    """Copy (or, with `check`, compare) every file; returns counts and any differences."""
    files = {}
    for origin, target in _pairs(source, schema_out, testdata_out):
        require(origin.is_file(), f"{origin} not found")
        files[target] = origin.read_bytes()
    changed = write_files(files, check=check)
    if check:
        return {"written": 0, "differences": [str(path) for path in changed]}
    return {"written": len(changed), "differences": []}
