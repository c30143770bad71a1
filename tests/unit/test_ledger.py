"""The ledger planner: signed rows that keep counts exact under corrections and voids."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.doses import dose, states
from warehouse.ledger import STATE_COLUMNS, normalise_states, plan_ledger_rows

NOTHING = states()


def signed(plan_rows: pd.DataFrame) -> list[tuple[str, int, str, int]]:
    return sorted(
        (row.dose_id, int(row.version), row.status, int(row.sign)) for row in plan_rows.itertuples()
    )


def test_new_doses_get_one_positive_row_each() -> None:
    plan = plan_ledger_rows(states(dose("a"), dose("b")), NOTHING)
    assert signed(plan.rows) == [("a", 1, "valid", 1), ("b", 1, "valid", 1)]
    assert (plan.new, plan.changed, plan.stale) == (2, 0, 0)


def test_correction_cancels_the_stored_state_with_its_own_values() -> None:
    stored = states(dose("a", province_code="01"))
    plan = plan_ledger_rows(states(dose("a", version=2, province_code="79")), stored)
    assert signed(plan.rows) == [("a", 1, "valid", -1), ("a", 2, "valid", 1)]
    cancel = plan.rows[plan.rows["sign"] == -1].iloc[0]
    assert cancel["province_code"] == "01"  # the cancel row repeats what it cancels
    assert plan.changed == 1


def test_void_cancels_and_keeps_a_void_state() -> None:
    stored = states(dose("a"))
    plan = plan_ledger_rows(states(dose("a", version=2, status="void")), stored)
    assert signed(plan.rows) == [("a", 1, "valid", -1), ("a", 2, "void", 1)]


@pytest.mark.parametrize("late_version", [1, 2])
def test_older_or_identical_versions_change_nothing(late_version: int) -> None:
    stored = states(dose("a", version=2, status="void"))
    incoming = states(
        dose("a", version=late_version, status="void" if late_version == 2 else "valid")
    )
    plan = plan_ledger_rows(incoming, stored)
    assert plan.rows.empty
    assert plan.stale == 1 and plan.conflicts.empty


def test_same_version_with_other_content_is_a_conflict() -> None:
    stored = states(dose("a"))
    plan = plan_ledger_rows(states(dose("a", lot_number="LOT-B")), stored)
    assert plan.rows.empty
    assert plan.conflicts.to_dict("records") == [{"dose_id": "a", "version": 1}]


def test_recorded_at_and_source_do_not_make_a_conflict() -> None:
    stored = states(dose("a"))
    incoming = states(dose("a", recorded_at="2021-08-05 10:00:00", source="file"))
    plan = plan_ledger_rows(incoming, stored)
    assert plan.rows.empty and plan.conflicts.empty and plan.stale == 1


def test_highest_version_in_a_batch_wins_whatever_the_order() -> None:
    incoming = states(dose("a", version=3), dose("a", version=1), dose("a", version=2))
    plan = plan_ledger_rows(incoming, NOTHING)
    assert signed(plan.rows) == [("a", 3, "valid", 1)]
    assert (plan.new, plan.stale) == (1, 2)


def test_conflicting_copies_inside_a_batch_are_reported_not_written() -> None:
    incoming = states(dose("a"), dose("a", site_id="S79-001"), dose("b"))
    plan = plan_ledger_rows(incoming, NOTHING)
    assert signed(plan.rows) == [("b", 1, "valid", 1)]
    assert plan.conflicts.to_dict("records") == [{"dose_id": "a", "version": 1}]
    assert plan.new + plan.changed + plan.stale + 2 == len(incoming)


def test_naive_times_are_local_and_offsets_are_converted() -> None:
    naive = states(dose("a", administered_at="2021-08-04 23:59:59"))
    utc = states(dose("b", administered_at=pd.Timestamp("2021-08-04T17:00:00Z")))
    shown = [
        frame["administered_at"].dt.strftime("%Y-%m-%d %H:%M:%S%z").iloc[0]
        for frame in (naive, utc)
    ]
    assert shown == ["2021-08-04 23:59:59+0700", "2021-08-05 00:00:00+0700"]


def test_normalise_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="citizen_key"):
        normalise_states(pd.DataFrame({c: [] for c in STATE_COLUMNS if c != "citizen_key"}))
