"""Write benchmark figures into docs/benchmarks.md, with the command and the machine; the
process's own CPU time and peak memory."""

from __future__ import annotations

import os
import platform
import re
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Figures printed by the scripts in `bench/`; each section is rewritten by the script that
owns it, with the command that produced it and the machine it ran on. Machines here are
shared and noisy: compare figures from the same run, not across sections or days.
"""


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """The largest resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if match:
            memory = f", {int(match[1]) / 1024 / 1024:.0f} GiB RAM"
    return f"{platform.machine()}, {cpus} cores{memory}, Python {platform.python_version()}"


def write_section(name: str, module: str, body: str) -> None:
    """Replace (or append) the section `name` of docs/benchmarks.md; `module` is the
    benchmark's module name, so the recorded command can be run again as written.

    With ``VAX_BENCH_NO_DOC=1`` (set by `bench.side_by_side`) the figures are only printed:
    a comparison run at reduced sizes must not replace a section's full-size figures."""
    if os.environ.get("VAX_BENCH_NO_DOC") == "1":
        return
    command = " ".join(["python -m", module, *sys.argv[1:]])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## {name}\n\n<!-- section:{name} -->\n"
        f"Command: `{command}`  \nMachine: {machine()}  \nRun: {stamp}, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when it ended (other work on the "
        f"machine slows every figure)\n\n{body.strip()}\n"
        f"<!-- end:{name} -->\n"
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    pattern = re.compile(
        rf"## {re.escape(name)}\n\n<!-- section:{re.escape(name)} -->.*?<!-- end:{re.escape(name)} -->\n",
        re.DOTALL,
    )
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text + "\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
