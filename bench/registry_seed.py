"""Benchmark the campaign simulator: seed speed into SQLite and PostgreSQL, and memory.

    python -m bench.registry_seed [--scales 0.005 0.01] [--until 2023-06-30]
                                  [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each seed runs as `python -m registry seed` in its own process (as users run it) on a fresh
database; the figures are the command's own JSON summary plus the process's peak resident
memory (from wait4). Engines are measured side by side in one run. Results go to stdout and
to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent


def run_seed(dsn: str, scale: float, until: str) -> tuple[dict[str, object], float]:
    env = {**os.environ, "VAX_SOURCE_DSN": dsn, "VAX_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "registry", "seed", "--scale", str(scale), "--until", until,
               "--no-progress"]  # fmt: skip
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"seed failed: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        out.seek(0)
        summary = json.loads(out.read().decode().strip().splitlines()[-1])
    return summary, usage.ru_maxrss / 1024  # MiB


def fresh_postgres(admin_url: str) -> tuple[str, str]:
    name = f"vax_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.005, 0.01])
    parser.add_argument("--until", default="2023-06-30")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    lines = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as directory:
            summary, rss = run_seed(f"sqlite:///{directory}/registry.sqlite", scale, args.until)
        lines.append(("SQLite", scale, summary, rss))
        print(lines[-1], flush=True)
        dsn, name = fresh_postgres(args.postgres)
        try:
            summary, rss = run_seed(dsn, scale, args.until)
        finally:
            drop_postgres(args.postgres, name)
        lines.append(("PostgreSQL", scale, summary, rss))
        print(lines[-1], flush=True)
    table = [
        "| engine | scale | doses | rows (all tables) | seconds | doses/s | rows/s | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for engine, scale, summary, rss in lines:
        rows = sum(summary["rows"].values())  # type: ignore[union-attr]
        seconds = float(summary["seconds"])  # type: ignore[arg-type]
        table.append(
            f"| {engine} | {scale} | {summary['doses']:,} | {rows:,} | {seconds:.1f} | "
            f"{summary['doses_per_second']:,} | {rows / seconds:,.0f} | {rss:,.0f} MiB |"
        )
    body = "\n".join(table) + (
        f"\n\nCampaign 2021-03-08 … {args.until}; target: 200,000 doses/s into each engine."
    )
    print(body)
    write_section("Registry seed (campaign simulator)", "bench.registry_seed", body)


if __name__ == "__main__":
    main()
