"""The shape every build step shares: read sources, check, write files with a manifest.

Three steps regenerate committed data from the shared source folder: ``geo.build``
(``geo/data/``), ``registry.build_data`` (``registry/data/``) and
``certificates.build_data`` (the DCC schema and test vectors). Each is deterministic (same
sources → same bytes) and fails with :class:`BuildError` instead of writing doubtful data.
This module holds what they have in common: the error, the check, the source reader,
hashes and CSV bytes, the manifest's file entries, README rendering from a template file
beside the step, and writing (or, for a check, comparing) the files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BuildError",
    "csv_bytes",
    "file_entries",
    "json_bytes",
    "read_sources",
    "render_template",
    "require",
    "sha256",
    "step_summary",
    "write_files",
]


class BuildError(RuntimeError):
    """A source file is missing or breaks an expectation; nothing doubtful is written."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`BuildError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise BuildError(message)


def read_sources(source_dir: Path, sources: Mapping[str, str]) -> dict[str, bytes]:
    """Every source file's bytes by key (``sources``: key → path relative to ``source_dir``),
    so checksums and parsing see the same content."""
    require(source_dir.is_dir(), f"source folder {source_dir} not found (use --source)")
    data = {}
    for key, relative in sources.items():
        path = source_dir / relative
        require(path.is_file(), f"source file {path} not found")
        data[key] = path.read_bytes()
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_entries(files: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """``{name: {"bytes": size, "sha256": hash}}`` in name order, as a manifest lists files."""
    return {
        name: {"bytes": len(data), "sha256": sha256(data)} for name, data in sorted(files.items())
    }


def step_summary(
    command: str, out_dir: Path, files: Mapping[str, tuple[int, str]], **facts: Any
) -> dict[str, Any]:
    """A build step's one-line JSON-able summary for the command line: its command, where it
    wrote, each file's size (``files``: name → (size in bytes, sha256)), then the step's
    own ``facts``."""
    return {
        "command": command,
        "ok": True,
        "out": str(out_dir),
        "files": {name: size for name, (size, _) in sorted(files.items())},
        **facts,
    }


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Deterministic CSV: UTF-8, ``\\n`` line ends, minimal quoting, values as ``str``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def json_bytes(document: Any, sort_keys: bool = False) -> bytes:
    """A manifest as committed: one-space indent, UTF-8 text, a final line end."""
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=sort_keys)
    return (text + "\n").encode("utf-8")


def render_template(path: Path, values: Mapping[str, object]) -> str:
    """The template file at ``path`` with every ``${name}`` replaced by ``values[name]``
    (``$$`` is a dollar sign); a placeholder without a value is an error."""
    template = string.Template(path.read_text(encoding="utf-8"))
    try:
        return template.substitute(values)
    except (KeyError, ValueError) as exc:
        raise BuildError(f"{path}: {exc!r}") from exc


def write_files(files: Mapping[Path, bytes], check: bool = False) -> list[Path]:
    """Write every file whose content differs (through a temporary file, so a reader never
    sees half a file); with ``check``, write nothing. Returns the files that differed."""
    changed = []
    for path, data in files.items():
        if path.is_file() and path.read_bytes() == data:
            continue
        changed.append(path)
        if check:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    return changed
