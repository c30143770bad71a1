"""The correction rows the simulator writes in bulk (registry.corrections_bulk) and the
backlog's rates (registry.backlog), on small inline records. That they equal the service's
rows is tested on real databases (tests/integration/test_correction_backlog.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo.calendar import TIME_ZONE
from registry import corrections_bulk as rows
from registry.backlog import SOURCES, requests_per_dose
from registry.corrections import REFERENCE_ALPHABET, CorrectionError

AT = pd.Timestamp("2021-10-20 09:00", tz=TIME_ZONE)
IDENTITY = {"citizen_id": "001190000001", "full_name": "Nguyen Van An",
            "date_of_birth": "1990-05-01", "sex": "M", "residence_province": "01"}  # fmt: skip


def dose(number: int, day: str, status: str = "valid", version: int = 1) -> dict[str, object]:
    return {
        "dose_id": f"VN{number:012d}", "version": version, "status": status,
        "citizen_id": IDENTITY["citizen_id"], "site_id": "01-0001", "province_code": "01",
        "vaccine_code": "EU/1/21/1529", "lot_number": "L1", "dose_number": number,
        "administered_at": pd.Timestamp(f"{day} 09:30", tz="Asia/Ho_Chi_Minh"),
        "recorded_at": pd.Timestamp(f"{day} 09:45", tz="Asia/Ho_Chi_Minh"),
    }  # fmt: skip


def test_a_missing_dose_is_numbered_among_the_valid_ones() -> None:
    record = [dose(1, "2021-08-01"), dose(2, "2021-09-01", "void"), dose(3, "2021-10-01")]
    claim = {"day": "2021-09-15", "site_id": "01-0002", "province_code": "01",
             "vaccine_code": "EU/1/21/1529", "lot_number": ""}  # fmt: skip
    approval = rows.approve(7, "missing_dose", claim, None, IDENTITY, record, AT)
    added = approval.added
    assert added is not None and added["dose_id"] == "VC000000000007"
    assert (added["dose_number"], added["lot_number"], added["site_id"]) == (
        2,
        "UNKNOWN",
        "01-0002",
    )
    assert added["administered_at"] == pd.Timestamp("2021-09-15 12:00", tz="Asia/Ho_Chi_Minh")
    # the valid dose after it is renumbered in a new version; the record given is untouched
    assert [(d["dose_id"], d["dose_number"], d["version"]) for d in approval.changed] == [
        ("VN000000000003", 4, 2)
    ]
    assert record[2]["version"] == 1 and len(approval.doses) == 4


def test_a_sixth_dose_and_a_changed_dose_are_refused_as_the_service_does() -> None:
    five = [dose(n, f"2021-0{n}-01") for n in range(1, 6)]
    claim = {"day": "2021-09-01", "site_id": "01-0001", "province_code": "01",
             "vaccine_code": "EU/1/21/1529", "lot_number": "L"}  # fmt: skip
    with pytest.raises(CorrectionError):
        rows.approve(1, "missing_dose", claim, None, IDENTITY, five, AT)
    voided = [dose(1, "2021-08-01", "void", 2)]
    with pytest.raises(CorrectionError) as error:
        rows.approve(1, "not_mine", {"dose_id": "VN000000000001"}, "VN000000000001", IDENTITY,
                     voided, AT)  # fmt: skip
    assert error.value.code == "changed"


def test_identity_gives_every_dose_a_new_version() -> None:
    record = [dose(2, "2021-09-01", "void"), dose(1, "2021-08-01")]
    approval = rows.approve(3, "identity", {"full_name": "Nguyễn Văn An"}, None, IDENTITY,
                            record, AT)  # fmt: skip
    assert approval.identity_changed and approval.identity["full_name"] == "Nguyễn Văn An"
    assert [d["dose_id"] for d in approval.changed] == ["VN000000000001", "VN000000000002"]
    assert all(d["version"] == 2 and d["recorded_at"] == AT for d in approval.changed)


def test_the_record_reads_as_the_services() -> None:
    record = [dose(2, "2021-09-01"), dose(1, "2021-08-01")]
    record[0]["version"] = np.int64(3)  # as a frame gives it
    shown = rows.record(IDENTITY, record, {"01-0001": "Điểm tiêm số 0001"})
    assert [d["dose_id"] for d in shown["doses"]] == ["VN000000000001", "VN000000000002"]
    assert shown["doses"][0]["administered_at"] == "2021-08-01T02:30:00+00:00"
    assert json.loads(json.dumps(shown))["doses"][1]["version"] == 3  # a number, not "3"
    audit = rows.rejected_audit(1, "official-01-1", AT, "Lý do / reason")
    assert json.loads(audit["after"]) == {"reason": "Lý do / reason", "status": "rejected"}


def test_references_are_reproducible_and_of_the_services_shape() -> None:
    one = [rows.reference(np.random.default_rng(1)) for _ in range(2)]
    assert one[0] == one[1]
    assert one[0].startswith("VX-") and len(one[0]) == 13
    assert set(one[0][3:]) <= set(REFERENCE_ALPHABET)


def test_the_live_rates_are_the_seeds_per_dose() -> None:
    rates = requests_per_dose(dict.fromkeys(SOURCES, 0.01))
    assert rates["voided_dose"] == pytest.approx(0.01 * SOURCES["voided_dose"].filing)
    # per person (about a third of doses are first doses), half fixed by the site
    assert 0.1 < rates["misspelt_name"] / (0.01 * SOURCES["misspelt_name"].filing) < 0.25
    # doses 1-2 only
    assert 0.5 < rates["unrecorded_dose"] / (0.01 * SOURCES["unrecorded_dose"].filing) < 1
    assert requests_per_dose({}) == dict.fromkeys(SOURCES, 0.0)
