"""What the security headers (web.security.SecurityHeaders, the outermost WSGI layer of the
web process) cost a request: the same minimal WSGI answer (a stored page's shape: HTML and
a JSON one, a few headers) called with and without the layer, in alternating batches in one
run, CPU time per request. Figures go to stdout and docs/benchmarks.md ("Security headers").

    python -m bench.security_headers --requests 200000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench.report import write_section
from web.security import SecurityHeaders, script_hash

BODY = b"<!doctype html><title>x</title>" + b"x" * 2000


def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    html = environ["PATH_INFO"] == "/"
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/html; charset=utf-8" if html else "application/json"),
            ("Content-Length", str(len(BODY))),
            ("Cache-Control", "no-cache"),
            ("ETag", '"abc"'),
            ("Vary", "Accept-Encoding"),
        ],
    )
    return [BODY]


def per_request(app: Callable[..., Any], paths: list[str], count: int) -> float:
    """CPU seconds per request over `count` requests to `paths` in turn."""
    environs = [{"PATH_INFO": path, "REQUEST_METHOD": "GET"} for path in paths]

    def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
        return None

    started = time.process_time()
    for n in range(count):
        for _ in app(environs[n % len(environs)], start_response):
            pass
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="per batch")
    parser.add_argument("--batches", type=int, default=6, help="alternating, each side")
    args = parser.parse_args()
    secured = SecurityHeaders(answer, production=True)
    secured.allow_scripts(script_hash(f"script {n}") for n in range(8))
    paths = ["/", "/_dash-update-component", "/certificate", "/internal/", "/api/v1/coverage"]
    bare: list[float] = []
    wrapped: list[float] = []
    for _ in range(args.batches):
        bare.append(per_request(answer, paths, args.requests))
        wrapped.append(per_request(secured, paths, args.requests))
    plain_us = statistics.median(bare) * 1e6
    secured_us = statistics.median(wrapped) * 1e6
    body = "\n".join(
        [
            f"{args.batches} alternating batches of {args.requests:,} requests each side (paths "
            f"{', '.join(paths)} in turn), CPU per request, median of the batches:",
            "",
            "| answer | µs per request |",
            "|---|---:|",
            f"| without the layer | {plain_us:.2f} |",
            f"| with web.security.SecurityHeaders | {secured_us:.2f} |",
            f"| the layer's cost | {secured_us - plain_us:.2f} |",
        ]
    )
    print(body)
    write_section("Security headers", "bench.security_headers", body)


if __name__ == "__main__":
    main()
