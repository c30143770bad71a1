"""Benchmark the portal at national scale on embedded chDB.

    python -m bench.portal_callbacks [--doses 50000000] [--pg-doses 10000000] [--seconds 10]

1. Fills a fresh chDB warehouse with synthetic doses by ``INSERT … SELECT FROM numbers()``
   straight into the dose ledger (new states, sign +1), so the materialized views fill
   citizen_doses, coverage_daily and site_hourly as in production.
2. Times the portal's callbacks as the browser calls them (``POST /_dash-update-component``
   through the Flask test client: server time, Dash serialisation included): the map on a
   change of measure, denominator or day (a ``Patch``), the headline and the ranking table
   on a change of day, the boundaries toggle (a whole figure); first calls after a new data
   version (cold: the SQL runs) and the following ones.
3. Serves the warehouse with ``python -m vaxviet serve`` (waitress, `VAX_WEB_THREADS` threads) and measures
   the open-data API's requests/s with a keep-alive client in 4 processes (they share the 2
   cores with the server), and the first page view in headless Chromium when installed.
4. Runs the same coverage query on PostgreSQL and on ClickHouse over the same doses (the
   first ``--pg-doses`` of the ledger, copied to PostgreSQL) and checks the answers agree.

Figures go to stdout and to docs/benchmarks.md ("Portal").
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import numpy as np
import plotly.utils

from bench.report import write_section
from geo.calendar import CAMPAIGN_END, CAMPAIGN_START
from geo.provinces import load_provinces
from warehouse.client import Warehouse, connect
from warehouse.migrate import migrate
from warehouse.sqlfiles import sql_beside

ROOT = Path(__file__).resolve().parent.parent
VACCINES = ["EU/1/21/1529", "BBIBP-CorV", "EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1525"]
CAMPAIGN_DAYS = (CAMPAIGN_END - CAMPAIGN_START).days + 1  # 845
FILL_BATCH = 5_000_000
FILL_SETTINGS = (
    " SETTINGS parallel_view_processing = 1, min_insert_block_size_rows = 4000000,"
    " max_block_size = 1000000, max_insert_block_size = 4000000"
)
API_URLS = [
    "/api/v1/coverage?level=province",
    "/api/v1/coverage?level=province&area=01,79&date=2021-08-04&format=csv",
    "/api/v1/coverage?level=region&denominator=adult",
    "/api/v1/timeseries?level=national&from=2021-07-01&to=2021-12-31",
    "/api/v1/vaccines?level=province2025",
    "/api/v1/areas?level=province",
]


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(np.asarray(values), share * 100))


def fill(warehouse: Warehouse, doses: int, start: int = 0) -> float:
    """Write `doses` synthetic doses from number `start`; returns the seconds taken."""
    provinces = load_provinces()
    weights = np.cumsum(provinces["population_2019"] / provinces["population_2019"].sum())
    weights[-1] = 1.0
    sql = sql_beside(__file__, "portal_fill.sql") + FILL_SETTINGS
    parameters = {
        "provinces": list(provinces["gso_code"]),
        "weights": [float(w) for w in weights],
        "vaccines": VACCINES,
        "days": CAMPAIGN_DAYS,
    }
    started = time.monotonic()
    for offset in range(start, start + doses, FILL_BATCH):
        count = min(FILL_BATCH, start + doses - offset)
        warehouse.command(sql, {**parameters, "start": offset, "count": count})
        print(
            f"  filled {offset + count - start:,} doses, {time.monotonic() - started:.0f} s",
            flush=True,
        )
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('bench', {n:UInt64}, 'bench')",
        {"n": doses},
    )
    return time.monotonic() - started


# -- callbacks through Dash's own endpoint --------------------------------------------------


class Callbacks:
    """Posts callback requests as the Dash renderer does, from ``/_dash-dependencies``."""

    def __init__(self, client: Any):
        self.client = client
        self.specs = {d["output"]: d for d in client.get("/_dash-dependencies").get_json()}

    def body(self, output: str, values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
        """The JSON body the renderer posts for `output`, with `values` by ``id.property``."""
        spec = self.specs[output]

        def filled(items: list[dict[str, str]]) -> list[dict[str, Any]]:
            return [dict(i, value=values.get(f"{i['id']}.{i['property']}")) for i in items]

        outputs = [
            {"id": part.split(".")[0], "property": part.split(".")[1]}
            for part in output.strip(".").split("...")
        ]
        return {
            "output": output,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": filled(spec["inputs"]),
            "state": filled(spec["state"]),
            "changedPropIds": changed,
        }

    def call(self, output: str, values: dict[str, Any], changed: str) -> float:
        body = self.body(output, values, [changed])
        started = time.perf_counter()
        response = self.client.post("/_dash-update-component", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{output}: {response.status_code} {response.data[:300]!r}")
        return elapsed


def filled_warehouse(
    var: Path, doses: int, reuse: bool, after_fill: Callable[[Warehouse], object] | None = None
) -> tuple[Warehouse, int, float]:
    """The migrated warehouse in `var`, filled with `doses` synthetic doses (then `after_fill`
    run on it), or with `reuse` the doses an earlier run left there. Returns the warehouse,
    the doses it holds and the fill's seconds (NaN when reused)."""
    warehouse = connect(f"chdb://{var / 'warehouse'}", "vax")
    migrate(warehouse)
    filled = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger"))
    if reuse and filled:
        print(f"reusing {filled:,} doses in {var}")
        return warehouse, filled, float("nan")
    print(f"filling {doses:,} doses into {var}")
    fill_seconds = fill(warehouse, doses)
    if after_fill is not None:
        after_fill(warehouse)
    return warehouse, doses, fill_seconds


def time_callbacks(warehouse: Warehouse, var: Path, runs: int) -> dict[str, list[float]]:
    from vaxviet.server import create_server
    from vaxviet.services import Services
    from vaxviet.settings import Settings
    from web.cache import CACHE

    settings = Settings.from_env({"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off"})
    server = create_server(Services(settings=settings, warehouse=warehouse))
    client = server.test_client()
    callbacks = Callbacks(client)
    from portal.pages import home

    with server.test_request_context("/"):
        last = home.data.latest_day()
    assert last is not None
    first = CAMPAIGN_START
    span = (last - first).days
    rng = random.Random(11)
    times: dict[str, list[float]] = {
        key: []
        for key in ("cold: first map after new data", "map: measure/denominator (Patch)",
                    "map: day (Patch)", "headline + daily marker: day", "ranking table: day",
                    "map: 63 ↔ 34 boundaries (whole figure)", "page layout (home)",
                    "page HTML (home, server-rendered): cold, after new data",
                    "page HTML (home, server-rendered)")
    }  # fmt: skip

    def state(metric: str, denominator: str, day: date, geography: str) -> dict[str, Any]:
        return {
            "home-metric.value": metric,
            "home-denominator.value": denominator,
            "home-date.date": day.isoformat(),
            "home-geography.value": geography,
            "home-lang.data": "vi",
            "home-last-day.data": last.isoformat(),
            "home-sort.data": home.DEFAULT_SORT,
        }

    def get_home() -> float:
        started = time.perf_counter()
        response = client.get("/")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and b'id="headline-dose1"' in response.data
        return elapsed

    for _ in range(3):
        with server.app_context():
            CACHE.clear()
        times["page HTML (home, server-rendered): cold, after new data"].append(get_home())
    for _ in range(max(5, runs // 10)):
        times["page HTML (home, server-rendered)"].append(get_home())
    map_output = "home-map.figure"
    headline = "..home-headline.children...home-daily.figure.."
    table = "..home-table-body.children...home-table-head.children.."
    for _ in range(3):
        with server.app_context():
            CACHE.clear()  # as after a new data version: the SQL runs again
        times["cold: first map after new data"].append(
            callbacks.call(map_output, state("pct_dose1", "total", last, "63"), "home-metric.value")
        )
    for _ in range(runs):
        day = first + timedelta(days=rng.randrange(span + 1))
        metric = rng.choice(["pct_dose1", "pct_full", "pct_booster", "per100"])
        denominator = rng.choice(["total", "adult"])
        values = state(metric, denominator, day, "63")
        times["map: measure/denominator (Patch)"].append(
            callbacks.call(map_output, values, "home-metric.value")
        )
        values = state(metric, denominator, first + timedelta(days=rng.randrange(span + 1)), "63")
        times["map: day (Patch)"].append(callbacks.call(map_output, values, "home-date.date"))
        times["headline + daily marker: day"].append(
            callbacks.call(headline, values, "home-date.date")
        )
        times["ranking table: day"].append(callbacks.call(table, values, "home-date.date"))
    for _ in range(max(5, runs // 10)):
        values = state("pct_full", "total", last, rng.choice(["63", "34"]))
        times["map: 63 ↔ 34 boundaries (whole figure)"].append(
            callbacks.call(map_output, values, "home-geography.value")
        )
        with server.test_request_context("/"):
            started = time.perf_counter()
            json.dumps(home.layout(), cls=plotly.utils.PlotlyJSONEncoder)
            times["page layout (home)"].append(time.perf_counter() - started)
    return times


# -- the real server: API requests/s and the first page view --------------------------------


def _hammer(args: tuple[str, int, float, int]) -> tuple[int, int, list[float]]:
    base, threads, seconds, seed = args
    import threading

    parts = urlsplit(base)
    results: list[tuple[int, int, list[float]]] = []

    def worker(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        done = errors = 0
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("GET", rng.choice(API_URLS))
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            done += 1
            errors += response.status != 200
        connection.close()
        results.append((done, errors, latencies))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return (
        sum(r[0] for r in results),
        sum(r[1] for r in results),
        [x for r in results for x in r[2]],
    )


WARM_LINE = re.compile(r"portal cache warm for data version \S+ in (\d+) ms")


def wait_for_warm(process: subprocess.Popen[bytes], log: Path, seconds: float = 300) -> float:
    """Milliseconds the server took to warm its cache after start-up (portal.warm), once it
    has logged them and compressed its script bundles."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {process.returncode}): see {log}")
        logged = log.read_text(errors="replace")
        found = WARM_LINE.search(logged)
        if found and "portal bundles compressed" in logged:
            return float(found[1])
        time.sleep(0.2)
    raise RuntimeError(f"the server did not warm its cache within {seconds:.0f} s: see {log}")


def start_serve(
    settings: dict[str, str], log_path: Path, seconds: float = 120
) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m vaxviet serve`` with these VAX_ settings (over the environment's) on a
    free port, its output in `log_path`; returns once it answers /healthz, or raises."""
    from tests.conftest import free_port

    port = free_port()
    env = {**os.environ, **settings, "VAX_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vaxviet", "serve"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"the server did not start: see {log_path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.5)


def serve_and_load(var: Path, seconds: float, page_only: bool = False) -> dict[str, Any]:
    process, port = start_serve(
        {"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off"}, var / "serve.log"
    )
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, Any] = {}
    try:
        figures["warm_ms"] = wait_for_warm(process, var / "serve.log")
        figures["views"] = first_view(base)  # the first page request of this server
        if page_only:
            return figures
        for url in API_URLS:  # warm the cache, as any visitor would
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", url)
            assert connection.getresponse().status == 200, url
        processes, threads = 4, 4
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            started = time.monotonic()
            parts = pool.map(_hammer, [(base, threads, seconds, s) for s in range(processes)])
            elapsed = time.monotonic() - started
        done = sum(p[0] for p in parts)
        latencies = [x for p in parts for x in p[2]]
        figures.update(
            requests=done,
            errors=sum(p[1] for p in parts),
            per_second=done / seconds,
            wall=elapsed,
            p50=percentile(latencies, 0.5),
            p95=percentile(latencies, 0.95),
            clients=processes * threads,
        )
    finally:
        process.terminate()
        process.wait(timeout=60)
    return figures


#: installed before any page script: records, in the page's own clock (ms from navigation
#: start), when the headline figures are in the document and painted, when Dash has rendered
#: the page itself, and when the map is drawn with its 63 values
TIMINGS = """
window.__vaxTimes = {};
new MutationObserver(function () {
  var t = window.__vaxTimes, now = performance.now();
  if (!t.content && document.querySelector('#headline-dose1 .figure')) {
    t.content = now;
    requestAnimationFrame(function () { t.content_frame = performance.now(); });
  }
  if (!t.dash && document.querySelector('#_pages_content #headline-dose1')) t.dash = now;
  var g = document.querySelector('#home-map .js-plotly-plot');
  if (!t.map && g && g.data && g.data[0].z.length === 63 && g.querySelector('canvas')) t.map = now;
}).observe(document, {childList: true, subtree: true});
"""
REPORT = """
var nav = performance.getEntriesByType('navigation')[0];
var paint = performance.getEntriesByType('paint').filter(function (e) {
  return e.name === 'first-contentful-paint'; })[0];
return {times: window.__vaxTimes, fcp: paint ? paint.startTime : null,
        nav: nav.toJSON(),
        resources: performance.getEntriesByType('resource').map(function (e) { return e.toJSON(); })};
"""


def view_phases(report: dict[str, Any]) -> dict[str, float]:
    """Milliseconds from navigation start to each step of a page view, from the browser's
    Navigation and Resource Timing and the marks of :data:`TIMINGS`."""
    nav, times, resources = report["nav"], report["times"], report["resources"]

    def ended(part: str, last: bool = False) -> float:
        found = [r["responseEnd"] for r in resources if part in r["name"]]
        return (max(found) if last else min(found)) if found else float("nan")

    scripts = [r["responseEnd"] for r in resources if "/_dash-component-suites/dash/" in r["name"]
               and "async-" not in r["name"]]  # fmt: skip
    callbacks = [r for r in resources if "/_dash-update-component" in r["name"]]
    page_callback = (  # the routing callback: the one carrying the page (and the map's shapes)
        max(callbacks, key=lambda r: r["encodedBodySize"])["responseEnd"]
        if callbacks
        else float("nan")
    )
    fcp = report["fcp"] or float("nan")
    content = max(times.get("content_frame", times.get("content", float("nan"))), fcp)
    return {
        "HTML first byte": nav["responseStart"],
        "HTML received": nav["responseEnd"],
        "content in the document": times.get("content", float("nan")),
        "first contentful paint": fcp,
        "content painted": content,
        "Dash bundles received": max(scripts) if scripts else float("nan"),
        "document parsed (DOMContentLoaded)": nav["domContentLoadedEventEnd"],
        "/_dash-layout received": ended("/_dash-layout"),
        "page callback answered": page_callback,
        "plotly.js received": ended("plotly.min.js"),
        "Dash shows the page": times.get("dash", float("nan")),
        "map drawn": times.get("map", float("nan")),
        "HTML bytes": float(nav["transferSize"]),
        "bytes transferred": float(nav["transferSize"] + sum(r["transferSize"] for r in resources)),
    }


#: a phone on a middling mobile network: 10 Mbit/s down, 5 up, 60 ms round trips
SLOW_NETWORK: Final = {
    "offline": False,
    "latency": 60,
    "downloadThroughput": 10_000_000 / 8,
    "uploadThroughput": 5_000_000 / 8,
}


def first_view(base: str) -> dict[str, dict[str, float]] | None:
    """The steps of a page view of the home page in headless Chromium (:func:`view_phases`):
    the browser's first page since it started, a first visit (empty cache) in the running
    browser, a returning one (scripts cached) and a first visit over :data:`SLOW_NETWORK`.
    None when
    Chromium is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        return None
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    options.page_load_strategy = "none"  # get() returns at once: the page is watched from within
    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     f"--user-data-dir={profile}", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TIMINGS})
    views: dict[str, dict[str, float]] = {}
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        for visit in ("started", "first", "returning", "slow"):
            if visit in ("first", "slow"):  # a first visit again: nothing cached
                driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            if visit == "slow":  # over a phone's network
                driver.execute_cdp_cmd("Network.emulateNetworkConditions", SLOW_NETWORK)
            driver.get(base + "/")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                times = driver.execute_script("return window.__vaxTimes || {}")
                if times.get("map") and times.get("content_frame"):
                    break
                time.sleep(0.05)
            time.sleep(0.2)  # the last resource entries
            views[visit] = view_phases(driver.execute_script(REPORT))
        return views
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def view_table(views: dict[str, dict[str, float]], warm_ms: float) -> list[str]:
    """The page-view figures as Markdown lines."""
    order = ("started", "first", "returning", "slow")

    def shown(value: float, key: str) -> str:
        if key.endswith("bytes") or key.startswith("bytes"):
            return f"{value / 1000:,.0f} kB"
        return f"{value / 1000:.2f}"

    return [
        "Home page view in headless Chromium (software WebGL), seconds from navigation start in "
        'the page\'s own clock (Navigation and Resource Timing; "content painted" is the first '
        "frame with the headline figures, and not before the first contentful paint). Target: "
        "content ≤ 1 s. The server was started on this warehouse and had warmed its cache "
        f"(`portal.warm`, in {warm_ms / 1000:.1f} s) and compressed its script bundles before "
        "the first visit, which was its first page request from outside. The first column is the browser's first page since it "
        "started (its processes starting too); the others come in that running browser, the "
        "cache emptied for a first visit:",
        "",
        "| step | browser just started, first visit | first visit (empty cache) | returning "
        "(scripts cached) | first visit, phone network (10 Mbit/s, 60 ms) |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {key} | {' | '.join(shown(views[v][key], key) for v in order)} |"
            for key in views["first"]
        ],
    ]


# -- PostgreSQL vs ClickHouse --------------------------------------------------------------------


def compare_postgres(warehouse: Warehouse, doses: int, repeats: int = 3) -> dict[str, Any] | None:
    import psycopg

    url = os.environ.get("VAX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        pg = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        print(f"  PostgreSQL not reachable ({error}); comparison skipped")
        return None
    copy = dataclasses.replace(warehouse, database=f"{warehouse.database}_cmp")
    migrate(copy)
    fill(copy, doses)  # the same first `doses` doses (the fill is a function of the number)
    started = time.monotonic()
    with pg.cursor() as cursor:
        cursor.execute(sql_beside(__file__, "portal_pg_table.sql"))  # type: ignore[arg-type]
        exported = copy.client.raw_query(
            sql_beside(__file__, "portal_export.sql"),
            parameters={"db": copy.database, "count": doses},
        )
        with cursor.copy(
            "COPY bench_doses (dose_id, province_code, vaccine_code, dose_number, administered_at) FROM STDIN"
        ) as writer:
            for chunk in range(0, len(exported), 8 << 20):
                writer.write(exported[chunk : chunk + (8 << 20)])
        cursor.execute("CREATE INDEX ON bench_doses (administered_at)")
        cursor.execute("VACUUM ANALYZE bench_doses")
        rows = cursor.execute("SELECT count(*) FROM bench_doses").fetchone()
    load_seconds = time.monotonic() - started
    assert rows and rows[0] == doses, rows
    cutoff = date(2021, 12, 31)
    before = datetime(2022, 1, 1).isoformat() + "+07:00"
    pg_sql = sql_beside(__file__, "portal_pg_coverage.sql")

    def run_pg() -> list[tuple[Any, ...]]:
        with pg.cursor() as cursor:
            return [tuple(int(v) if not isinstance(v, str) else v.strip() for v in row)
                    for row in cursor.execute(pg_sql, {"before": before}).fetchall()]  # type: ignore[arg-type]  # fmt: skip

    def run_current() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in copy.rows(sql_beside(__file__, "portal_ch_current.sql"),
                                             {"before": datetime(2022, 1, 1)})]  # fmt: skip

    def run_daily() -> list[tuple[Any, ...]]:
        return [
            tuple(r)
            for r in copy.rows(sql_beside(__file__, "portal_ch_daily.sql"), {"until": cutoff})
        ]

    results: dict[str, Any] = {"doses": doses, "load_seconds": load_seconds}
    answers = {}
    for name, run in (("PostgreSQL 15 (table + time index)", run_pg),
                      ("ClickHouse: doses_current (FINAL)", run_current),
                      ("ClickHouse: coverage_daily (aggregate)", run_daily)):  # fmt: skip
        run()  # warm caches
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            answers[name] = run()
            seconds.append(time.perf_counter() - started)
        results[name] = statistics.median(seconds)
    values = list(answers.values())
    results["agree"] = all(v == values[0] for v in values)
    with pg.cursor() as cursor:
        cursor.execute("DROP TABLE bench_doses")
    pg.close()
    copy.command("DROP DATABASE {db:Identifier} SYNC")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--doses", type=int, default=50_000_000)
    parser.add_argument("--pg-doses", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=100, help="callback samples per kind")
    parser.add_argument("--seconds", type=float, default=10.0, help="API load duration")
    parser.add_argument("--dir", default="", help="work directory (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="time an already filled --dir again (no fill)"
    )
    parser.add_argument(
        "--page-view-only",
        action="store_true",
        help="only serve and time the page view; print, write nothing to docs/benchmarks.md",
    )
    args = parser.parse_args()

    var = Path(args.dir or tempfile.mkdtemp(prefix="bench-portal-"))
    var.mkdir(parents=True, exist_ok=True)
    if args.page_view_only:
        load = serve_and_load(var, args.seconds, page_only=True)
        print(f"server cache warmed in {load['warm_ms']:.0f} ms")
        print("\n".join(view_table(load["views"], load["warm_ms"])))
        return
    warehouse, args.doses, fill_seconds = filled_warehouse(var, args.doses, args.reuse)
    coverage_rows = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.coverage_daily"))
    rate = f"{args.doses / fill_seconds:,.0f} doses/s; " if fill_seconds == fill_seconds else ""
    print(f"  {rate}coverage_daily holds {coverage_rows:,} rows")

    print("callbacks (server time through /_dash-update-component)")
    times = time_callbacks(warehouse, var, args.runs)
    for name, values in times.items():
        print(
            f"  {name}: p50 {percentile(values, 0.5) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms (n={len(values)})"
        )

    comparison = (
        compare_postgres(warehouse, min(args.pg_doses, args.doses)) if args.pg_doses else None
    )
    if comparison:
        print(
            f"coverage query over {comparison['doses']:,} doses: {json.dumps(comparison, default=str)}"
        )
    warehouse.close()

    print("open-data API under load (python -m vaxviet serve)")
    load = serve_and_load(var, args.seconds)
    print(f"  {json.dumps({k: v for k, v in load.items() if k != 'views'})}")
    if load.get("views"):
        print("\n".join(view_table(load["views"], load["warm_ms"])))

    filled_how = (
        f"in {fill_seconds:.0f} s ({args.doses / fill_seconds:,.0f} doses/s, the three materialized "
        "views included)"
        if fill_seconds == fill_seconds
        else "by an earlier run (`--reuse`: this run did not fill)"
    )
    lines = [
        f"{args.doses:,} synthetic doses written into the ledger by `INSERT … SELECT FROM numbers()` "
        f"{filled_how}; coverage_daily then holds {coverage_rows:,} rows.",
        "",
        "Callbacks, server time (Flask test client → `/_dash-update-component`, Dash "
        "serialisation included; target: p95 ≤ 100 ms):",
        "",
        "| callback | p50 ms | p95 ms | n |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {percentile(v, .5) * 1000:.0f} | {percentile(v, .95) * 1000:.0f} | {len(v)} |"
          for name, v in times.items()],
        "",
        "\"cold\" is the first map after a new data version: the portal re-reads doses per "
        "province and day from coverage_daily once, and every later measure, denominator or "
        "day is computed from that cached table. The page HTML (`GET /`) carries the page "
        "rendered on the server; cold, it is what a visitor would wait for if the server did "
        "not warm its cache itself on each new data version (`portal.warm`).",
        "",
        f"Open-data API with caching, `python -m vaxviet serve` (waitress, {os.environ.get('VAX_WEB_THREADS', '128')} threads), "
        f"{load['clients']} keep-alive clients in 4 processes on the same 2 cores, "
        f"{args.seconds:.0f} s over {len(API_URLS)} URLs: **{load['per_second']:,.0f} requests/s** "
        f"(p50 {load['p50'] * 1000:.0f} ms, p95 {load['p95'] * 1000:.0f} ms, {load['errors']} errors; "
        "target ≥ 300).",
    ]  # fmt: skip
    views = load.get("views")
    if views:
        lines += ["", *view_table(views, load["warm_ms"])]
    if comparison:
        names = [k for k in comparison if k.startswith(("PostgreSQL", "ClickHouse"))]
        pg_seconds = comparison[names[0]]
        lines += [
            "",
            f"The same coverage query (per province as of 2021-12-31: first, second, booster "
            f"and all doses) over the same {comparison['doses']:,} doses, median of 3 warm runs; "
            f"answers {'agree' if comparison['agree'] else 'DISAGREE'}:",
            "",
            "| engine | ms | PostgreSQL ÷ this |",
            "|---|---:|---:|",
            *[f"| {n} | {comparison[n] * 1000:.0f} | {pg_seconds / comparison[n]:.1f}× |" for n in names],
            "",
            "doses_current collapses the signed ledger with FINAL at query time: it is not "
            "for scans; the portal reads the aggregate.",
        ]  # fmt: skip
    write_section("Portal", "bench.portal_callbacks", "\n".join(lines))
    if not args.dir:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
