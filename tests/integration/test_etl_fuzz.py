"""Property-based fuzzing of the load path (hypothesis, real chDB).

Batches of rows — valid rows, and rows with fields missing, null, empty, blank, junk
unicode, huge or negative numbers, impossible dates and times, mixed together — go through
`etl.batch.load_batch`. Whatever the input: nothing raises, every row is loaded or rejected
(read = loaded + rejected), rejects carry a known reason and land in ``etl_rejects`` once
each, untouched valid rows always load, and no raw CCCD or phone number is left anywhere in
the warehouse once the batch is done. One database per test; each example is its own source
with its own dose ids, so examples do not see each other.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.__main__ import reference_codes
from etl.batch import FILE_COLUMNS, load_batch
from etl.reference import refresh_reference
from warehouse.client import Warehouse
from warehouse.pseudonyms import pseudonym_parts

pytestmark = pytest.mark.integration

KEY = pseudonym_parts(bytes(range(32)))
REASONS = {
    "missing_field", "malformed_citizen_id", "invalid_sex", "unparseable_date",
    "citizen_id_mismatch", "unknown_province", "dose_number_out_of_range", "unknown_vaccine",
    "unparseable_time", "future_time", "invalid_version", "invalid_status",
    "conflicting_version",
}  # fmt: skip
PROVINCES, VACCINES = reference_codes()

# -- valid rows ----------------------------------------------------------------------------------


@st.composite
def valid_rows(draw: st.DrawFn) -> dict[str, str | None]:
    """A row every rule accepts (the dose id is set by the caller)."""
    born = draw(st.dates(date(1920, 1, 1), date(2020, 12, 31)))
    sex = draw(st.sampled_from("MFO"))
    digit = {"M": 0, "F": 1, "O": draw(st.integers(0, 1))}[sex] + (2 if born.year >= 2000 else 0)
    serial = draw(st.integers(0, 999_999))
    at = draw(st.datetimes(datetime(2021, 3, 8), datetime(2024, 12, 31)))
    layout = draw(st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                                   "%Y-%m-%dT%H:%M:%S+07:00", "%Y-%m-%d %H:%M:%S.123"]))  # fmt: skip
    return {
        "dose_id": None,
        "version": draw(st.sampled_from([None, "", "1", "2", "3", " 2 "])),
        "status": draw(st.sampled_from([None, "", "valid", "void", "VALID", " void "])),
        "citizen_id": f"{draw(st.integers(1, 96)):03d}{digit}{born.year % 100:02d}{serial:06d}",
        "full_name": draw(st.sampled_from(["Nguyễn Văn An", "Trần Thị Bích", "Lê  Hoàng"])),
        "date_of_birth": born.isoformat(),
        "sex": draw(st.sampled_from([sex, sex.lower(), f" {sex} "])),
        "phone": draw(st.one_of(st.none(), st.just(""), st.from_regex(r"\A0[35789]\d{8}\Z"))),
        "province_code": draw(st.sampled_from(PROVINCES)),
        "site_id": draw(st.sampled_from(["79-0001", "site 7", "Trạm y tế 3"])),
        "vaccine_code": draw(st.sampled_from(VACCINES)),
        "lot_number": draw(st.sampled_from(["A1", "LOT-2021-08", "x"])),
        "dose_number": str(draw(st.integers(1, 5))),
        "administered_at": at.strftime(layout),
    }


# -- ways to break a field -------------------------------------------------------------------------

JUNK_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=40
)
NASTY_SAMPLES = [
    "", " ", "   ", "\t", "\n", "\u200b", "\x00", "NULL", "null", "\\N", "None", "NaN",
    "-1", "0", "-0", "6", "255", "256", "65536", "4294967296", "-4294967297",
    "99999999999999999999999999", "1e3", "0x10", "1.5", "+1", "١", "１", "٣٢",
    "2021-02-29", "2021-13-01", "0000-00-00", "1900-01-01", "9999-12-31", "2021-1-1",
    "20210804", "04/08/2021", "2021-08-04T25:61:00", "2099-01-01 08:00:00",
    "1970-01-01T00:00:00Z", "2021-08-04T10:00:00+25:00", "yesterday", "'; DROP TABLE x; --",
    "𝟘𝟟𝟡𝟘𝟡𝟘𝟙𝟚𝟛𝟜𝟝𝟞", "０７９０９０１２３４５６", "07909012345", "0790901234567",
    "079190123456", "X" * 5000,
]  # fmt: skip
NASTY = st.one_of(
    st.none(),
    st.sampled_from(NASTY_SAMPLES),
    JUNK_TEXT,
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[dict[str, str | None], set[str]]]:
    """Rows, each with the fields broken in it (none: the row must load)."""
    rows = []
    for index in range(draw(st.integers(1, 12))):
        row = draw(valid_rows())
        row["dose_id"] = f"D{index}"
        broken = draw(st.lists(st.sampled_from(FILE_COLUMNS), max_size=4, unique=True))
        for name in broken:
            row[name] = draw(NASTY)
        rows.append((row, set(broken)))
    return rows


# -- the property ------------------------------------------------------------------------------------

DIGITS = re.compile(r"\A\d{9,12}\Z")


def string_columns(warehouse: Warehouse) -> dict[str, list[str]]:
    """Every String-typed column of every table holding data (views excluded)."""
    tables: dict[str, list[str]] = {}
    for table, column in warehouse.rows(
        "SELECT table, name FROM system.columns WHERE database = {db:String} "
        "AND type LIKE '%String%' AND table IN (SELECT name FROM system.tables "
        "WHERE database = {db:String} AND engine NOT IN ('View', 'MaterializedView'))"
    ):
        tables.setdefault(table, []).append(column)
    return tables


def canaries(rows: list[dict[str, str | None]], seen: set[str]) -> list[str]:
    """The CCCDs and phones of a batch that are unmistakable: all digits, 9–12 of them, and
    not the value of any non-identity field of this batch or of an earlier one loaded into
    the same database (`seen`, updated here): a dose_id drawn as "001200000000" in one
    example is stored as a dose_id, not leaked, when a later example draws it as a CCCD."""
    seen.update(
        value.strip()
        for row in rows
        for name, value in row.items()
        if name not in ("citizen_id", "phone") and value is not None
    )
    elsewhere = seen
    found = {
        value.strip()
        for row in rows
        for value in (row["citizen_id"], row["phone"])
        if value is not None and DIGITS.match(value.strip())
    }
    return sorted(found - elsewhere)


@pytest.fixture
def fuzz_warehouse(
    warehouse: Warehouse,
) -> tuple[Warehouse, dict[str, list[str]], set[str]]:
    """One database for all examples, its string columns, and the non-identity values the
    examples have stored in it so far."""
    refresh_reference(warehouse, PROVINCES, VACCINES)
    return warehouse, string_columns(warehouse), set()


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(batch=batches())
def test_any_batch_is_loaded_or_rejected(
    fuzz_warehouse: tuple[Warehouse, dict[str, list[str]], set[str]],
    batch: list[tuple[dict[str, str | None], set[str]]],
) -> None:
    warehouse, columns, seen = fuzz_warehouse
    source = f"fuzz:{uuid.uuid4().hex[:12]}"
    # dose ids not broken are made unique to the example; broken ones stay as drawn
    rows = [
        row if "dose_id" in broken else {**row, "dose_id": f"{source}:{row['dose_id']}"}
        for row, broken in batch
    ]
    table = pa.table(
        {name: pa.array([r[name] for r in rows], pa.string()) for name in FILE_COLUMNS}
    )

    loaded, rejected, reasons = load_batch(warehouse, table, source, 0, KEY)

    assert loaded + rejected == len(rows)
    assert set(reasons) <= REASONS and sum(reasons.values()) == rejected
    assert all(count > 0 for count in reasons.values())
    stored: dict[str, Any] = dict(
        warehouse.rows(
            "SELECT reason, count() FROM {db:Identifier}.etl_rejects FINAL "
            "WHERE source = {source:String} GROUP BY reason",
            {"source": source},
        )
    )
    assert stored == reasons
    refused = {
        int(position)
        for (position,) in warehouse.rows(
            "SELECT DISTINCT position FROM {db:Identifier}.etl_rejects "
            "WHERE source = {source:String}",
            {"source": source},
        )
    }
    assert len(refused) == rejected  # one reason per refused row
    untouched = {index + 1 for index, (_, broken) in enumerate(batch) if not broken}
    assert not untouched & refused, "a valid row was refused"
    accepted_ids = [
        row["dose_id"] or "" for position, row in enumerate(rows, 1) if position not in refused
    ]
    missing = warehouse.scalar(
        "SELECT count() FROM (SELECT arrayJoin({ids:Array(String)}) AS id) "
        "WHERE trimBoth(id) NOT IN (SELECT dose_id FROM {db:Identifier}.dose_ledger)",
        {"ids": accepted_ids},
    )
    assert missing == 0, "a row counted as loaded is not in the ledger"

    needles = canaries(rows, seen)
    if needles:
        for table_name, names in columns.items():
            text = ", '|', ".join(f"toString(`{name}`)" for name in names)
            hits = warehouse.scalar(
                f"SELECT count() FROM {{db:Identifier}}.`{table_name}` "
                f"WHERE multiSearchAny(concat({text}, ''), {{needles:Array(String)}})",
                {"needles": needles},
            )
            assert hits == 0, f"a raw CCCD or phone is in {table_name}"


def test_the_fuzzer_reaches_every_reason(warehouse: Warehouse) -> None:
    """Each rule can be broken by a value the fuzzer draws (`NASTY_SAMPLES`): a guard
    against strategies that only ever make one kind of bad row. One row per reason."""
    refresh_reference(warehouse, PROVINCES, VACCINES)
    base = {
        "dose_id": "R", "version": "1", "status": "valid", "citizen_id": "079090123456",
        "full_name": "A", "date_of_birth": "1990-05-01", "sex": "M", "phone": "",
        "province_code": "79", "site_id": "s", "vaccine_code": VACCINES[0],
        "lot_number": "l", "dose_number": "1", "administered_at": "2021-08-04 08:00:00",
    }  # fmt: skip
    breaks = {
        "missing_field": ("site_id", "   "),
        "malformed_citizen_id": ("citizen_id", "０７９０９０１２３４５６"),
        "invalid_sex": ("sex", "NaN"),
        "unparseable_date": ("date_of_birth", "2021-02-29"),
        "citizen_id_mismatch": ("citizen_id", "079190123456"),
        "unknown_province": ("province_code", "-0"),
        "dose_number_out_of_range": ("dose_number", "256"),
        "unknown_vaccine": ("vaccine_code", "'; DROP TABLE x; --"),
        "unparseable_time": ("administered_at", "yesterday"),
        "future_time": ("administered_at", "2099-01-01 08:00:00"),
        "invalid_version": ("version", "-1"),
        "invalid_status": ("status", "NULL"),
    }
    assert {value for _, value in breaks.values()} <= set(NASTY_SAMPLES)
    rows = [{**base, "dose_id": reason, name: value} for reason, (name, value) in breaks.items()]
    rows += [{**base, "dose_id": "C", "lot_number": "a"}, {**base, "dose_id": "C"}]
    table = pa.table(
        {name: pa.array([r[name] for r in rows], pa.string()) for name in FILE_COLUMNS}
    )
    loaded, rejected, reasons = load_batch(warehouse, table, "fuzz:reasons", 0, KEY)
    assert (loaded, rejected) == (0, len(rows))
    assert reasons == dict.fromkeys(breaks, 1) | {"conflicting_version": 2}
    assert set(reasons) == REASONS
