"""Run benchmarks on two versions of the code, alternately, in one sitting: a restructuring
(or any change meant to keep behaviour) shows its figures beside the figures of the code
before it, on the same machine under the same load.

    python -m bench.side_by_side --base 62d00b6 \\
        "bench.warehouse_ledger --doses 300000" "bench.etl_files --doses 500000"

Each benchmark runs base, change, change, base (so a drift in the machine's load during the
pair affects both sides alike); each run's printed figures are kept whole, and the section
"Side by side: before and after a change" of docs/benchmarks.md holds them with the commands. The
base version is checked out into a temporary git worktree and runs with this checkout's
virtual environment; the runs of the change do not rewrite their own sections
(``VAX_BENCH_NO_DOC=1``), since they run at the sizes given here.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    side: str  # "base" or "change"
    command: str
    seconds: float
    output: str
    returncode: int


def revision(ref: str, cwd: Path = ROOT) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=cwd, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def changed_tree(cwd: Path = ROOT) -> bool:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return bool(out.stdout.strip())


def run_once(side: str, tree: Path, command: str, timeout: float) -> Run:
    env = dict(os.environ, PYTHONPATH=str(tree), VAX_BENCH_NO_DOC="1", PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", *shlex.split(command)]
    began = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout
        )
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        output = f"{expired.stdout or ''}\n(stopped after {timeout:.0f} s)"
        code = -1
    seconds = time.perf_counter() - began
    print(f"  {side:6} {command}: {seconds:.1f} s, exit {code}", flush=True)
    return Run(side, command, seconds, output, code)


def figures(output: str, keep: int) -> str:
    """The run's printed figures: its last `keep` lines that are not progress lines."""
    lines = [
        line.rstrip()
        for line in output.splitlines()
        if line.strip() and not line.lstrip().startswith(("loaded ", "seeded ", "…"))
    ]
    return "\n".join(lines[-keep:])


def report(base: str, change: str, runs: list[Run], keep: int) -> str:
    parts = [
        f"Base `{base}`, change `{change}`; each benchmark ran base, change, change, base "
        "(in one sitting, on the same machine). Figures as each run printed them.\n"
    ]
    for command in dict.fromkeys(run.command for run in runs):
        parts.append(f"### `python -m {command}`\n")
        for run in (run for run in runs if run.command == command):
            status = "" if run.returncode == 0 else f", exit {run.returncode}"
            parts.append(
                f"{run.side} ({run.seconds:.1f} s{status}):\n\n```\n{figures(run.output, keep)}\n```\n"
            )
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmarks", nargs="+", help="a module and its arguments, quoted")
    parser.add_argument("--base", required=True, help="the version to compare with (a git ref)")
    parser.add_argument("--keep", type=int, default=25, help="printed lines kept per run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    args = parser.parse_args()

    base = revision(args.base)
    change = revision("HEAD") + ("+changes" if changed_tree() else "")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="vaxviet-base-") as scratch:
        tree = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), base],
            cwd=ROOT, check=True,
        )  # fmt: skip
        try:
            for command in args.benchmarks:
                print(f"{command}", flush=True)
                for side in ("base", "change", "change", "base"):
                    runs.append(
                        run_once(side, tree if side == "base" else ROOT, command, args.timeout)
                    )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    body = report(base, change, runs, args.keep)
    print(body)
    os.environ.pop("VAX_BENCH_NO_DOC", None)
    write_section("Side by side: before and after a change", "bench.side_by_side", body)


if __name__ == "__main__":
    main()
