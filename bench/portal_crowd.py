"""The public portal under a launch-day crowd: real browser page views replayed at scale.

    python -m bench.portal_crowd [--doses 50000000] [--dir DIR [--reuse | --skip-fill]]
                                 [--seconds 60] [--visitors 128] [--first-seconds 15]
                                 [--lookup-rate 150] [--api-seconds 15] [--api-connections 64]
                                 [--crowd-connections 2048] [--timeout-ms 30000]
                                 [--phases sustained,first,overload,mixed,api]

1. Fills a chDB warehouse with synthetic doses (`bench.portal_callbacks.fill`; `--reuse`
   fills only an empty `--dir`, `--skip-fill` never) and identities for the certificate
   lookup (the people of `bench.certificates_lookup`, identities only: no doses are added
   to the portal's).
2. Serves it with ``python -m vaxviet serve`` and waits until it has warmed its cache.
3. Captures, in headless Chromium with the DevTools network log, the requests a browser
   sends to the server: a first visit of ``/`` (empty profile), then a returning visit (the
   browser closed and opened again on the same profile: its disk cache and the conditional
   headers it sends apply), and a certificate code request typed into ``/certificate``.
   Only requests that reached the server are kept (not those answered from the browser's
   cache), with their headers and bodies as sent. They become view scripts for
   `vaxviet-loadgen` (bench/loadgen): ``first.view``, ``returning.view``, ``lookup.view``
   (the typed person's CCCD and phone replaced by a number of their own for every lookup).
4. Runs the phases, each on its own (a failing phase reports its error, the others run):
   *sustained*: `--visitors` visitors repeating the returning view as fast as served
   (closed loop) for `--seconds`; *first*: first visits (static bundles included), closed
   loop; *overload*: returning views arriving at twice the sustained rate (open loop, each
   arriving view on an idle visitor's connection or a new one, up to
   `--crowd-connections`); *mixed*: the sustained phase's crowd (or, with `--mixed-share`, returning
   views arriving at that share of its rate) and certificate code requests at `--lookup-rate`/s together, each lookup another person
   from a loopback address of its own (the rate limits apply as to real citizens); *api*:
   GETs of a few open-data URLs by `--api-connections` connections. Each phase's report
   (the generator's JSON) is kept in the work directory as ``<phase>.json``.

Latency is from each request's intended start (a view's arrival, or the end of the request
before it in the view): waiting for a connection counts. "Dynamic" requests are the page,
Dash's layout, dependencies and callbacks and the API; the rest are static bundles. Figures
go to stdout and to docs/benchmarks.md ("Portal under a crowd"; not with VAX_BENCH_NO_DOC=1).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import certificates_lookup, loadgen
from bench.certificates_lookup import BORN, KEY, NAME, cccd, phone
from bench.loadgen import Request, write_view
from bench.lookup_http import cpu_seconds
from bench.portal_callbacks import API_URLS, TIMINGS, fill, start_serve, wait_for_warm
from bench.report import write_section
from warehouse.client import connect
from warehouse.migrate import migrate
from warehouse.pseudonyms import pseudonym_parts
from warehouse.sqlfiles import sql_beside

#: people with an identity the lookup finds (person n: CCCD 1 and n in 11 digits, phone 09
#: and n in 8 digits; `bench.certificates_lookup`); each lookup of a run asks for another
LOOKUP_PEOPLE = 500_000
#: the person typed into the lookup page during the capture (any of LOOKUP_PEOPLE)
TYPED_PERSON = 432_107
DYNAMIC_PREFIXES = ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/api/")
#: headers the generator writes itself, and HTTP/2 pseudo-headers
NOT_REPLAYED = ("host", "connection", "content-length", "keep-alive")
TARGETS = {
    "views_per_s": 250.0,
    "dynamic_p95_ms": 1000.0,
    "shed_ms": 100.0,
    "wait_ms": 5000.0,
    "lookups_per_s": 150.0,
    "api_per_s": 2000.0,
}


@dataclass
class Captured:
    """A request the browser sent to the server, and what came back."""

    request: Request
    status: int
    bytes: int
    kind: str  # Chromium's resource type: Document, Script, XHR, Fetch, …


# -- the warehouse ---------------------------------------------------------------------------


def prepare(var: Path, doses: int, reuse: bool, skip_fill: bool) -> tuple[int, str]:
    """The filled warehouse in `var` and the identities the lookup needs; (doses, how).
    `reuse`: fill only an empty warehouse; `skip_fill`: never fill."""
    warehouse = connect(f"chdb://{var / 'warehouse'}", "vax")
    try:
        migrate(warehouse)
        filled = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.dose_ledger"))
        if (reuse and filled) or skip_fill:
            doses, how = filled, "filled before this run"
            print(f"using the {filled:,} doses in {var}")
        else:
            print(f"filling {doses:,} doses into {var}")
            seconds = fill(warehouse, doses)
            how = f"written in {seconds:.0f} s"
        people = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.citizen_identity"))
        if people < LOOKUP_PEOPLE:
            k0, k1 = pseudonym_parts(KEY)
            warehouse.command(
                sql_beside(certificates_lookup.__file__, "lookup_identities.sql"),
                {"k0": k0, "k1": k1, "start": 0, "count": LOOKUP_PEOPLE},
            )
            print(f"  {LOOKUP_PEOPLE:,} identities for the certificate lookup")
    finally:
        warehouse.close()
    return doses, how


# -- capturing a browser's requests ----------------------------------------------------------


def browser(profile: Path) -> Any:
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        raise RuntimeError("Chromium and chromedriver are needed to capture a page view")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--no-first-run",
                     f"--user-data-dir={profile}", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option(
        "perfLoggingPrefs", {"enableNetwork": True, "enablePage": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TIMINGS})
    return driver


def network_events(
    driver: Any, until: Callable[[], bool], seconds: float = 120
) -> list[dict[str, Any]]:
    """The browser's network events until `until()` holds and the network has then been
    quiet for 1.5 s."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    done_at = quiet_since = 0.0
    while time.monotonic() < deadline:
        fresh = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
        events += [e for e in fresh if e["method"].startswith("Network.")]
        now = time.monotonic()
        if fresh:
            quiet_since = now
        if not done_at and until():
            done_at = now
        if done_at and now - max(quiet_since, done_at) > 1.5:
            return events
        time.sleep(0.1)
    raise RuntimeError("the page did not finish loading in the browser")


def post_data(driver: Any, request_id: str, request: dict[str, Any]) -> bytes | None:
    if "postData" in request:
        return str(request["postData"]).encode()
    if request.get("postDataEntries"):
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in request["postDataEntries"])
    if request.get("hasPostData"):
        found = driver.execute_cdp_cmd("Network.getRequestPostData", {"requestId": request_id})
        return str(found["postData"]).encode()
    return None


def reached_server(driver: Any, events: list[dict[str, Any]], base: str) -> list[Captured]:
    """The requests of these events that the server answered (not the browser's cache), in
    the order the browser sent them, with the headers as sent on the wire."""
    sent: dict[str, dict[str, Any]] = {}
    wire: dict[str, dict[str, str]] = {}
    wire_status: dict[str, int] = {}
    answered: dict[str, dict[str, Any]] = {}
    length: dict[str, int] = {}
    from_cache: set[str] = set()
    for event in events:
        method, params = event["method"], event["params"]
        rid = params.get("requestId", "")
        if method == "Network.requestWillBeSent" and rid not in sent:
            sent[rid] = params
        elif method == "Network.requestWillBeSentExtraInfo":
            wire[rid] = params["headers"]
        elif method == "Network.responseReceivedExtraInfo":
            wire_status[rid] = int(params["statusCode"])  # 304 where the cache shows 200
        elif method == "Network.responseReceived":
            answered[rid] = params
        elif method == "Network.requestServedFromCache":
            from_cache.add(rid)
        elif method == "Network.loadingFinished":
            length[rid] = int(params.get("encodedDataLength", 0))
    captured = []
    for rid, params in sorted(sent.items(), key=lambda item: item[1]["timestamp"]):
        request = params["request"]
        response = answered.get(rid, {}).get("response")
        if not request["url"].startswith(base) or response is None or rid in from_cache:
            continue
        if (
            response.get("fromDiskCache")
            or response.get("fromPrefetchCache")
            or response.get("fromServiceWorker")
        ):
            continue
        parts = urlsplit(request["url"])
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {name: value for name, value in wire.get(rid, request["headers"]).items()
                   if not name.startswith(":") and name.lower() not in NOT_REPLAYED}  # fmt: skip
        kind = str(params.get("type", ""))
        captured.append(
            Captured(
                Request(
                    path,
                    request["method"],
                    headers,
                    post_data(driver, rid, request),
                    dynamic=kind == "Document" or path.startswith(DYNAMIC_PREFIXES),
                ),
                wire_status.get(rid, int(response["status"])),
                length.get(rid, int(response.get("encodedDataLength", 0))),
                kind,
            )
        )
    return captured


def capture(base: str) -> dict[str, list[Captured]]:
    """What the browser sends on a first visit of the home page, on a returning one, and
    for a certificate code request on /certificate."""
    profile = Path(tempfile.mkdtemp(prefix="bench-crowd-chromium-"))
    found: dict[str, list[Captured]] = {}
    try:
        for visit in ("first", "returning"):
            driver = browser(profile)  # a returning visitor: the browser opened again
            try:
                driver.get(base + "/")
                events = network_events(driver, partial(page_drawn, driver))
                found[visit] = reached_server(driver, events, base)
                if visit == "returning":
                    found["lookup"] = capture_lookup(driver, base)
            finally:
                driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return found


def page_drawn(driver: Any) -> bool:
    """Whether the home page shows its figures and its map (`TIMINGS`' marks)."""
    script = "var t = window.__vaxTimes || {}; return !!(t.map && t.content_frame);"
    return bool(driver.execute_script(script))


def capture_lookup(driver: Any, base: str) -> list[Captured]:
    """A code request typed into /certificate for TYPED_PERSON: the requests after the click."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/certificate")
    deadline = time.monotonic() + 60
    while not driver.find_elements(By.ID, "certificate-send"):
        if time.monotonic() > deadline:
            raise RuntimeError("the certificate page did not show its form")
        time.sleep(0.1)
    network_events(driver, lambda: True)  # the page's own requests, set aside
    for field, value in (("certificate-cccd", cccd(TYPED_PERSON)), ("certificate-name", NAME),
                         ("certificate-dob", BORN.isoformat()),
                         ("certificate-phone", phone(TYPED_PERSON))):  # fmt: skip
        driver.find_element(By.ID, field).send_keys(value)
    driver.find_element(By.ID, "certificate-send").click()
    message = driver.find_element(By.ID, "certificate-message")
    events = network_events(driver, lambda: bool(message.text.strip()))
    return reached_server(driver, events, base)


def templated(captured: list[Captured]) -> list[Request]:
    """The lookup's requests with the typed person's numbers as {seq} placeholders."""
    requests = []
    for item in captured:
        body = item.request.body
        if body is not None:
            body = body.replace(cccd(TYPED_PERSON).encode(), b"1{seq:11}")
            body = body.replace(phone(TYPED_PERSON).encode(), b"09{seq:8}")
        requests.append(Request(item.request.path, item.request.method, item.request.headers,
                                body, item.request.dynamic))  # fmt: skip
    if not any(r.body and b"{seq:11}" in r.body for r in requests):
        raise RuntimeError("the captured lookup carries no typed CCCD")
    return requests


def built_lookup(headers: dict[str, str]) -> list[Request]:
    """The code request as the lookup page's script sends it (portal/pages/certificate.py),
    when the capture failed."""
    body = json.dumps(
        {"citizen_id": "1{seq:11}", "full_name": NAME, "date_of_birth": BORN.isoformat(),
         "phone": "09{seq:8}"}, ensure_ascii=False,
    ).encode()  # fmt: skip
    keep = {k: v for k, v in headers.items() if k.lower() in ("user-agent", "accept-language")}
    return [
        Request(
            "/api/v1/certificate/code",
            "POST",
            {**keep, "Content-Type": "application/json", "Accept": "*/*"},
            body,
        )
    ]


def captured_table(name: str, items: list[Captured]) -> list[str]:
    total = sum(i.bytes for i in items)
    return [
        f"{name}: {len(items)} requests reached the server, {total / 1000:,.0f} kB received",
        "",
        "| # | method | path | kind | dynamic | status | bytes |",
        "|---:|---|---|---|---|---:|---:|",
        *[
            f"| {n} | {i.request.method} | `{shorten(i.request.path)}` | {i.kind} | "
            f"{'yes' if i.request.dynamic else ''} | {i.status} | {i.bytes:,} |"
            for n, i in enumerate(items)
        ],
    ]


def shorten(path: str, width: int = 70) -> str:
    return path if len(path) <= width else path[: width - 1] + "…"


# -- the phases ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    report: dict[str, Any] | None = None
    error: str = ""
    server_cpu: float = 0.0
    seconds: float = 0.0

    def script(self, name: str) -> dict[str, Any]:
        assert self.report is not None
        found: dict[str, Any] = next(s for s in self.report["scripts"] if s["name"] == name)
        return found


def capture_views(base: str, var: Path) -> tuple[dict[str, Path], list[str], str]:
    """The view scripts from a browser's visits (:func:`capture`) and the API's URLs, the
    table of what was captured, and how the lookup request was made."""
    captured = capture(base)
    lines: list[str] = []
    for name in ("first", "returning", "lookup"):
        if name in captured:
            lines += [*captured_table(name, captured[name]), ""]
    try:
        lookup = templated(captured["lookup"])
        how = "captured from the lookup page in Chromium (typed CCCD and phone templated)"
    except (KeyError, RuntimeError) as error:
        lookup = built_lookup(captured["returning"][0].request.headers)
        how = f"built from the lookup page's script (capture failed: {error})"
    print("\n".join(lines))
    print(f"lookup: {how}")
    views = {
        "first": write_view(var / "first.view", "first visit", [c.request for c in captured["first"]]),
        "returning": write_view(var / "returning.view", "returning visit",
                                [c.request for c in captured["returning"]]),
        "lookup": write_view(var / "lookup.view", "certificate code request", lookup),
        "api": write_view(var / "api.view", "open-data API",
                          [Request(url, headers={"Accept-Encoding": "gzip"}) for url in API_URLS]),
    }  # fmt: skip
    return views, lines, how


def run_phases(
    args: argparse.Namespace, pid: int, port: int, views: dict[str, Path]
) -> list[Phase]:
    """The phases asked for (`--phases`), in order; a failing one does not stop the others."""
    wanted = set(args.phases.split(","))
    timeout = ("--timeout-ms", str(args.timeout_ms))
    phases: list[Phase] = []

    def portal(rate: float) -> str:
        spec = f"file={views['returning']},name=portal,visitors={args.visitors}"
        return spec + (f",rate={rate:.3f},max-connections={args.crowd_connections}" if rate else "")

    lookups = (
        f"file={views['lookup']},name=lookup,rate={args.lookup_rate},visitors=64,"
        f"max-connections=2048,fresh=1,bind=1,seq-start={random.randrange(LOOKUP_PEOPLE)},"
        f"seq-count={LOOKUP_PEOPLE}"
    )
    sustained_rate = args.sustained_rate
    if "sustained" in wanted:
        phases.append(run_phase("sustained", pid, args.seconds, [portal(0)], port, *timeout))
        if phases[-1].report:
            sustained_rate = phases[-1].script("portal")["views_per_s"]
    if "first" in wanted:
        spec = f"file={views['first']},name=first,visitors={args.visitors}"
        phases.append(run_phase("first", pid, args.first_seconds, [spec], port, *timeout))
    for name, rate in (("overload", 2 * sustained_rate),
                       ("mixed", args.mixed_share * sustained_rate)):  # fmt: skip
        if name not in wanted:
            continue
        if not rate and name == "overload":
            phases.append(
                Phase(name, error="no sustained rate (run sustained or give --sustained-rate)")
            )
            continue
        scripts = [portal(rate), lookups] if name == "mixed" else [portal(rate)]
        phases.append(run_phase(name, pid, args.seconds, scripts, port, *timeout))
    if "api" in wanted:
        spec = f"file={views['api']},name=api,visitors={args.api_connections}"
        phases.append(run_phase("api", pid, args.api_seconds, [spec], port, *timeout))
    return phases


def unfronted(args: argparse.Namespace, var: Path, phases: list[Phase]) -> Phase:
    """The overload phase's offered rate again, on a server without the front and its edge
    (VAX_FRONT=off: waitress takes the connections itself and sheds by its own queue
    bound)."""
    overload = next(p for p in phases if p.name == "overload")
    if not overload.report:
        return Phase("unfronted", error="the overload phase failed")
    rate = overload.script("portal")["offered_views_per_s"]
    log_path = var / "portal_crowd_unfronted.log"
    try:
        server, port = start_serve(
            {"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off", "VAX_PSEUDONYM_KEY": KEY.hex(),
             "VAX_FRONT": "off"}, log_path, seconds=300,
        )  # fmt: skip
    except Exception as error:
        return failed_phase("unfronted", error)
    try:
        wait_for_warm(server, log_path)
        spec = (
            f"file={var / 'returning.view'},name=portal,visitors={args.visitors},"
            f"rate={rate:.3f},max-connections={args.crowd_connections}"
        )
        timeout = ("--timeout-ms", str(args.timeout_ms))
        return run_phase("unfronted", server.pid, args.seconds, [spec], port, *timeout)
    finally:
        server.terminate()
        server.wait(timeout=60)


def run_phase(
    name: str, pid: int, seconds: float, scripts: list[str], port: int, *options: str
) -> Phase:
    """One phase; its figures printed as it ends."""
    phase = Phase(name)
    before, started = server_cpu(pid), time.monotonic()
    try:
        phase.report = loadgen.run(port, scripts, seconds, *options)
    except Exception as error:  # reported beside the figures of the other phases
        phase.error = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    phase.seconds = time.monotonic() - started
    phase.server_cpu = (server_cpu(pid) - before) / max(phase.seconds, 1e-9)
    for script in phase.report["scripts"] if phase.report else []:
        print(summary(phase, script["name"]))
    return phase


def server_cpu(pid: int) -> float:
    """CPU seconds so far of the server and its children (the front, HAProxy), NaN once it
    has stopped."""
    try:
        return sum(cpu_seconds(each) for each in process_tree(pid))
    except OSError:
        return float("nan")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux: /proc/PID/task/*/children)."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            waiting += [int(child) for child in task.read_text().split()]
    return found


def failed_phase(name: str, error: Exception) -> Phase:
    traceback.print_exc()
    return Phase(name, error=f"{type(error).__name__}: {error}")


def ms(samples: dict[str, Any], key: str = "p95") -> str:
    return f"{samples[key]:,.0f}" if samples["n"] else "–"


def status_text(script: dict[str, Any]) -> str:
    classes = {k: v for k, v in script["status_class"].items() if v}
    statuses = ", ".join(f"{k}: {v:,}" for k, v in script["statuses"].items())
    errors = ", ".join(f"{k}: {v:,}" for k, v in classes.items() if k in ("errors", "timeouts"))
    return statuses + (f"; {errors}" if errors else "")


def summary(phase: Phase, name: str) -> str:
    """One line of a script's figures in a phase."""
    s = phase.script(name)
    return (
        f"{phase.name}/{name}: {s['views_per_s']:,.1f} views/s ({s['views_completed_by_end']:,} "
        f"completed in time, {s['views_completed']:,} in all, {s['views_shed']:,} shed, "
        f"{s['views_failed']:,} failed), "
        f"{s['requests_per_s']:,.0f} requests/s [{status_text(s)}]; dynamic 2xx/304 p50 "
        f"{ms(s['dynamic_ok_ms'], 'p50')} p95 {ms(s['dynamic_ok_ms'])} ms; all p95 "
        f"{ms(s['latency_ms'])} max {ms(s['latency_ms'], 'max')} ms; 503 p95 "
        f"{ms(s['latency_503_ms'])} max {ms(s['latency_503_ms'], 'max')} ms (from sending: max "
        f"{ms(s['from_send_503_ms'], 'max')}); view p95 {ms(s['view_ms'])} ms; waiting for a "
        f"connection p95 {ms(s['queue_ms'])} max {ms(s['queue_ms'], 'max')} ms; Retry-After {s['retry_after'] or '–'}; connections "
        f"{s['connections_used']}; server {phase.server_cpu:.2f} cores, generator "
        f"{phase.report['cpu_s'] / phase.report['wall_s'] if phase.report else 0:.2f} cores"
    )


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--doses", type=int, default=50_000_000)
    parser.add_argument("--dir", default="", help="work directory (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="fill --dir only if it is empty")
    parser.add_argument("--skip-fill", action="store_true", help="serve --dir as it is")
    parser.add_argument("--seconds", type=float, default=60.0, help="sustained, overload, mixed")
    parser.add_argument("--visitors", type=int, default=128)
    parser.add_argument(
        "--crowd-connections", type=int, default=2048,
        help="open loop: connections the arriving views may open (new visitors)",
    )  # fmt: skip
    parser.add_argument("--first-seconds", type=float, default=15.0)
    parser.add_argument("--lookup-rate", type=float, default=150.0, help="code requests/s")
    parser.add_argument("--api-seconds", type=float, default=15.0)
    parser.add_argument("--api-connections", type=int, default=64)
    parser.add_argument("--timeout-ms", type=float, default=30_000.0, help="per request")
    parser.add_argument(
        "--sustained-rate", type=float, default=0.0,
        help="views/s for overload and mixed when the sustained phase is not run",
    )  # fmt: skip
    parser.add_argument(
        "--mixed-share", type=float, default=0.0,
        help="the portal's rate in the mixed phase, as a share of the sustained views/s "
        "(0: the sustained phase's closed crowd of --visitors, as fast as served)",
    )  # fmt: skip
    parser.add_argument(
        "--phases", default="sustained,first,overload,mixed,api,unfronted",
        help="unfronted: the overload phase again on a second server with VAX_FRONT=off",
    )  # fmt: skip
    args = parser.parse_args()

    var = Path(args.dir or tempfile.mkdtemp(prefix="bench-crowd-"))
    var.mkdir(parents=True, exist_ok=True)
    loadgen.binary()  # built before anything is timed
    doses, how = prepare(var, args.doses, args.reuse, args.skip_fill)
    log_path = var / "portal_crowd.log"
    server, port = start_serve(
        {"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off", "VAX_PSEUDONYM_KEY": KEY.hex()},
        log_path, seconds=300,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    phases: list[Phase] = []
    capture_lines: list[str] = []
    lookup_how = ""
    try:
        warm_ms = wait_for_warm(server, log_path)
        print(f"server on {base}, cache warm in {warm_ms / 1000:.1f} s")
        views, capture_lines, lookup_how = capture_views(base, var)
        phases = run_phases(args, server.pid, port, views)
    except Exception as error:  # the capture or the start: no phase can run
        phases.append(failed_phase("capture", error))
    finally:
        server.terminate()
        server.wait(timeout=60)
    if "unfronted" in args.phases.split(",") and any(p.name == "overload" for p in phases):
        phases.append(unfronted(args, var, phases))
    for phase in phases:
        if phase.error:
            print(f"{phase.name}: FAILED {phase.error}")
        if phase.report:
            (var / f"{phase.name}.json").write_text(json.dumps(phase.report, indent=1))
    body = section(args, doses, how, phases, capture_lines, lookup_how)
    print(body)
    write_section("Portal under a crowd", "bench.portal_crowd", body)
    if not args.dir:
        shutil.rmtree(var, ignore_errors=True)


def section(
    args: argparse.Namespace, doses: int, how: str, phases: list[Phase], capture_lines: list[str],
    lookup_how: str,
) -> str:  # fmt: skip
    """The Markdown of docs/benchmarks.md's section."""
    by_name = {p.name: p for p in phases}
    lines = [
        f"{doses:,} synthetic doses ({how}) and {LOOKUP_PEOPLE:,} identities for the "
        "certificate lookup; `python -m vaxviet serve` on them (behind its front, HAProxy, "
        "and its edge, with the default bounds: docs/scaling.md), its cache warm; server "
        "cores count the web process, the front and the edge. Load from "
        "`vaxviet-loadgen` (bench/loadgen, one thread, on the same cores as the server), "
        "replaying the requests headless Chromium sent to the server on a first and on a "
        "returning visit of `/` (captured with the DevTools network log; requests answered "
        "from the browser's cache left out). Latency from each request's intended start "
        '(waiting for a connection counts); "dynamic": the page, Dash\'s layout, '
        "dependencies and callbacks, the API. A view's requests go one after another on "
        "one connection (a browser sends some side by side). views/s and requests/s: those "
        "completed before the phase's time was up ÷ its seconds; the views that had arrived "
        "by then are served to their end and their latency counted.",
        "",
        "| phase | load | views/s | requests/s | statuses | dynamic p95 ms (2xx/304) | "
        "all p95 / max ms | 503 p95 / max ms | server cores |",
        "|---|---|---:|---:|---|---:|---|---|---:|",
    ]
    for phase in phases:
        if not phase.report:
            lines.append(f"| {phase.name} | failed: {phase.error} | | | | | | | |")
            continue
        for s in phase.report["scripts"]:
            load = (
                f"{s['visitors']} visitors, closed loop"
                if s["mode"] == "closed"
                else f"{s['offered_views_per_s']:,.0f}/s offered, open loop, up to "
                f"{s['connections_used']} connections"
            )
            lines.append(
                f"| {phase.name}: {s['name']} | {load}, {phase.report['duration_s']:.0f} s "
                f"(+{phase.report['wall_s'] - phase.report['duration_s']:.1f} s to finish the views "
                "under way) | "
                f"{s['views_per_s']:,.1f} | {s['requests_per_s']:,.0f} | {status_text(s)} | "
                f"{ms(s['dynamic_ok_ms'])} | {ms(s['latency_ms'])} / {ms(s['latency_ms'], 'max')} | "
                f"{ms(s['latency_503_ms'])} / {ms(s['latency_503_ms'], 'max')} | "
                f"{phase.server_cpu:.2f} |"
            )
    lines += ["", "Against the targets of issue 18:", "", *target_lines(args, by_name)]
    for name in ("sustained", "overload"):
        measured = by_name.get(name)
        if measured and measured.report:
            lines += ["", *request_table(measured, "portal")]
    generator = [
        f"{p.name} {p.report['cpu_s'] / max(p.report['wall_s'], 1e-9):.2f}"
        for p in phases
        if p.report
    ]
    lines += [
        "",
        f"Generator CPU, cores: {', '.join(generator) or '–'}. Certificate lookup: {lookup_how}; "
        "each lookup another person, from a loopback address of its own.",
        "",
        "What the browser sent to the server:",
        "",
        *capture_lines,
    ]
    return "\n".join(lines)


def request_table(phase: Phase, name: str) -> list[str]:
    """Each request of a view script in a phase: statuses and latency."""
    rows = []
    for r in phase.script(name)["requests_by_index"]:
        c, t = r["status_class"], r["latency_ms"]
        rows.append(
            f"| {r['index']} | {r['method']} | `{shorten(r['path'])}` | "
            f"{'yes' if r['dynamic'] else ''} | {c['2xx']:,} | {c['304']:,} | {c['503']:,} | "
            f"{c['other'] + c['errors'] + c['timeouts']:,} | {ms(t, 'p50')} | {ms(t)} | "
            f"{ms(t, 'max')} |"
        )
    return [
        f"Each request of the returning view, {phase.name} phase (ms from its intended start):",
        "",
        "| # | method | path | dynamic | 2xx | 304 | 503 | other, errors | p50 | p95 | max |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def target_lines(args: argparse.Namespace, by_name: dict[str, Phase]) -> list[str]:
    """One Markdown bullet per target of issue 18 a phase measured, with its verdict."""
    checks = []
    sustained = by_name.get("sustained")
    if sustained and sustained.report:
        s = sustained.script("portal")
        errors = sum(s["status_class"][k] for k in ("errors", "timeouts", "other"))
        fast = (
            s["views_per_s"] >= TARGETS["views_per_s"]
            and s["dynamic_ok_ms"]["p95"] <= TARGETS["dynamic_p95_ms"]
        )
        checks.append(
            f"* returning views sustained ≥ {TARGETS['views_per_s']:.0f}/s with "
            f"{args.visitors} visitors, dynamic p95 ≤ 1 s, no errors: {s['views_per_s']:,.1f}/s, "
            f"p95 {ms(s['dynamic_ok_ms'])} ms, {errors} errors, {s['views_shed']} shed → "
            f"{verdict(fast and not errors and not s['views_shed'])}"
        )
    overload = by_name.get("overload")
    if overload and overload.report:
        s = overload.script("portal")
        shed, waits = s["latency_503_ms"], s["latency_ms"]
        ok = (
            (not shed["n"] or shed["max"] <= TARGETS["shed_ms"])
            and waits["max"] <= TARGETS["wait_ms"]
            and s["dynamic_ok_ms"]["p95"] <= TARGETS["dynamic_p95_ms"]
        )
        checks.append(
            f"* at twice that rate ({s['offered_views_per_s']:,.0f} views/s offered): "
            f"{s['status_class']['503']:,} answered 503 (max {ms(shed, 'max')} ms from the "
            f"intended start, {ms(s['from_send_503_ms'], 'max')} ms from sending; target "
            f"≤ 100), longest request {ms(waits, 'max')} ms (≤ 5,000), accepted dynamic p95 "
            f"{ms(s['dynamic_ok_ms'])} ms, Retry-After {s['retry_after'] or 'none'}, "
            f"{s['views_per_s']:,.1f} views/s completed in time, {s['views_unstarted']:,} never "
            f"started; arriving views waited for a free connection p95 {ms(s['queue_ms'])} ms "
            f"({s['connections_used']:,} opened) "
            f"→ {verdict(ok and not s['views_unstarted'])}"
        )
    unfronted = by_name.get("unfronted")
    if unfronted and unfronted.report:
        s = unfronted.script("portal")
        checks.append(
            f"* the same overload on a server without the front and edge (`VAX_FRONT=off`, side by "
            f"side in this run, for comparison): {s['status_class']['503']:,} answered 503 "
            f"(max {ms(s['latency_503_ms'], 'max')} ms), longest request "
            f"{ms(s['latency_ms'], 'max')} ms, accepted dynamic p95 {ms(s['dynamic_ok_ms'])} ms, "
            f"{s['views_per_s']:,.1f} views/s completed in time"
        )
    mixed = by_name.get("mixed")
    if mixed and mixed.report:
        lookups, portal = mixed.script("lookup"), mixed.script("portal")
        code = lookups["requests_by_index"][0]
        seconds = mixed.report["duration_s"]
        answered = code["status_class"]["2xx"] / seconds  # every arrival of the phase's time
        beside = (
            f"its crowd of {portal['visitors']} visitors in a closed loop"
            if portal["mode"] == "closed"
            else f"{portal['offered_views_per_s']:,.0f} views/s offered"
        )
        ok = (
            answered >= TARGETS["lookups_per_s"] and portal["views_per_s"] >= TARGETS["views_per_s"]
        )
        checks.append(
            f"* certificate code requests ≥ {TARGETS['lookups_per_s']:.0f}/s while the portal "
            f"serves its sustainable rate (≥ {TARGETS['views_per_s']:.0f} views/s), together: "
            f"{lookups['views_started']:,} code requests arrived at "
            f"{lookups['offered_views_per_s']:,.0f}/s and {code['status_class']['2xx']:,} were "
            f"answered 2xx ({answered:,.1f}/s; {code['ok_by_end'] / seconds:,.1f}/s finished "
            f"within the phase's time) [{status_text(lookups)}], p95 {ms(code['latency_ms'])} ms "
            f"(0.4 s floor included); the portal beside them ({beside}) "
            f"{portal['views_per_s']:,.1f} views/s, dynamic p95 {ms(portal['dynamic_ok_ms'])} ms "
            f"→ {verdict(ok)}"
        )
    api = by_name.get("api")
    if api and api.report:
        s = api.script("api")
        checks.append(
            f"* open-data API ≥ {TARGETS['api_per_s']:,.0f} cached requests/s: "
            f"{s['requests_per_s']:,.0f}/s with {s['visitors']} connections, p95 "
            f"{ms(s['latency_ms'])} ms [{status_text(s)}] → "
            f"{verdict(s['requests_per_s'] >= TARGETS['api_per_s'])}"
        )
    first = by_name.get("first")
    if first and first.report:
        s = first.script("first")
        checks.append(
            f"* first visits (static bundles included), beside them: {s['views_per_s']:,.1f} "
            f"views/s, {s['bytes_in'] / max(s['views_completed'], 1) / 1000:,.0f} kB per view, "
            f"view p95 {ms(s['view_ms'])} ms"
        )
    return checks or ["* no phase produced figures"]


if __name__ == "__main__":
    main()
