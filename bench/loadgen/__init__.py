"""The benchmarks' load generator, `vaxviet-loadgen` (loadgen.c beside this file, built into
the venv by ``make bench-tools``): the view scripts it replays and a call that runs it.

A view script is the ordered requests of one page view. The file format (written here, read
by loadgen.c) is text lines, bodies length-prefixed::

    VIEW <name>
    REQ <METHOD> <dynamic 0|1> <path>
    L <label>
    H <Name>: <value>
    B <n>
    <n bytes of body>

``{seq:W}`` in a path or body becomes a number of W digits, another one for every view.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
BINARY = ROOT / ".venv" / "bin" / "vaxviet-loadgen"


@dataclass(frozen=True)
class Request:
    """One request of a view: `dynamic` marks the answers the server computes or looks up
    per data version (the page, its layout, callbacks, the API), not static bundles."""

    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    dynamic: bool = True
    label: str = ""


def write_view(path: Path, name: str, requests: Sequence[Request]) -> Path:
    lines = [f"VIEW {name}\n".encode()]
    for request in requests:
        if " " in request.path or "\n" in request.path:
            raise ValueError(f"a path with a space or newline: {request.path!r}")
        lines.append(f"REQ {request.method} {int(request.dynamic)} {request.path}\n".encode())
        if request.label:
            lines.append(f"L {request.label}\n".encode())
        for header, value in request.headers.items():
            lines.append(f"H {header}: {value}\n".encode())
        if request.body is not None:
            lines.append(f"B {len(request.body)}\n".encode() + request.body + b"\n")
    path.write_bytes(b"".join(lines))
    return path


def binary() -> Path:
    """The built generator, built first (``make bench-tools``) when missing or older than
    its source."""
    source = Path(__file__).with_name("loadgen.c")
    if not BINARY.exists() or BINARY.stat().st_mtime < source.stat().st_mtime:
        make = shutil.which("make")
        if make is None:
            raise RuntimeError("make is needed to build vaxviet-loadgen (make bench-tools)")
        subprocess.run([make, "-s", "bench-tools"], cwd=ROOT, check=True)
    return BINARY


def run(port: int, scripts: Sequence[str], seconds: float, *options: str) -> dict[str, Any]:
    """Run the generator for `seconds` against 127.0.0.1:`port` with these ``--script``
    specs (``file=…,name=…,visitors=…,rate=…``) and options; its JSON report."""
    command = [str(binary()), "--port", str(port), "--duration-s", str(seconds), *options]
    for spec in scripts:
        command += ["--script", spec]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vaxviet-loadgen failed ({done.returncode}): {done.stderr.strip()}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report
