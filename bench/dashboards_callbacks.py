"""Benchmark the internal dashboards' callbacks on embedded chDB.

    python -m bench.dashboards_callbacks [--doses 10000000] [--runs 30] [--dir DIR]

1. Fills a fresh chDB warehouse with synthetic doses (the portal benchmark's fill:
   ``INSERT … SELECT FROM numbers()`` into the ledger, spread over the 845 days of the
   campaign, ~10,700 sites), then the operations tables the dashboards read: the site
   register, 30 days of stock ledger for every site and product, a desk check-in for every
   dose of the last 3 days, registrations for two in five of them plus as many still booked.
2. Times the page callbacks as the browser posts them (``POST /internal/_dash-update-component``
   through the Flask test client, logged in: server time, login check and Dash
   serialisation included; :func:`dashboards.client_requests.draw` follows the "preparing"
   polls as the page does) for each page, as a national user, a national user drilled down
   to a province, and a provincial user: cold (the cache emptied: the first callback, the
   polls after it and the wall time until the page is drawn), warm (memoized on the data
   version), and in live mode after a dose commit (a ``registry:doses`` checkpoint) before
   and after the dashboards' warmer pass (:class:`dashboards.warm.DashboardWarmer`, run here
   in the foreground and timed: it builds the watched pages, then publishes their version);
   the auto-refresh check while the data version stands, with the number of warehouse
   queries it caused; one CSV export per page.
3. Writes 1 M new doses into the ledger of a fresh warehouse three times with schema 0015's
   two views (dose_visits, site_doses) and three times without them, alternately: their
   write cost, wall and process CPU.

Figures go to stdout and to docs/benchmarks.md ("Internal dashboards").
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.portal_callbacks import VACCINES, fill, filled_warehouse, percentile
from bench.report import write_section
from dashboards.background import INLINE_SECONDS
from dashboards.frame import PENDING_MS
from geo.provinces import load_provinces
from warehouse.client import Warehouse, connect, observe_statements
from warehouse.migrate import migrate
from warehouse.sqlfiles import sql_beside

SITES_PER_PROVINCE = 170  # the portal fill's site ids: S<province>-0 … -169
STOCK_DAYS = 30
VISIT_DAYS = 3
PASSWORD = "bench-password-1"
PAGES = {"throughput": "/internal/", "stock": "/internal/stock", "quality": "/internal/quality"}
EXPORTS = {"throughput": "provinces", "stock": "supply", "quality": "rejects_province"}


def fill_operations(warehouse: Warehouse) -> float:
    """The operations tables around the doses already in `warehouse`; returns the seconds."""
    last = date.fromisoformat(
        str(warehouse.scalar("SELECT toString(toDate(max(hour))) FROM {db:Identifier}.site_hourly"))
    )
    provinces = list(load_provinces()["gso_code"])
    started = time.monotonic()
    warehouse.command(
        sql_beside(__file__, "dashboards_fill_sites.sql"),
        {"provinces": provinces, "per_province": SITES_PER_PROVINCE},
    )
    warehouse.command(
        sql_beside(__file__, "dashboards_fill_stock.sql"),
        {"last": last, "days": STOCK_DAYS, "vaccines": VACCINES},
    )
    for name in ("dashboards_fill_checkins.sql", "dashboards_fill_registrations.sql"):
        warehouse.command(sql_beside(__file__, name), {"last": last, "days": VISIT_DAYS})
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_rejects (source, position, dose_id, province_code, reason, "
        "detail, record, batch_token) SELECT 'bench', toString(number), concat('bad-', toString(number)), "
        "arrayElement({p:Array(String)}, 1 + modulo(number, 63)), "
        "arrayElement(['unknown_vaccine', 'future_date', 'bad_dose_number'], 1 + modulo(number, 3)), "
        "'synthetic', '{}', 'bench' FROM numbers(20000)",
        {"p": provinces},
    )
    return time.monotonic() - started


def operation_counts(warehouse: Warehouse) -> dict[str, Any]:
    last = warehouse.scalar("SELECT toString(toDate(max(hour))) FROM {db:Identifier}.site_hourly")
    counts = {
        table: int(warehouse.scalar(f"SELECT count() FROM {{db:Identifier}}.{table}"))
        for table in ("sites", "stock_movements", "checkins", "registrations", "etl_rejects")
    }
    return {"last_day": last, **counts}


def timed(call: Callable[[], Any], expect: int = 200) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise RuntimeError(f"{response.status_code}: {response.data[:300]!r}")
    return elapsed


def time_callbacks(
    warehouse: Warehouse, var: Path, runs: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    from dashboards.background import BUILDS_KEY
    from dashboards.client_requests import PATH, bench_clients, draw, version_body
    from dashboards.warm import DashboardWarmer
    from vaxviet.server import create_server
    from vaxviet.services import Services
    from vaxviet.settings import Settings
    from warehouse.status import data_version
    from web.cache import CACHE, VERSION_SECONDS

    settings = Settings.from_env({"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off"})
    server = create_server(Services(settings=settings, warehouse=warehouse))
    national, provincial = bench_clients(server, PASSWORD)
    viewers = {
        "national": (national, ""),
        "national → 79": (national, "?province=79"),
        "provincial (79)": (provincial, ""),
    }
    times: dict[str, list[float]] = {}

    def add(key: str, *values: float) -> None:
        times.setdefault(key, []).extend(values)

    def page(client: Any, path: str, search: str) -> list[float]:
        """Draw a page as the browser does; the server time of each callback, then the
        wall time until the page was drawn (polls and their pauses included)."""
        started = time.perf_counter()
        response, each = draw(client, path, search)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.data[:300]!r}")
        return [*each, time.perf_counter() - started]

    for viewer in ("national", "national → 79"):
        client, search = viewers[viewer]
        for name, path in PAGES.items():
            for _ in range(3):
                with server.app_context():
                    CACHE.clear()  # as for a scope nobody drew at this data version
                *each, until = page(client, path, search)
                add(f"cold, first callback: {name}, {viewer}", each[0])
                add(f"cold, the polls after it: {name}, {viewer}", *each[1:])
                add(f"cold, until drawn (wall): {name}, {viewer}", until)
    for viewer, (client, search) in viewers.items():
        for name, path in PAGES.items():
            page(client, path, search)  # fills this scope's cache entries
            for _ in range(runs):
                *each, _until = page(client, path, search)
                if len(each) != 1:
                    raise RuntimeError(f"{name}, {viewer}: not drawn from the cache")
                add(f"{name}: {viewer}", each[0])
    # live mode: the ETL commits doses every few seconds; `python -m vaxviet serve` runs the
    # dashboards' warmer, which builds the watched pages, then publishes their version
    warmer = DashboardWarmer(server)  # its passes are run here, timed, not on its thread
    warmer.warmed = warmer.warm()
    warmer.after_pass()
    for position in range(4):
        warehouse.command(
            "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
            "VALUES ('registry:doses', {p:UInt64}, {token:String})",
            {"p": position, "token": f"bench-dose-commit-{time.time_ns()}"},  # not deduplicated
        )
        time.sleep(VERSION_SECONDS + 0.2)  # until the cached data version is read again
        for name, path in PAGES.items():  # before the warmer's pass: the published pages
            *each, _until = page(national, path, "")
            add(f"after a dose commit, before the warmer's pass: {name}, national", *each)
        began = time.perf_counter()
        warmer.warmed = warmer.warm()
        warmer.after_pass()
        add("warmer's pass after a dose commit (background)", time.perf_counter() - began)
        for name, path in PAGES.items():
            *each, _until = page(national, path, "")
            add(f"after a dose commit and the warmer's pass: {name}, national", *each)
    for name, table in EXPORTS.items():
        url = f"/internal/export/{name}/{table}.csv"
        times[f"CSV export: {name}/{table}"] = [
            timed(functools.partial(national.get, url)) for _ in range(max(5, runs // 3))
        ]

    version = warmer.warmed  # what the pages were drawn on
    if version != data_version(warehouse):
        raise RuntimeError("the dashboards' published version is not the newest")
    counted = {"queries": 0}

    def count(statement: str, seconds: float) -> None:
        counted["queries"] += 1

    started = time.monotonic()
    with observe_statements(count):
        times["auto-refresh check, data unchanged"] = [
            timed(lambda: national.post(PATH, json=version_body(version)), expect=204)
            for _ in range(runs * 3)
        ]
    refresh = {
        "checks": runs * 3,
        "queries": counted["queries"],
        "seconds": time.monotonic() - started,
    }
    version_times = []
    for _ in range(runs):
        began = time.perf_counter()
        data_version(warehouse)
        version_times.append(time.perf_counter() - began)
    refresh["version_query_p50"] = percentile(version_times, 0.5)
    server.extensions[BUILDS_KEY].shutdown()
    return times, refresh


def write_cost(doses: int = 1_000_000, rounds: int = 3) -> dict[str, list[tuple[float, float]]]:
    """(wall s, process CPU s) of writing `doses` new doses into the ledger, `rounds` times,
    with schema 0015's two views (dose_visits, site_doses) and without them (the same
    schema with those views dropped), alternately, in a fresh embedded warehouse."""
    import dataclasses
    import resource

    def cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    root = Path(tempfile.mkdtemp(prefix="bench-dashboards-write-"))
    warehouse = connect(f"chdb://{root / 'warehouse'}", "vax")
    without = dataclasses.replace(warehouse, database="vax_without")
    for each in (warehouse, without):
        migrate(each)
    for view in ("dose_visits_mv", "site_doses_mv"):
        without.command(f"DROP VIEW {{db:Identifier}}.{view}")
    costs: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    start = 0
    for _ in range(rounds):
        for label, target in (("without", without), ("with", warehouse)):
            began, used = time.perf_counter(), cpu()
            fill(target, doses, start)
            costs[label].append((time.perf_counter() - began, cpu() - used))
            start += doses
    warehouse.close()
    shutil.rmtree(root, ignore_errors=True)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--doses", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30, help="warm samples per page and viewer")
    parser.add_argument("--dir", default="", help="work directory (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="time an already filled --dir again (no fill)"
    )
    args = parser.parse_args()

    var = Path(args.dir or tempfile.mkdtemp(prefix="bench-dashboards-"))
    var.mkdir(parents=True, exist_ok=True)
    warehouse, args.doses, fill_seconds = filled_warehouse(
        var, args.doses, args.reuse, after_fill=fill_operations
    )
    operations = operation_counts(warehouse)
    print(f"  doses in {fill_seconds:.0f} s; operations: {operations}")

    print("callbacks (server time through /internal/_dash-update-component)")
    times, refresh = time_callbacks(warehouse, var, args.runs)
    rows = []
    for name, values in times.items():
        if not values:  # e.g. no polls: every cold page of that kind was drawn at once
            rows.append(f"| {name} | – | – | 0 |")
            continue
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"  {name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms (n={len(values)})")
        rows.append(f"| {name} | {p50:.0f} | {p95:.0f} | {len(values)} |")
    print(f"  auto-refresh while unchanged: {refresh}")
    warehouse.close()

    print("ledger writes of 1,000,000 new doses with and without dose_visits and site_doses")
    costs = write_cost()
    means = {
        label: (statistics.mean(w for w, _ in runs), statistics.mean(c for _, c in runs))
        for label, runs in costs.items()
    }
    for label, runs in costs.items():
        print(
            f"  {label}: wall {[round(w, 2) for w, _ in runs]} s, CPU {[round(c, 2) for _, c in runs]} s"
        )

    fill_note = (
        f"written in {fill_seconds:.0f} s"
        if fill_seconds == fill_seconds
        else "filled by an earlier run of this command without --reuse"
    )
    lines = [
        f"{args.doses:,} synthetic doses (the portal benchmark's fill, spread over the 845 days of the "
        f"campaign; {fill_note}) plus {operations['sites']:,} sites, {operations['stock_movements']:,} stock "
        f"movements ({STOCK_DAYS} days), {operations['checkins']:,} check-ins and "
        f"{operations['registrations']:,} registrations (last {VISIT_DAYS} days), "
        f'{operations["etl_rejects"]:,} rejects. "Today" is the last day of data, {operations["last_day"]}.',
        "",
        "Server time per callback (Flask test client → `/internal/_dash-update-component`, logged in; "
        "the login check, queries or cache, pandas and Dash serialisation included; target: p95 ≤ 200 ms):",
        "",
        "| callback | p50 ms | p95 ms | n |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        '"cold": a scope nobody drew at this data version (the cache emptied first): the page '
        "callback hands the build to the background builder (dashboards.background), waits at most "
        f"{INLINE_SECONDS:g} s for it and, when it is not done, answers with the page's frame and a "
        f'"preparing" notice; the page then asks again every {PENDING_MS / 1000:g} s, each ask '
        f'waiting up to {INLINE_SECONDS:g} s for the build too ("the polls after it"; the last one gets the '
        'drawn page from the cache). "until drawn (wall)" is what the official waits: the build, '
        "plus up to one poll interval. Warm rows: the page drawn again at the same data version "
        "(memoized per province scope). Live mode: after a `registry:doses` checkpoint (every few "
        "seconds), officials keep the version the dashboards' warmer last published until its "
        "next pass has built the pages drawn in the last 15 minutes (here the three national "
        "pages and the three for 79), then move to the new one; `python -m vaxviet serve` runs "
        "that pass on a thread at most every 10 s, off the request path (its time is the "
        '"warmer\'s pass" row). The stock figures and the site register stay cached across dose '
        "commits, keyed on the versions of the sources that write them "
        "(dashboards.data.memoize_tables). "
        f"While the data version stands, {refresh['checks']} auto-refresh checks over "
        f"{refresh['seconds']:.1f} s caused {refresh['queries']} warehouse queries (the data version "
        "itself is cached for 5 s) and no redraw (HTTP 204); a browser checks every 30 s, so each of its "
        f"checks costs at most the data-version query ({refresh['version_query_p50'] * 1000:.1f} ms p50 here).",
        "",
        f"Write cost of schema 0015's two views (`dose_visits`, `site_doses`, fed on every ledger "
        f"insert): writing 1,000,000 new doses into the ledger (the fill above, doses spread over the "
        f"whole campaign: the worst case, every month's partition gets a part) took "
        f"{means['with'][0]:.2f} s wall / {means['with'][1]:.2f} CPU-s with them and "
        f"{means['without'][0]:.2f} s / {means['without'][1]:.2f} CPU-s without (means of "
        f"{len(costs['with'])} alternating runs in one fresh warehouse).",
        "",
        "The day's doses come from `dose_visits` (schema 0015: ordered by day, site and citizen, so "
        "check-in → vaccination time and the registrations funnel read one day's rows, not a "
        "partition of the dose_id-ordered ledger) and the unknown sites from `site_doses` (one row per "
        "site, not every site-hour of the campaign).",
    ]
    write_section("Internal dashboards", "bench.dashboards_callbacks", "\n".join(lines))
    if not args.dir:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
