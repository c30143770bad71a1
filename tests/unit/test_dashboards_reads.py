"""The dashboards' reads (dashboards.reads.READS) without a warehouse: every SQL file names
its parameters in its opening comment and is a read or a part of one, a statement composed
from a shared opening takes the parameters of both parts, wrong parameters are refused
before any query, and results are shaped the same whether or not the SQL returned rows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pandas as pd
import pytest

from dashboards import reads, stock
from dashboards.reads import READS
from warehouse.client import Warehouse

SQL_DIR = Path(reads.__file__).resolve().parent / "sql"
#: statements run by their own functions, and openings other reads continue
NOT_READS = {"latest_hour.sql", "source_versions.sql", "scope_and_given.sql"}


def opening_comment(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    comment = []
    for line in lines:
        if not line.startswith("--"):
            break
        comment.append(line)
    return "\n".join(comment)


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("*.sql")), ids=lambda path: path.name)
def test_every_file_opens_with_a_comment_naming_its_parameters(path: Path) -> None:
    comment = opening_comment(path)
    assert "Parameters:" in comment
    named = comment.split("Parameters:", 1)[1]
    for placeholder in set(re.findall(r"\{(\w+):", path.read_text(encoding="utf-8"))):
        assert re.search(rf"\b{placeholder}\b", named), f"{path.name} does not name {placeholder}"


def test_every_read_names_a_file_and_converts_only_its_own_columns() -> None:
    files = {path.name for path in SQL_DIR.glob("*.sql")}
    assert files == {read.file for read in READS.values()} | NOT_READS
    for name, spec in READS.items():
        assert spec.name == name
        assert (SQL_DIR / spec.file).is_file(), name
        converted = (*spec.counts, *spec.floats, *spec.times, *spec.days)
        assert set(converted) <= set(spec.columns), name
        assert set(spec.renamed.values()) <= set(spec.columns), name


def test_a_shared_opening_comes_first_and_both_parts_count_for_the_parameters() -> None:
    for spec in (READS["checkin_waits"], READS["funnel"]):
        assert spec.opening == "scope_and_given.sql"
        text = spec.sql
        assert text.startswith("WITH")
        assert text.index("given AS (") < text.index("SELECT\n")
        assert "--" not in text  # the comments of both files are dropped
        assert spec.parameters == {"province", "start", "stop"}
    assert READS["checkpoint_sources"].parameters == frozenset()
    assert READS["stock_low_sites"].parameters == {
        "province",
        "start",
        "stop",
        "days",
        "threshold",
    }


def test_wrong_parameters_are_refused_before_any_query() -> None:
    unused = cast(Warehouse, None)  # never reached: the check comes first
    with pytest.raises(TypeError, match=r"takes \['days', 'first', 'in_use', 'province'\]"):
        READS["stock_outs"].run(unused, province="01", first="2021-08-01")
    assert READS["stock_outs"].fixed == {"in_use": stock.IN_USE_DAYS}  # never named by a caller
    with pytest.raises(TypeError, match="was given"):
        READS["sites"].run(unused, province="01", start="2021-08-01")


def test_an_empty_result_has_the_columns_and_types_of_a_full_one() -> None:
    returned = pd.DataFrame(
        {
            "level": ["province"],
            "province_code": [1],
            "site_id": [""],
            "checkins": [3.0],
            "median_minutes": [15],
            "p90_minutes": [27],
        }
    )
    full = READS["checkin_waits"].shaped(returned)
    empty = READS["checkin_waits"].shaped(returned.iloc[0:0])
    assert list(full.columns) == list(empty.columns) == list(READS["checkin_waits"].columns)
    assert full.loc[0, "province_code"] == "1" and full.loc[0, "checkins"] == 3
    for column in ("checkins", "median_minutes", "p90_minutes"):
        assert full[column].dtype == empty[column].dtype, column
    assert str(full["median_minutes"].dtype) == "float64"


def test_renamed_columns_and_local_times() -> None:
    returned = pd.DataFrame(
        {
            "level": ["site"],
            "province_code": ["79"],
            "place": ["S79-A"],
            "vaccine_code": ["EU/1/21/1529"],
            "lot_number": ["LOT-79"],
            "expiry_date": [pd.Timestamp("2021-08-20").date()],
            "quantity": [None],
        }
    )
    held = READS["stock_on_hand"].shaped(returned)
    assert held.loc[0, "site_id"] == "S79-A" and held.loc[0, "quantity"] == 0
    assert held.loc[0, "expiry_date"] == pd.Timestamp("2021-08-20")
    utc = pd.DataFrame({"hour": [pd.Timestamp("2021-08-04 01:00")], "doses": [4]})
    assert READS["hour_totals"].shaped(utc).loc[0, "hour"] == pd.Timestamp("2021-08-04 08:00")
