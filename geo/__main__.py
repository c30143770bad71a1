"""Command line for the geo package: ``python -m geo {provinces,build}``.

Contract shared by every command: a one-line JSON summary at the end. ``build`` prints progress
on stderr and the summary on stdout. ``provinces`` prints the table itself on stdout (CSV, or
one JSON array) and its summary on stderr, so stdout stays a clean, parseable document.
Exit codes: 0 success, 1 a data or build error, 2 a usage error (from argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from geo.provinces import GeoDataError, load_provinces

EXIT_OK = 0
EXIT_ERROR = 1


def _write(stream: TextIO, text: str) -> None:
    """Write UTF-8 text whatever the stream's own encoding (the data is Vietnamese)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        return
    stream.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _summary(stream: TextIO, summary: dict[str, Any]) -> None:
    _write(stream, json.dumps(summary, ensure_ascii=False, separators=(", ", ": ")) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo", description="Vietnam province reference data for VaxViet."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    provinces = commands.add_parser(
        "provinces", help="print the 63-province table (CSV or JSON) on stdout"
    )
    provinces.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default: csv)"
    )
    build = commands.add_parser("build", help="regenerate geo/data/ from the shared sources")
    build.add_argument(
        "--source",
        type=Path,
        default=None,
        help="source folder (default: ../shared/data/vn next to the repository root)",
    )
    build.add_argument("--out", type=Path, default=None, help="output folder (default: geo/data)")
    return parser


def _provinces(output_format: str) -> int:
    frame = load_provinces()
    if output_format == "json":
        records = [
            {
                key: (int(value) if key.startswith("population") else value)
                for key, value in row.items()
            }
            for row in frame.to_dict(orient="records")
        ]
        _write(sys.stdout, json.dumps(records, ensure_ascii=False) + "\n")
    else:
        _write(sys.stdout, frame.to_csv(index=False, lineterminator="\n"))
    _summary(sys.stderr, {"command": "provinces", "format": output_format, "rows": len(frame)})
    return EXIT_OK


def _build(source: Path | None, out: Path | None) -> int:
    from geo.build import DEFAULT_OUT, DEFAULT_SOURCE, BuildError, build  # heavy: shapely

    def progress(message: str) -> None:
        _write(sys.stderr, f"geo build: {message}\n")

    try:
        result = build(source or DEFAULT_SOURCE, out or DEFAULT_OUT, log=progress)
    except BuildError as exc:
        _write(sys.stderr, f"geo build: error: {exc}\n")
        _summary(sys.stdout, {"command": "build", "ok": False, "error": str(exc)})
        return EXIT_ERROR
    _summary(sys.stdout, result.summary())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "provinces":
            return _provinces(args.format)
        return _build(args.source, args.out)
    except GeoDataError as exc:
        _write(sys.stderr, f"geo {args.command}: error: {exc}\n")
        _summary(sys.stdout, {"command": args.command, "ok": False, "error": str(exc)})
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
