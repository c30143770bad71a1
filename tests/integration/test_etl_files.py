"""File drops into the warehouse (real chDB): rules, formats, replays, pseudonymisation."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from etl.__main__ import reference_codes
from etl.batch import CHECKED, load_batch
from etl.files import FileDropError, _as_text, load_file
from etl.reference import refresh_reference
from tests.conftest import ROOT
from tests.integration.helpers import (
    BAD_ROWS,
    CANARY_CCCD,
    CANARY_PHONE,
    GOOD,
    KEY,
    row,
    write,
)
from warehouse.client import Warehouse
from warehouse.migrate import migrate
from warehouse.pseudonyms import pseudonym_parts

pytestmark = pytest.mark.integration

CONFLICT = [row("C1", lot_number="A"), row("C1", lot_number="B")]


@pytest.fixture
def loaded(warehouse: Warehouse) -> Warehouse:
    refresh_reference(warehouse, *reference_codes())
    return warehouse


def current(warehouse: Warehouse) -> list[tuple[str, int, str, str]]:
    return warehouse.rows(
        "SELECT dose_id, version, province_code, toString(administered_at) "
        "FROM {db:Identifier}.doses_current ORDER BY dose_id"
    )


def test_every_rule_rejects_with_its_reason(loaded: Warehouse, tmp_path: Path) -> None:
    rows = [row("G1"), row("G2", dose_number="2"), *BAD_ROWS.values(), *CONFLICT]
    path = write(pd.DataFrame(rows), tmp_path / "drop.csv")
    report = load_file(loaded, path, KEY)
    expected = dict.fromkeys(BAD_ROWS, 1) | {"conflicting_version": 2}
    assert report.reasons == expected
    assert (report.read, report.loaded, report.rejected) == (len(rows), 2, len(rows) - 2)
    stored = dict(
        loaded.rows("SELECT reason, count() FROM {db:Identifier}.etl_rejects FINAL GROUP BY reason")
    )
    assert stored == expected
    details = dict(loaded.rows("SELECT reason, detail FROM {db:Identifier}.etl_rejects FINAL"))
    assert details["missing_field"] == "site_id" and details["unknown_province"] == "99"
    assert [r[0] for r in current(loaded)] == ["G1", "G2"]


@pytest.mark.parametrize("suffix", [".csv", ".ndjson", ".parquet"])
def test_formats_load_the_same(loaded: Warehouse, tmp_path: Path, suffix: str) -> None:
    rows = [
        row("T1", administered_at="2021-08-04 23:59:59"),  # no offset: local time
        row("T2", administered_at="2021-08-04T17:00:00Z"),  # UTC: next local day
        row("T3", administered_at="2021-08-05T06:30:00+07:00"),
    ]
    report = load_file(loaded, write(pd.DataFrame(rows), tmp_path / f"drop{suffix}"), KEY)
    assert (report.loaded, report.rejected) == (3, 0)
    assert current(loaded) == [
        ("T1", 1, "79", "2021-08-04 23:59:59.000"),
        ("T2", 1, "79", "2021-08-05 00:00:00.000"),
        ("T3", 1, "79", "2021-08-05 06:30:00.000"),
    ]


def test_replays_corrections_and_voids(loaded: Warehouse, tmp_path: Path) -> None:
    first = write(pd.DataFrame([row("R1"), row("R2"), row("R3")]), tmp_path / "day1.csv")
    assert load_file(loaded, first, KEY).loaded == 3
    again = load_file(loaded, first, KEY)
    assert (again.skipped, again.loaded) == (3, 0)  # committed batches are skipped
    copy = tmp_path / "renamed-copy.csv"
    copy.write_bytes(first.read_bytes())
    load_file(loaded, copy, KEY)  # another source name, same content: nothing changes
    fixes = [
        row("R1", version="2", province_code="01", site_id="01-0001"),
        row("R2", version="2", status="void"),
        row("R3", version="1"),  # an old copy arriving late
    ]
    load_file(loaded, write(pd.DataFrame(fixes), tmp_path / "day2.parquet"), KEY)
    assert [(r[0], r[1], r[2]) for r in current(loaded)] == [("R1", 2, "01"), ("R3", 1, "79")]
    assert loaded.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily") == 2
    rejects = loaded.scalar("SELECT count() FROM {db:Identifier}.etl_rejects")
    assert rejects == 0


def test_no_cccd_or_phone_anywhere_in_the_warehouse(loaded: Warehouse, tmp_path: Path) -> None:
    rows = [row("P1"), row("P2", dose_number="2"), BAD_ROWS["unknown_province"]]
    load_file(loaded, write(pd.DataFrame(rows), tmp_path / "drop.csv"), KEY)
    columns = loaded.rows(
        "SELECT table, name FROM system.columns WHERE database = {db:String} "
        "AND type LIKE '%String%' AND table NOT IN (SELECT name FROM system.tables "
        "WHERE database = {db:String} AND engine = 'View')"
    )
    assert len(columns) > 10
    for table, column in columns:
        for canary in (CANARY_CCCD, CANARY_PHONE):
            hits = loaded.scalar(
                f"SELECT count() FROM {{db:Identifier}}.`{table}` "
                f"WHERE position(toString(`{column}`), {{canary:String}}) > 0",
                {"canary": canary},
            )
            assert hits == 0, f"{canary} found in {table}.{column}"
    names_outside_identity = [
        t
        for t, c in columns
        # the restricted identity table, its key-value copy (0016) and the ETL's scratch
        if t not in ("citizen_identity", "identity_kv", "identity_kv_mv", "etl_raw", *CHECKED)
        and c == "full_name"
    ]
    assert names_outside_identity == []
    for scratch in ("etl_raw", *CHECKED):  # in-memory scratch, emptied after each batch
        assert loaded.scalar(f"SELECT count() FROM {{db:Identifier}}.{scratch}") == 0
    assert loaded.scalar("SELECT count() FROM {db:Identifier}.citizen_identity") == 1


def test_a_different_key_gives_other_citizen_keys(loaded: Warehouse, tmp_path: Path) -> None:
    path = write(pd.DataFrame([row("K1")]), tmp_path / "drop.csv")
    load_file(loaded, path, KEY)
    other = dataclasses.replace(loaded, database=f"{loaded.database}_k")
    try:
        migrate(other)
        refresh_reference(other, *reference_codes())
        load_file(other, path, bytes(reversed(range(32))))
        keys = [
            w.scalar("SELECT any(citizen_key) FROM {db:Identifier}.doses_current")
            for w in (loaded, other)
        ]
        assert keys[0] != keys[1] and len(keys[0]) == 32
    finally:
        other.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC")


def test_load_command(tmp_path: Path) -> None:
    path = write(pd.DataFrame([row("L1"), BAD_ROWS["future_time"]]), tmp_path / "drop.csv")
    env = {**os.environ, "VAX_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["read"], summary["loaded"], summary["rejected"]) == (2, 1, 1)
    assert CANARY_CCCD not in result.stderr and CANARY_PHONE not in result.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(tmp_path / "absent.csv")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_a_batch_range_with_new_content_is_not_dropped_as_a_replay(loaded: Warehouse) -> None:
    """Tokens carry a digest of the batch: the same source range with other rows (a registry
    range changed between a crash and its replay) lands instead of being deduplicated."""
    parts = pseudonym_parts(KEY)
    first = pa.Table.from_pandas(pd.DataFrame([BAD_ROWS["unknown_vaccine"]]), preserve_index=False)
    second = pa.Table.from_pandas(pd.DataFrame([BAD_ROWS["future_time"]]), preserve_index=False)
    for table in (first, second, first):
        load_batch(loaded, _as_text(table), "registry:doses", 0, parts, [7])
    reasons = loaded.rows(
        "SELECT reason FROM {db:Identifier}.etl_rejects FINAL WHERE position = '7' ORDER BY reason"
    )
    assert reasons == [("future_time",), ("unknown_vaccine",)]
    assert loaded.scalar("SELECT count() FROM {db:Identifier}.etl_rejects") == 2  # replay: once


def test_a_drop_without_the_optional_columns_loads(loaded: Warehouse, tmp_path: Path) -> None:
    """version, status and phone may be absent (nulls in every row): the batch's digest
    (its insert tokens) must not become NULL."""
    frame = pd.DataFrame([row("O1"), row("O2", dose_number="2")]).drop(
        columns=["version", "status", "phone"]
    )
    report = load_file(loaded, write(frame, tmp_path / "minimal.csv"), KEY)
    assert (report.loaded, report.rejected) == (2, 0)
    assert [r[:2] for r in current(loaded)] == [("O1", 1), ("O2", 1)]


def test_csv_is_read_in_batches_of_the_asked_size(tmp_path: Path) -> None:
    from etl.files import read_batches

    frame = pd.DataFrame([row(f"C{i}") for i in range(25)])
    sizes = [t.num_rows for t in read_batches(write(frame, tmp_path / "d.csv"), rows=10)]
    assert sizes == [10, 10, 5]


def test_a_replay_cut_at_other_boundaries_records_no_reject_twice(loaded: Warehouse) -> None:
    """After a crash the registry stream may cut the same rows into other batches (other
    insert tokens): rejects are still recorded once per source, position and reason."""
    parts = pseudonym_parts(KEY)
    rows = [row("X1"), BAD_ROWS["unknown_vaccine"], row("X3"), BAD_ROWS["future_time"]]
    table = _as_text(pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False))
    load_batch(loaded, table.slice(0, 3), "registry:doses", 0, parts, [1, 2, 3])  # crashed
    load_batch(loaded, table, "registry:doses", 0, parts, [1, 2, 3, 4])  # the replay
    assert loaded.rows(
        "SELECT position, reason, count() FROM {db:Identifier}.etl_rejects "
        "GROUP BY position, reason ORDER BY position"
    ) == [("2", "unknown_vaccine", 1), ("4", "future_time", 1)]


def test_a_replay_restores_rejects_and_identities_whose_parts_were_lost(
    loaded: Warehouse,
) -> None:
    """A kill while the engine commits a part can leave its block noted as written and the
    part gone. Here a batch lands, its checkpoint does not (the kill), and its rejects and
    identities are deleted; the replay must write them again, not be dropped as a repeat."""
    parts = pseudonym_parts(KEY)
    rows = [row("L1"), BAD_ROWS["unknown_vaccine"]]
    table = _as_text(pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False))
    load_batch(loaded, table, "registry:doses", 0, parts, [1, 2])
    for lost in ("etl_rejects", "citizen_identity"):
        loaded.command(
            f"ALTER TABLE {{db:Identifier}}.{lost} DELETE WHERE 1 SETTINGS mutations_sync = 2"
        )
    assert load_batch(loaded, table, "registry:doses", 0, parts, [1, 2])[:2] == (1, 1)
    assert loaded.rows("SELECT position, reason FROM {db:Identifier}.etl_rejects") == [
        ("2", "unknown_vaccine")
    ]
    assert loaded.rows("SELECT full_name FROM {db:Identifier}.citizen_identity FINAL") == [
        (GOOD["full_name"],)
    ]


def test_the_identity_key_value_copy_holds_the_latest_details(
    loaded: Warehouse, tmp_path: Path
) -> None:
    """identity_kv (schema 0016), fed from citizen_identity, answers what citizen_identity
    FINAL does after batches that correct a name, and after a replay."""
    parts = pseudonym_parts(KEY)
    other = {"citizen_id": "001185000123", "sex": "F", "date_of_birth": "1985-02-03"}
    batches = [
        [row("K1", full_name="Nguyen Van An"), row("K2", **other, full_name="Lê Thị Bình")],
        [row("K3", dose_number="2", full_name="Nguyễn Văn An")],
        [row("K4", **other, dose_number="2", full_name="Lê Thị Bính")],
    ]
    for number, rows in enumerate(batches):
        table = _as_text(pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False))
        positions = [number * 10 + i + 1 for i in range(len(rows))]
        load_batch(loaded, table, "registry:doses", number * 10, parts, positions)
    load_batch(loaded, table, "registry:doses", 20, parts, [21])  # a replay of the last
    columns = "citizen_key, full_name, date_of_birth, sex, phone_hash"
    final = loaded.rows(
        f"SELECT {columns} FROM {{db:Identifier}}.citizen_identity FINAL ORDER BY citizen_key"
    )
    assert sorted(name for _, name, *_ in final) == ["Lê Thị Bính", "Nguyễn Văn An"]
    assert (
        loaded.rows(f"SELECT {columns} FROM {{db:Identifier}}.identity_kv ORDER BY citizen_key")
        == final
    )


def test_one_identity_per_person_and_batch_the_last_record(
    loaded: Warehouse, tmp_path: Path
) -> None:
    """Three doses of one person in one batch, their name corrected on the way: one identity
    row, from the last record in the file; a bad row's details never land."""
    rows = [
        row("I1", full_name="Nguyen Van An"),
        row("I2", dose_number="2", full_name="Nguyễn Văn Ân"),
        row("I3", dose_number="3", full_name="Nguyễn Văn An"),
        row("I4", dose_number="9", full_name="Rejected Name"),  # out of range: rejected
    ]
    load_file(loaded, write(pd.DataFrame(rows), tmp_path / "drop.csv"), KEY)
    assert loaded.rows("SELECT full_name FROM {db:Identifier}.citizen_identity") == [
        ("Nguyễn Văn An",)
    ]


def test_batches_of_one_file_load_in_order_while_the_next_is_read(
    loaded: Warehouse, tmp_path: Path
) -> None:
    """The next batch reaches the engine and is checked while this one is written
    (etl.batch.load_batches, the checked rows in etl_checked and etl_checked_next in turn):
    a correction, a void and a late old copy in later batches of the same file still win as
    they would one batch at a time, and every batch is committed with its own counts."""
    rows = [
        row("P1"), row("P2"), row("P3"),
        row("P1", version="2", province_code="01", site_id="01-0001"), row("P2", version="2", status="void"), BAD_ROWS["unknown_province"],
        row("P1", version="1"), row("P4"),
    ]  # fmt: skip
    path = write(pd.DataFrame(rows), tmp_path / "batches.csv")
    report = load_file(loaded, path, KEY, batch_rows=3)
    assert (report.read, report.loaded, report.rejected) == (8, 7, 1)
    assert [(r[0], r[1], r[2]) for r in current(loaded)] == [
        ("P1", 2, "01"), ("P3", 1, "79"), ("P4", 1, "79"),
    ]  # fmt: skip
    assert loaded.scalar("SELECT sum(doses) FROM {db:Identifier}.coverage_daily") == 3
    committed = loaded.rows(
        "SELECT position, rows_read, rows_loaded, rows_rejected FROM {db:Identifier}.etl_checkpoints "
        "WHERE source = {source:String} ORDER BY position",
        {"source": report.source},
    )
    assert committed == [(3, 3, 3, 0), (6, 3, 2, 1), (8, 2, 2, 0)]
    for scratch in ("etl_raw", *CHECKED):  # the two checked tables took turns, both emptied
        assert loaded.scalar(f"SELECT count() FROM {{db:Identifier}}.{scratch}") == 0


def test_a_file_unreadable_part_way_keeps_the_batches_before_it(
    loaded: Warehouse, tmp_path: Path
) -> None:
    """The batch after the last good one fails while the one before is written: that one is
    still committed before the error is raised."""
    path = tmp_path / "broken.ndjson"
    good = [json.dumps(row(f"N{i}"), ensure_ascii=False) for i in range(1, 5)]
    path.write_text("\n".join([*good, "{not json"]) + "\n", encoding="utf-8")
    with pytest.raises(FileDropError, match="line 5 is not JSON"):
        load_file(loaded, path, KEY, batch_rows=2)
    assert [r[0] for r in current(loaded)] == ["N1", "N2", "N3", "N4"]
    positions = loaded.rows(
        "SELECT position FROM {db:Identifier}.etl_checkpoints ORDER BY position"
    )
    assert positions == [(2,), (4,)]
