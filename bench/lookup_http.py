"""Certificate lookups per second through the real web server, as citizens make them.

    python -m bench.lookup_http --dir DIR [--seconds 20] [--processes 4] [--threads 60]

DIR is a warehouse filled by ``python -m bench.certificates_lookup --dir DIR`` (50 M doses
for the recorded figures). The platform is served by ``python -m vaxviet serve`` (waitress
with ``VAX_WEB_THREADS``, rate limits on, the 0.4 s floor of every code request), its
warehouse that directory, its pseudonym key the one the fill used. Its SMS sender is this
module's `RedisSender` (``VAX_SMS_SENDER=bench.lookup_http:redis_sender``), the stand-in for
the gateway, the platform's true external boundary: it puts each code in Redis under the
phone number, where the simulated citizen's "phone" reads it.

`--processes` × `--threads` citizens, on the same 2 cores as the server, each doing whole
lookups one after another for `--seconds`: a new connection from an address of its own
(127.x.y.z, so per-address limits apply per citizen as they would), ``POST
/api/v1/certificate/code`` with the person's details, the code from the phone, ``POST
/api/v1/certificate/confirm``, the card with its QR. Every lookup is a different person.
Each citizen waits for its answers (a closed loop), so the citizens must be enough to keep
the server busy: a lookup takes at least the 0.4 s floor, so 160 citizens could never ask
for more than 400 lookups/s and in practice, with the waits, asked for about 215 — the
default 240 ask for more than the server serves. Lookups completed per second, failures,
the time a lookup takes (floor and SMS included), its code request, how long the code took
to reach the phone and the confirm request, and the CPU seconds per lookup of the server
and of the simulated citizens (they share the 2 cores). Figures go to stdout and
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import time
from pathlib import Path
from typing import Any

from bench.certificates_lookup import BORN, KEY, NAME, cccd, people_of, phone
from bench.portal_callbacks import percentile, start_serve
from bench.report import write_section

REDIS_URL = os.environ.get("VAX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CODE_PREFIX = "vaxbench:otp:"


class RedisSender:
    """The benchmark's SMS gateway: the code of each message, under the phone, in Redis
    (synthetic people only; the platform's own senders are the outbox and sms_http)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def send(self, phone: str, message: str) -> None:
        found = re.search(r"\b(\d{6})\b", message)
        if found:  # a list the phone waits on (BLPOP), no polling
            with self._redis.pipeline() as pipe:
                pipe.rpush(CODE_PREFIX + phone, found[1])
                pipe.expire(CODE_PREFIX + phone, 300)
                pipe.execute()


def redis_sender(settings: Any) -> RedisSender:
    """``VAX_SMS_SENDER`` factory (called with the platform's settings)."""
    return RedisSender(REDIS_URL)


def address_of(person: int) -> str:
    """A loopback address of the person's own (127.0.0.0/8 is all loopback on Linux)."""
    return f"127.{1 + person // 65025 % 254}.{person // 255 % 255}.{1 + person % 254}"


def _citizens(job: tuple[int, int, int, int, int, float, int]) -> dict[str, Any]:
    port, process, processes, threads, people, seconds, seed = job
    import random
    import threading

    import redis

    codes = redis.Redis.from_url(REDIS_URL)
    results: dict[str, Any] = {
        "done": 0, "failed": [], "whole": [], "confirm": [], "code": [], "sms": []
    }  # fmt: skip
    lock = threading.Lock()
    rng = random.Random(seed)
    mine = range(process, people, processes)  # no person in two processes: one code each
    drawn = iter(rng.sample(mine, min(len(mine), 200_000)))

    def post(
        connection: http.client.HTTPConnection, path: str, body: dict[str, str]
    ) -> tuple[int, bytes]:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()

    def citizen() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with lock:
                person = next(drawn)
            started = time.perf_counter()
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=60, source_address=(address_of(person), 0)
            )
            try:
                number = phone(person)
                status, body = post(connection, "/api/v1/certificate/code", {
                    "citizen_id": cccd(person), "full_name": NAME,
                    "date_of_birth": BORN.isoformat(), "phone": number,
                })  # fmt: skip
                if status != 202:
                    raise RuntimeError(f"code request answered {status}")
                token = json.loads(body)["request"]
                answered = time.perf_counter()
                arrived = codes.blpop([CODE_PREFIX + number], timeout=5)  # the phone
                if not arrived:
                    raise RuntimeError("no code arrived")
                code = bytes(arrived[1])
                asked = time.perf_counter()
                status, body = post(connection, "/api/v1/certificate/confirm", {
                    "request": token, "code": code.decode(),
                })  # fmt: skip
                if status != 200 or not json.loads(body).get("png"):
                    raise RuntimeError(f"confirm answered {status}")
                ended = time.perf_counter()
                with lock:
                    results["done"] += 1
                    results["whole"].append(ended - started)
                    results["confirm"].append(ended - asked)
                    results["code"].append(answered - started)
                    results["sms"].append(asked - answered)
            except Exception as error:  # counted and shown, never hidden
                with lock:
                    results["failed"].append(f"{type(error).__name__}: {error}")
            finally:
                connection.close()

    cpu_started = time.process_time()
    pool = [threading.Thread(target=citizen) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results["cpu"] = time.process_time() - cpu_started
    return results


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="filled by bench.certificates_lookup")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=60, help="citizens per process")
    args = parser.parse_args()

    folder = Path(args.dir)
    if not (folder / "chdb").is_dir():
        raise SystemExit(
            f"{folder} holds no warehouse: run python -m bench.certificates_lookup --dir {folder} first"
        )
    log_path = folder / "lookup_http.log"
    server, port = start_serve(
        {
            "VAX_VAR_DIR": str(folder / "var"),
            "VAX_WAREHOUSE_DSN": f"chdb://{folder / 'chdb'}",
            "VAX_PSEUDONYM_KEY": KEY.hex(),
            "VAX_SMS_SENDER": "bench.lookup_http:redis_sender",
            "VAX_ETL_WORKER": "off",
            "VAX_LOG_LEVEL": "WARNING",
        },
        log_path,
        seconds=300,
    )
    try:
        time.sleep(5)  # start-up work (cache warming) out of the way
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        people = people_of(int(json.loads((folder / "filled.json").read_text())["doses"]))
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            parts = pool.map(
                _citizens,
                [(port, n, args.processes, args.threads, people, args.seconds, n + int(started))
                 for n in range(args.processes)],
            )  # fmt: skip
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=60)

    done = sum(p["done"] for p in parts)
    failed = [f for p in parts for f in p["failed"]]
    whole = [x * 1000 for p in parts for x in p["whole"]]
    confirm = [x * 1000 for p in parts for x in p["confirm"]]
    code = [x * 1000 for p in parts for x in p["code"]]
    sms = [x * 1000 for p in parts for x in p["sms"]]
    per_second = done / elapsed
    client_cpu = sum(p["cpu"] for p in parts)
    citizens = args.processes * args.threads
    print(f"{done:,} lookups in {elapsed:.1f} s by {citizens} citizens: {per_second:.0f}/s, "
          f"{len(failed)} failed {sorted(set(failed))[:3]}")  # fmt: skip
    print(f"code request p50 {percentile(code, 0.5):.0f} ms p99 {percentile(code, 0.99):.0f} ms; "
          f"code on the phone after p50 {percentile(sms, 0.5):.1f} ms p99 {percentile(sms, 0.99):.1f} ms")  # fmt: skip
    print(f"whole lookup p50 {percentile(whole, 0.5):.0f} ms p99 {percentile(whole, 0.99):.0f} ms; "
          f"confirm p50 {percentile(confirm, 0.5):.1f} ms p99 {percentile(confirm, 0.99):.1f} ms; "
          f"server CPU {cpu / max(done, 1) * 1000:.1f} ms per lookup, citizens "
          f"{client_cpu / max(done, 1) * 1000:.1f} ms")  # fmt: skip
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            f"`python -m vaxviet serve` on the warehouse of `bench.certificates_lookup` "
            f"({people:,} people), {citizens} simulated citizens in {args.processes} processes "
            f"on the same 2 cores, each doing whole lookups (code request, code from the "
            f"phone, confirm) for {args.seconds:.0f} s, every lookup another person from an "
            "address of its own, rate limits on:",
            "",
            "| lookups | per second | failed | whole lookup p50 / p99 | code request p50 / p99 "
            "(0.4 s floor included) | code on the phone after p50 / p99 | confirm request "
            "p50 / p99 | CPU per lookup: server / citizens |",
            "|---:|---:|---:|---|---|---|---|---|",
            f"| {done:,} | **{per_second:.0f}** | {len(failed)} | "
            f"{percentile(whole, 0.5):.0f} / {percentile(whole, 0.99):.0f} ms | "
            f"{percentile(code, 0.5):.0f} / {percentile(code, 0.99):.0f} ms | "
            f"{percentile(sms, 0.5):.1f} / {percentile(sms, 0.99):.1f} ms | "
            f"{percentile(confirm, 0.5):.1f} / {percentile(confirm, 0.99):.1f} ms | "
            f"{cpu / max(done, 1) * 1000:.1f} / {client_cpu / max(done, 1) * 1000:.1f} ms |",
            "",
            f"Load average {load:.1f} at the end. Issue 6's target: >= 200 lookups/s on 2 cores.",
        ]
    )
    write_section("Certificates: lookups through the web server", "bench.lookup_http", body)


if __name__ == "__main__":
    main()
