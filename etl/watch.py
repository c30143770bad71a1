"""A drop folder: files that appear in it are loaded, then moved out of the way.

``python -m etl watch DIR`` polls DIR. A file is taken once it has settled (not modified for
`settle` seconds, so a half-copied file is left alone; writers should still copy under a
dot-name or another suffix and rename when done). Each file goes through
`etl.files.load_file` (which resumes after its committed batches, so a crash mid-file
costs nothing) and is then moved to ``DIR/loaded/``; a file that cannot be read as a file
drop moves to ``DIR/failed/`` beside a ``.error.txt`` that says why. Dot-files and other
suffixes are ignored. A name already present in the target folder gets a numeric suffix:
nothing is overwritten.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etl.files import SUFFIXES, FileDropError, load_file
from warehouse.client import Warehouse

log = logging.getLogger(__name__)

LOADED, FAILED = "loaded", "failed"


def ready_files(directory: Path, settle: float, now: float | None = None) -> list[Path]:
    """Drop files in `directory` not modified for `settle` seconds, oldest first."""
    now = time.time() if now is None else now
    found = []
    for path in directory.iterdir():
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() not in SUFFIXES:
            continue
        modified = path.stat().st_mtime
        if now - modified >= settle:
            found.append((modified, path.name, path))
    return [path for _, _, path in sorted(found)]


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    number = 1
    while target.exists():
        target = folder / f"{path.stem}.{number}{path.suffix}"
        number += 1
    shutil.move(str(path), target)
    return target


def watch_once(
    warehouse: Warehouse,
    directory: Path,
    key: bytes,
    batch_rows: int,
    settle: float = 2.0,
) -> list[dict[str, Any]]:
    """Load every settled file in `directory` once; one summary per file."""
    results = []
    for path in ready_files(directory, settle):
        try:
            report = load_file(warehouse, path, key, batch_rows)
        except FileDropError as error:
            moved = _move(path, directory / FAILED)
            moved.with_name(moved.name + ".error.txt").write_text(f"{error}\n", encoding="utf-8")
            log.warning("drop %s failed: %s (moved to %s)", path.name, error, moved)
            results.append({"file": path.name, "failed": str(error), "moved_to": str(moved)})
            continue
        moved = _move(path, directory / LOADED)
        summary = report.summary()
        log.info(
            "drop %s: read %d loaded %d rejected %d (moved to %s)",
            path.name, report.read, report.loaded, report.rejected, moved,
        )  # fmt: skip
        results.append({"file": path.name, **summary, "moved_to": str(moved)})
    return results


def watch(
    warehouse: Warehouse,
    directory: Path,
    key: bytes,
    batch_rows: int,
    stop: threading.Event,
    interval: float = 2.0,
    settle: float = 2.0,
    on_file: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Poll `directory` every `interval` seconds until `stop` is set; returns files handled."""
    handled = 0
    while not stop.is_set():
        for result in watch_once(warehouse, directory, key, batch_rows, settle):
            handled += 1
            if on_file is not None:
                on_file(result)
        stop.wait(interval)
    return handled
