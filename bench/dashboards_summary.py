"""Time the officials' summary (``GET /internal/api/v1/summary``) on a seeded demo.

    python -m bench.dashboards_summary --var DIR [--calls 50] [--commits 20]

`DIR` is an embedded platform's ``VAX_VAR_DIR`` (a registry seeded with ``python -m registry
seed`` and streamed into its warehouse with ``python -m etl stream --once``); no other
process may hold its warehouse. The summary is asked through the Flask test client, logged
in (the guard, the user's row and the JSON included: the server time of a request), by a
national user and by a provincial user (79), in three states:

* **cold**: the cache emptied before each call (every read runs: the worst case);
* **after a dose commit**: a ``registry:doses`` checkpoint before each call, so the data
  version changes and the dose reads run again while the stock and site reads, keyed on
  their own sources, stay cached (live mode, where doses commit every few seconds);
* **warm**: the same data version and minute (a cache lookup).

Prints one JSON line: p50 / p95 / max in milliseconds per state and user, and the national
document.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

PASSWORD = "bench-password-1"
SUMMARY = "/internal/api/v1/summary"


def _stats(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {
        "calls": len(values),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var", type=Path, required=True, help="the demo's VAX_VAR_DIR")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--commits", type=int, default=20, help="calls after a dose commit")
    args = parser.parse_args()

    import web.cache
    from dashboards.client_requests import bench_clients
    from vaxviet.server import create_server
    from vaxviet.services import Services
    from vaxviet.settings import Settings
    from warehouse.client import connect
    from web.cache import CACHE

    settings = Settings.from_env({"VAX_VAR_DIR": str(args.var), "VAX_ETL_WORKER": "off"})
    warehouse = connect(settings.warehouse_dsn, "vax")
    server = create_server(Services(settings=settings, warehouse=warehouse))
    national, provincial = bench_clients(server, PASSWORD)
    clients = {"national": national, "provincial (79)": provincial}
    web.cache.VERSION_SECONDS = 1  # type: ignore[misc]  # a commit is seen after 1 s, not 5

    def call(client: Any) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = client.get(SUMMARY)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.data[:300]!r}")
        return elapsed, response.get_json()

    times: dict[str, list[float]] = {}
    documents: dict[str, dict[str, Any]] = {}
    for who, client in clients.items():
        for _ in range(args.calls):
            with server.app_context():
                CACHE.clear()
            elapsed, documents[who] = call(client)
            times.setdefault(f"cold: {who}", []).append(elapsed)
    for position in range(args.commits):
        warehouse.command(
            "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
            "VALUES ('registry:doses', {p:UInt64}, {token:String})",
            {"p": position, "token": f"bench-summary-{time.time_ns()}"},
        )
        time.sleep(1.1)  # until the cached data version is read again
        for who, client in clients.items():
            times.setdefault(f"after a dose commit: {who}", []).append(call(client)[0])
    for who, client in clients.items():
        call(client)
        for _ in range(args.calls):
            times.setdefault(f"warm: {who}", []).append(call(client)[0])
    warehouse.close()
    print(
        json.dumps(
            {
                "command": "bench.dashboards_summary",
                "timings": {key: _stats(values) for key, values in times.items()},
                "national": documents["national"],
                "provincial": documents["provincial (79)"],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
