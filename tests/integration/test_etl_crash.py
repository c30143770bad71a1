"""Kill -9 at random moments, restart, and the warehouse ends equal to the source.

`python -m etl stream --once` (SQLite and PostgreSQL registries) and `python -m etl load`
(a file of many small batches) run as child processes on their own chDB directory. The test
SIGKILLs the child several times — at random moments across the run, and at random offsets
after a batch's log line, i.e. in the middle of the next batch — restarts it until it
finishes, then compares the warehouse with the source (live doses, aggregates, rejects,
checkpoints, identity rows) and with a run nobody interrupted.

chDB allows one process per data directory, so this process never opens a child's
warehouse: a probe child (`probe_main`) reads it once the loader is dead and prints JSON.
The random seed is printed with every failure; VAX_TEST_SEED replays one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
from sqlalchemy import text

from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

KEY_HEX = bytes(range(32)).hex()
KILLS = 6  # SIGKILLs per scenario before the child is left to finish
RUN_TIMEOUT = 120.0

# What the probe reads; every query names the database as {db:Identifier}.
AGE_GROUP = (
    "multiIf(birth_year = 0, 'unknown', toInt32(toYear(administered_at)) - toInt32(birth_year) "
    "< 12, '0-11', toInt32(toYear(administered_at)) - toInt32(birth_year) < 18, '12-17', "
    "toInt32(toYear(administered_at)) - toInt32(birth_year) < 50, '18-49', "
    "toInt32(toYear(administered_at)) - toInt32(birth_year) < 65, '50-64', '65+')"
)
PROBE_QUERIES = {
    "live": "SELECT dose_id, version, citizen_key, province_code, site_id, vaccine_code, "
    "lot_number, dose_number, toString(administered_at) FROM {db:Identifier}.doses_current "
    "ORDER BY dose_id",
    "coverage": "SELECT toString(day), province_code, dose_number, vaccine_code, age_group, "
    "sum(doses) AS n FROM {db:Identifier}.coverage_daily GROUP BY ALL HAVING n != 0 "
    "ORDER BY ALL",
    "coverage_direct": "SELECT toString(toDate(administered_at)), province_code, dose_number, "
    f"vaccine_code, {AGE_GROUP} AS age_group, count() FROM {{db:Identifier}}.doses_current "
    "GROUP BY ALL ORDER BY ALL",
    "coverage_known": "SELECT toString(day), toString(known_day), province_code, dose_number, "
    "vaccine_code, age_group, sum(doses) AS n FROM {db:Identifier}.coverage_known "
    "GROUP BY ALL HAVING n != 0 ORDER BY ALL",
    "coverage_known_direct": "SELECT toString(toDate(administered_at)), "
    "toString(toDate(recorded_at)), province_code, dose_number, vaccine_code, "
    f"{AGE_GROUP} AS age_group, count() FROM {{db:Identifier}}.doses_current "
    "GROUP BY ALL ORDER BY ALL",
    "dose_revisions": "SELECT dose_id, version, status, change_seq "
    "FROM {db:Identifier}.dose_revisions FINAL ORDER BY ALL",
    "dose_revisions_physical": "SELECT count() FROM {db:Identifier}.dose_revisions",
    "site_hourly": "SELECT toString(hour), site_id, sum(doses) AS n "
    "FROM {db:Identifier}.site_hourly GROUP BY ALL HAVING n != 0 ORDER BY ALL",
    "site_hourly_direct": "SELECT toString(toDateTime(toStartOfHour(administered_at))), "
    "site_id, count() FROM {db:Identifier}.doses_current GROUP BY ALL ORDER BY ALL",
    # a dose counted twice (or cancelled twice) in the signed ledger
    "ledger_bad_nets": "SELECT count() FROM (SELECT dose_id, sum(sign) AS net "
    "FROM {db:Identifier}.dose_ledger GROUP BY dose_id HAVING net NOT IN (0, 1))",
    "rejects": "SELECT source, position, dose_id, reason FROM {db:Identifier}.etl_rejects "
    "FINAL ORDER BY ALL",
    # without FINAL: a replayed batch must not have written its rejects twice
    "reject_rows": "SELECT count() FROM {db:Identifier}.etl_rejects",
    "reject_keys": "SELECT uniqExact(source, position, reason) FROM {db:Identifier}.etl_rejects",
    "reject_twice": "SELECT source, position, reason, groupArray(batch_token) "
    "FROM {db:Identifier}.etl_rejects GROUP BY ALL HAVING count() > 1 ORDER BY ALL LIMIT 5",
    "checkpoints": "SELECT source, position, rows_read, rows_loaded, rows_rejected "
    "FROM {db:Identifier}.etl_checkpoints ORDER BY committed_at, position",
    "raw_rows": "SELECT count() FROM {db:Identifier}.etl_raw",
    "identity_missing": "SELECT count() FROM (SELECT DISTINCT citizen_key "
    "FROM {db:Identifier}.doses_current) WHERE citizen_key NOT IN "
    "(SELECT citizen_key FROM {db:Identifier}.citizen_identity)",
    "identity_rows": "SELECT count() FROM {db:Identifier}.citizen_identity FINAL",
}


def probe_main() -> None:
    """Child process: print the probe queries' results for the chDB DSN in argv[1]."""
    from warehouse.client import connect

    warehouse = connect(sys.argv[1], "vax")
    result = {name: warehouse.rows(sql) for name, sql in PROBE_QUERIES.items()}
    print(json.dumps(result, default=str))


def probe(dsn: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", "from tests.integration.test_etl_crash import probe_main; "
         "probe_main()", dsn],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return {name: [tuple(row) for row in rows] for name, rows in data.items()}


def environment(tmp: Path, name: str, source_dsn: str = "") -> tuple[dict[str, str], str]:
    """Environment for a child working on its own var dir and chDB warehouse."""
    dsn = f"chdb://{tmp / name / 'warehouse'}"
    env = {
        **os.environ,
        "VAX_VAR_DIR": str(tmp / name),
        "VAX_WAREHOUSE_DSN": dsn,
        "VAX_PSEUDONYM_KEY": KEY_HEX,
        "VAX_LOG_LEVEL": "INFO",
    }
    if source_dsn:
        env["VAX_SOURCE_DSN"] = source_dsn
    return env, dsn


def batch_lines(log: Path) -> int:
    try:
        return sum(" batch " in line for line in log.read_text(errors="replace").splitlines())
    except FileNotFoundError:
        return 0


@dataclass
class Timing:
    """How an uninterrupted run went: seconds to its first batch log line, seconds per
    batch after that."""

    first_batch: float
    per_batch: float


def run_clean(command: list[str], env: dict[str, str], log: Path) -> tuple[dict[str, Any], Timing]:
    started = time.monotonic()
    first = 0.0
    with log.open("wb") as err_handle:
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err_handle
        )
        while child.poll() is None and not first:
            if batch_lines(log):
                first = time.monotonic() - started
            time.sleep(0.005)
        out, _ = child.communicate(timeout=RUN_TIMEOUT)
    span = time.monotonic() - started
    assert child.returncode == 0, log.read_text(errors="replace")[-3000:]
    lines = batch_lines(log)
    assert lines > 3, "the input should take several batches"
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary, Timing(first or span, (span - first) / max(1, lines - 1))


def run_with_kills(
    command: list[str], env: dict[str, str], log_dir: Path, rng: random.Random, timing: Timing
) -> tuple[dict[str, Any], list[str]]:
    """Run `command` to completion, SIGKILLing it up to KILLS times first (fewer if it
    finishes before); returns its final JSON summary and what each attempt did. Each
    restart resumes from the checkpoint, so kills early in an attempt still fall further
    and further into the input."""
    attempts: list[str] = []
    for attempt in range(KILLS + 1):
        log = log_dir / f"attempt-{attempt}.log"
        out = log_dir / f"attempt-{attempt}.out"
        with log.open("wb") as err_handle, out.open("wb") as out_handle:
            started = time.monotonic()
            child = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out_handle, stderr=err_handle
            )
            if attempt < KILLS:
                # start-up, migrations, or any step of the first batch after the checkpoint
                moment = rng.uniform(0.2, timing.first_batch + 0.5 * timing.per_batch)
                what = f"kill at {moment:.2f} s"
                if rng.random() < 0.6:
                    # inside a later batch: a random offset after a batch's log line
                    lines = rng.randint(1, 2)
                    offset = rng.uniform(0.0, 1.2 * timing.per_batch)
                    what = f"kill {offset:.2f} s after batch line {lines}"
                    moment = timing.first_batch + (lines + 1) * timing.per_batch
                    while batch_lines(log) < lines and child.poll() is None:
                        if time.monotonic() - started > moment:
                            what = f"kill at {moment:.2f} s (no batch line {lines})"
                            break
                        time.sleep(0.005)
                    else:
                        moment = time.monotonic() - started + offset
                while time.monotonic() - started < moment and child.poll() is None:
                    time.sleep(0.005)
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL)
                    child.wait(timeout=30)
                    attempts.append(f"{what}: killed after {batch_lines(log)} batch lines")
                    continue
                attempts.append(f"{what}: finished first")
            try:
                code = child.wait(timeout=RUN_TIMEOUT)
            finally:
                if child.poll() is None:
                    child.kill()
        assert code == 0, f"{attempts}: exit {code}: {log.read_text(errors='replace')[-3000:]}"
        attempts.append(f"attempt {attempt} finished ({batch_lines(log)} batch lines)")
        return json.loads(out.read_text().strip().splitlines()[-1]), attempts
    raise AssertionError("unreachable")


def run_seed() -> int:
    """The run's random seed (VAX_TEST_SEED replays one)."""
    return int(os.environ.get("VAX_TEST_SEED") or random.SystemRandom().randrange(1 << 30))


class Runs(NamedTuple):
    """The same command run once uninterrupted and once killed again and again, each on its
    own warehouse: the summaries it printed, the probed warehouses, the failure context."""

    clean_summary: dict[str, Any]
    summary: dict[str, Any]
    clean: dict[str, Any]
    state: dict[str, Any]
    context: str


def run_clean_and_killed(
    command: list[str], tmp_path: Path, rng: random.Random, rng_seed: int, source_dsn: str = ""
) -> Runs:
    """Run `command` uninterrupted, then with kills; both warehouses consistent, and the
    second run killed three times at least."""
    clean_env, clean_dsn = environment(tmp_path, "clean", source_dsn)
    clean_summary, timing = run_clean(command, clean_env, tmp_path / "clean.log")
    killed_env, killed_dsn = environment(tmp_path, "killed", source_dsn)
    summary, attempts = run_with_kills(command, killed_env, tmp_path, rng, timing)
    context = f"seed {rng_seed}: {attempts}"
    print(context)

    state, clean = probe(killed_dsn), probe(clean_dsn)
    check_consistent(state, context)
    check_consistent(clean, "uninterrupted run")
    assert sum("killed" in a for a in attempts) >= 3, context
    return Runs(clean_summary, summary, clean, state, context)


def check_consistent(state: dict[str, Any], context: str) -> None:
    """What must hold in any warehouse the ETL wrote, interrupted or not (the aggregates
    apart: `check_aggregates`)."""
    assert state["ledger_bad_nets"] == [(0,)], context
    assert state["reject_rows"] == state["reject_keys"], (
        f"rejects written twice: {state['reject_twice']} {context}"
    )
    assert state["raw_rows"] == [(0,)], f"raw batch left behind: {context}"
    assert state["identity_missing"] == [(0,)], f"identity rows lost: {context}"
    positions: dict[str, list[int]] = {}
    for source, position, read, loaded, rejected in state["checkpoints"]:
        positions.setdefault(source, []).append(int(position))
        assert int(read) == int(loaded) + int(rejected), context
    for source, seen in positions.items():
        assert seen == sorted(set(seen)), f"checkpoints of {source} not monotonic: {context}"


def check_aggregates(state: dict[str, Any], clean: dict[str, Any], context: str) -> None:
    """The aggregates equal direct counts over the live doses, and the uninterrupted run's."""
    assert clean["coverage"] == clean["coverage_direct"], "uninterrupted run"
    assert clean["site_hourly"] == clean["site_hourly_direct"], "uninterrupted run"
    assert clean["coverage_known"] == clean["coverage_known_direct"], "uninterrupted run"
    pairs = [
        ("coverage", "coverage_direct"),
        ("coverage_known", "coverage_known_direct"),
        ("site_hourly", "site_hourly_direct"),
    ]
    for aggregate, direct in pairs:
        assert state[aggregate] == state[direct], (
            f"{aggregate}: {difference(state, aggregate, direct)} {context}"
        )
        assert state[aggregate] == clean[aggregate], (
            f"{aggregate}: differs from the uninterrupted run: {context}"
        )


def difference(state: dict[str, Any], aggregate: str, direct: str) -> str:
    have = {row[:-1]: int(row[-1]) for row in state[aggregate]}
    want = {row[:-1]: int(row[-1]) for row in state[direct]}
    cells = sorted(k for k in set(have) | set(want) if have.get(k, 0) != want.get(k, 0))
    return (
        "; ".join(f"{k}: {have.get(k, 0)} vs {want.get(k, 0)}" for k in cells[:8])
        + f" ({len(cells)} cells)"
    )


# -- the registry stream ---------------------------------------------------------------------


def registry_doses(engine: Any) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT dose_id, version, status, change_seq FROM doses")
        ).fetchall()
    return pd.DataFrame(rows, columns=["dose_id", "version", "status", "change_seq"])


def test_stream_survives_kill_9(registry_dsn: str, tmp_path: Path) -> None:
    rng_seed = run_seed()
    rng = random.Random(rng_seed)
    engine = make_engine(registry_dsn)
    migrate(engine)
    seed(engine, SeedOptions(scale=0.0005, until=date(2021, 7, 31), seed=11, error_rate=0.05))
    doses = registry_doses(engine)
    with engine.connect() as connection:
        revisions = sorted(
            (str(d), int(v), str(s), int(q))
            for d, v, s, q in connection.execute(
                text("SELECT dose_id, version, status, change_seq FROM dose_versions")
            )
        )
    engine.dispose()
    command = [sys.executable, "-m", "etl", "stream", "--once", "--batch-rows", "200"]

    clean_summary, summary, clean, state, context = run_clean_and_killed(
        command, tmp_path, rng, rng_seed, registry_dsn
    )
    assert summary["position"] == clean_summary["position"] == int(doses["change_seq"].max())

    # every registry row is in exactly one committed batch, loaded or rejected
    checkpoints = [c for c in state["checkpoints"] if c[0] == "registry:doses"]
    assert sum(int(c[2]) for c in checkpoints) == len(doses), context
    rejected = {int(position) for _, position, _, _ in state["rejects"]}
    assert sum(int(c[4]) for c in checkpoints) == len(rejected), context

    # live doses = the registry's valid doses minus the rows the ETL refused
    current = doses[~doses["change_seq"].isin(rejected)]
    expected = {
        (str(d), int(v)) for d, v in current.loc[current["status"] == "valid", ["dose_id", "version"]].to_numpy()
    }  # fmt: skip
    assert {(d, int(v)) for d, v, *_ in state["live"]} == expected, context
    assert len(expected) > 0.9 * len(doses) and len(rejected) > 0

    # and the interrupted warehouse is the uninterrupted one, row for row
    for name in ("live", "rejects", "identity_rows"):
        assert state[name] == clean[name], f"{name} differs: {context}"
    check_aggregates(state, clean, context)

    # the superseded versions (an operational flow after the doses): each landed once
    found = [(str(d), int(v), str(s), int(q)) for d, v, s, q in state["dose_revisions"]]
    assert found == revisions and len(revisions) > 10, context
    assert state["dose_revisions_physical"] == [(len(revisions),)], context
    assert state["dose_revisions"] == clean["dose_revisions"], context


# -- file drops --------------------------------------------------------------------------------

PROVINCES = ["01", "79", "48", "92", "31"]
VACCINES = ["EU/1/21/1529", "BBIBP-CorV", "EU/1/20/1528"]


def cccd(born: date, sex: str, serial: int) -> str:
    digit = {"M": 0, "F": 1}[sex] + (2 if born.year >= 2000 else 0)
    return f"079{digit}{born.year % 100:02d}{serial:06d}"


def make_drop(rng: random.Random, doses: int) -> tuple[pd.DataFrame, set[tuple[str, int]]]:
    """A shuffled file drop: new doses, corrections, voids, old copies arriving late and
    broken rows; and the (dose_id, version) set that must end up live."""
    rows: list[dict[str, str]] = []
    expected: set[tuple[str, int]] = set()
    breakers: list[Callable[[dict[str, str]], None]] = [
        lambda r: r.update(citizen_id=r["citizen_id"][:-1] + "X"),
        lambda r: r.update(province_code="99"),
        lambda r: r.update(dose_number="7"),
        lambda r: r.update(administered_at="not a time"),
        lambda r: r.update(vaccine_code="UNKNOWN"),
        lambda r: r.update(site_id=""),
    ]
    start = datetime(2021, 7, 1, 7, 0)
    for number in range(doses):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        sex = rng.choice("MF")
        base = {
            "dose_id": f"F-{number:05d}",
            "version": "1",
            "status": "valid",
            "citizen_id": cccd(born, sex, number),
            "full_name": f"Nguyễn Văn {number}",
            "date_of_birth": born.isoformat(),
            "sex": sex,
            "phone": f"09{number:08d}",
            "province_code": rng.choice(PROVINCES),
            "site_id": f"S-{rng.randrange(40):03d}",
            "vaccine_code": rng.choice(VACCINES),
            "lot_number": f"LOT-{rng.randrange(9)}",
            "dose_number": str(rng.randint(1, 3)),
            "administered_at": (start + timedelta(minutes=rng.randrange(60 * 24 * 30))).isoformat(
                sep=" "
            ),
        }
        fate = rng.random()
        if fate < 0.04:
            broken = dict(base)
            rng.choice(breakers)(broken)
            rows.append(broken)
            continue
        rows.append(base)
        latest = base
        if fate < 0.14:  # corrected once, the original copy sometimes repeated late
            latest = {**base, "version": "2", "province_code": rng.choice(PROVINCES),
                      "lot_number": "LOT-FIX"}  # fmt: skip
            rows.append(latest)
            if rng.random() < 0.5:
                rows.append(dict(base))
        elif fate < 0.20:  # voided
            latest = {**base, "version": "2", "status": "void"}
            rows.append(latest)
        if latest["status"] == "valid":
            expected.add((latest["dose_id"], int(latest["version"])))
    rng.shuffle(rows)
    return pd.DataFrame(rows), expected


def test_file_load_survives_kill_9(tmp_path: Path) -> None:
    rng_seed = run_seed()
    rng = random.Random(rng_seed)
    frame, expected = make_drop(rng, 2500)
    # Parquet: its reader honours --batch-rows (the CSV reader batches by 64 MB blocks)
    path = tmp_path / "drop.parquet"
    frame.to_parquet(path, index=False)
    command = [sys.executable, "-m", "etl", "load", "--batch-rows", "150", str(path)]

    clean_summary, summary, clean, state, context = run_clean_and_killed(
        command, tmp_path, rng, rng_seed
    )
    assert clean_summary["read"] == len(frame)
    assert clean_summary["read"] == clean_summary["loaded"] + clean_summary["rejected"]

    checkpoints = [c for c in state["checkpoints"] if c[0].startswith("file:")]
    assert checkpoints[-1][1] == len(frame), context
    assert sum(int(c[2]) for c in checkpoints) == len(frame), context  # each row once
    assert sum(int(c[4]) for c in checkpoints) == clean_summary["rejected"], context
    assert summary["read"] == len(frame)

    assert {(d, int(v)) for d, v, *_ in state["live"]} == expected, context
    for name in ("live", "rejects", "identity_rows"):
        assert state[name] == clean[name], f"{name} differs: {context}"
    check_aggregates(state, clean, context)
