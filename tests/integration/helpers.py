"""Data and helpers that several integration test modules share: file-drop rows for the ETL
(test_etl_files.py, test_etl_watch.py) and the canary citizen the certificate lookup finds
(test_certificates_lookup.py, test_certificates_pages.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from etl.__main__ import reference_codes
from etl.files import load_file
from etl.reference import refresh_reference
from warehouse.client import Warehouse

# -- file drops -------------------------------------------------------------------------------

KEY = bytes(range(32))
CANARY_CCCD = "079090123456"  # born 1990 in HCMC, male (century/sex digit 0)
CANARY_PHONE = "0987654321"
GOOD = {
    "dose_id": "VN-1",
    "version": "1",
    "status": "valid",
    "citizen_id": CANARY_CCCD,
    "full_name": "Trần Thị Canary",
    "date_of_birth": "1990-05-01",
    "sex": "M",
    "phone": CANARY_PHONE,
    "province_code": "79",
    "site_id": "79-0001",
    "vaccine_code": "EU/1/20/1528",
    "lot_number": "PFIZ-2108",
    "dose_number": "1",
    "administered_at": "2021-08-04 23:59:59",
}


def row(dose_id: str, **changes: str) -> dict[str, str]:
    return {**GOOD, "dose_id": dose_id, **changes}


BAD_ROWS = {
    "missing_field": row("B1", site_id=""),
    "malformed_citizen_id": row("B2", citizen_id="07919012345X"),
    "citizen_id_mismatch": row("B3", sex="F"),
    "invalid_sex": row("B4", sex="X"),
    "unparseable_date": row("B5", date_of_birth="1990-13-45"),
    "unknown_province": row("B6", province_code="99"),
    "dose_number_out_of_range": row("B7", dose_number="6"),
    "unknown_vaccine": row("B8", vaccine_code="NOT-A-VACCINE"),
    "unparseable_time": row("B9", administered_at="yesterday"),
    "future_time": row("B10", administered_at="2099-01-01 08:00:00"),
    "invalid_version": row("B11", version="0"),
    "invalid_status": row("B12", status="deleted"),
}


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


# -- the certificate lookup's canary citizen --------------------------------------------------

KEY_HEX = bytes(range(32)).hex()
CANARY_NAME = "Nguyễn Văn Canary"
DETAILS = {
    "citizen_id": CANARY_CCCD,
    "full_name": CANARY_NAME,
    "date_of_birth": "1990-05-01",
    "phone": CANARY_PHONE,
}


def canary_dose(
    dose_id: str, dose_number: int, vaccine_code: str, lot_number: str, administered_at: str
) -> dict[str, str]:
    """A file-drop row of one of the canary's doses."""
    return {
        "dose_id": dose_id,
        "citizen_id": CANARY_CCCD,
        "full_name": CANARY_NAME,
        "date_of_birth": "1990-05-01",
        "sex": "M",
        "phone": CANARY_PHONE,
        "province_code": "79",
        "site_id": "79-0001",
        "vaccine_code": vaccine_code,
        "lot_number": lot_number,
        "dose_number": str(dose_number),
        "administered_at": administered_at,
    }


@pytest.fixture(name="loaded")
def canary_loaded(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """The fixture `loaded` of the certificate tests: the canary's two doses, loaded."""
    doses = [("EU/1/21/1529", "2021-07-01 08:00:00"), ("EU/1/20/1528", "2021-09-01 08:00:00")]
    rows = [
        canary_dose(f"D{n}", n, code, f"LOT{n}", at) for n, (code, at) in enumerate(doses, start=1)
    ]
    path = tmp_path / "drop.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    refresh_reference(warehouse, *reference_codes())
    assert load_file(warehouse, path, bytes.fromhex(KEY_HEX)).loaded == 2
    return warehouse
