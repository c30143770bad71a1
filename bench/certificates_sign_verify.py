"""Per-certificate cost of issuing and verifying, on one core.

    python -m bench.certificates_sign_verify [--count 2000] [--images 200]

Times, per certificate: issue + sign + encode (DCC from doses → CWT → COSE ES256 → zlib →
base45 → HC1 text, `certificates.issue.issue`), the QR PNG on top, verification of the
text (every stage, incl. schema and value sets, `verify_text`), and verification from the
PNG (zxing-cpp decode + every stage). The process is pinned to one CPU. Targets (issue 6):
issue + sign + encode <= 5 ms, verify <= 2 ms. Figures go to stdout and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from bench.report import write_section
from certificates import issue, keys, qr, verify
from certificates.trust import TrustList
from vaxviet.settings import Settings

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SCHEDULES = [
    ["EU/1/21/1529"],
    ["EU/1/21/1529", "EU/1/21/1529"],
    ["BBIBP-CorV", "BBIBP-CorV", "EU/1/20/1528"],
    ["EU/1/20/1528", "EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1528"],
    ["EU/1/20/1525"],
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng"]
GIVEN = ["Văn An", "Thị Bích Ngọc", "Minh", "Quốc Trung", "Thị Hoa"]


def people(count: int) -> list[tuple[str, issue.Identity, list[issue.Dose]]]:
    rng = np.random.default_rng(6)
    out = []
    for index in range(count):
        schedule = SCHEDULES[index % len(SCHEDULES)]
        name = f"{FAMILY[rng.integers(len(FAMILY))]} {GIVEN[rng.integers(len(GIVEN))]}"
        born = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 25_000)))
        start = dt.datetime(2021, 7, 1, 8, tzinfo=dt.UTC) + dt.timedelta(
            days=int(rng.integers(0, 200))
        )
        doses = [
            issue.Dose(
                f"D{index}-{n}", 1, code, n, start + dt.timedelta(days=60 * n), "LOT", "79", "S"
            )
            for n, code in enumerate(schedule, start=1)
        ]
        out.append((f"{index:032x}", issue.Identity(name, born, "F", ""), doses))
    return out


T = TypeVar("T")


def per_item_ms(items: Sequence[T], work: Callable[[T], object]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter_ns()
        work(item)
        times.append((time.perf_counter_ns() - started) / 1e6)
    return times


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered), statistics.fmean(ordered), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="certificates to issue/verify")
    parser.add_argument("--images", type=int, default=200, help="of which drawn and read back")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"VAX_VAR_DIR": str(Path(folder) / "var")})
        signing = keys.ensure(settings, NOW)
    trust = TrustList.of([signing.signer])
    population = people(args.count)

    issued: list[issue.Issued] = []
    issue_ms = per_item_ms(
        population, lambda p: issued.append(issue.issue(p[0], p[1], p[2], signing, NOW))
    )
    texts = [item.text for item in issued]
    verify_ms = per_item_ms(texts, lambda t: verify.verify_text(t, trust, NOW))
    pngs: list[bytes] = []
    png_ms = per_item_ms(texts[: args.images], lambda t: pngs.append(qr.qr_png(t)))
    image_ms = per_item_ms(pngs, lambda p: verify.verify_image(p, trust, NOW))
    valid = sum(verify.verify_text(t, trust, NOW).valid for t in texts)
    if valid != len(texts):
        raise SystemExit(f"only {valid} of {len(texts)} issued certificates verified")

    length = statistics.fmean(len(t) for t in texts)
    rows = [
        ("issue + sign + encode (HC1 text)", issue_ms, "<= 5"),
        ("verify HC1 text (all stages)", verify_ms, "<= 2"),
        ("draw QR PNG", png_ms, ""),
        ("verify from PNG (zxing-cpp + all stages)", image_ms, ""),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"{args.count} certificates ({args.images} drawn and read back), one CPU core, "
        f"HC1 text {length:.0f} characters on average; all {valid} verified. "
        f"Load average {load:.1f} at the end (the 2 cores were shared with other work, so "
        "the p99 column mostly shows preemption).",
        "",
        "| step, per certificate | median ms | mean ms | p99 ms | target ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, times, target in rows:
        median, mean, p99 = summary(times)
        lines.append(f"| {label} | {median:.3f} | {mean:.3f} | {p99:.3f} | {target} |")
        print(f"{label:45s} median {median:7.3f} ms  mean {mean:7.3f} ms  p99 {p99:7.3f} ms")
    write_section(
        "Certificates: issue, sign, verify", "bench.certificates_sign_verify", "\n".join(lines)
    )


if __name__ == "__main__":
    main()
