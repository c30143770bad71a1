"""Issuance on real parts: a file drop through the ETL into chDB, the citizen found by CCCD,
the certificate signed, drawn as a PNG, read back by zxing-cpp and verified; key rotation
and the published trust list."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import flask
import pandas as pd
import pytest

from certificates import issue, keys, qr, schema, verify
from certificates.reads import CitizenReads
from certificates.trust import TrustList
from certificates.web import certificate_service, register_certificates
from etl.__main__ import reference_codes
from etl.files import load_file
from etl.reference import refresh_reference
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

KEY = bytes(range(32))
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
PEOPLE = {
    # CCCD: (name, born, sex, phone, doses as (product, local time))
    "079090123456": (
        "Nguyễn Văn An",
        "1990-05-01",
        "M",
        "0987654321",
        [
            ("EU/1/21/1529", "2021-07-01 08:00:00"),
            ("EU/1/21/1529", "2021-09-20 08:00:00"),
            ("EU/1/20/1528", "2022-01-10 23:30:00"),
        ],
    ),
    "001185000077": (
        "Trần Thị Đào",
        "1985-02-03",
        "F",
        "",
        [("BBIBP-CorV", "2021-08-04 10:00:00")],
    ),
    "048076000001": (
        "Lê Minh",
        "1976-12-31",
        "M",
        "0911000111",
        [("EU/1/20/1525", "2021-10-02 09:00:00")],
    ),
}


def settings_for(tmp_path: Path) -> Settings:
    return Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")})


@pytest.fixture
def loaded(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    rows = [
        {
            "dose_id": f"{cccd}-{number}",
            "citizen_id": cccd,
            "full_name": name,
            "date_of_birth": born,
            "sex": sex,
            "phone": phone,
            "province_code": "79",
            "site_id": "79-0001",
            "vaccine_code": product,
            "lot_number": f"LOT-{number}",
            "dose_number": str(number),
            "administered_at": at,
        }
        for cccd, (name, born, sex, phone, doses) in PEOPLE.items()
        for number, (product, at) in enumerate(doses, start=1)
    ]
    path = tmp_path / "drop.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    refresh_reference(warehouse, *reference_codes())
    report = load_file(warehouse, path, KEY)
    assert report.loaded == len(rows) and report.rejected == 0
    return warehouse


@pytest.mark.parametrize(
    ("cccd", "status", "dn_sd", "product"),
    [
        ("079090123456", "green", (3, 3), "EU/1/20/1528"),
        ("001185000077", "yellow", (1, 2), "BBIBP-CorV"),
        ("048076000001", "green", (1, 1), "EU/1/20/1525"),
    ],
)
def test_issue_png_decode_verify(
    loaded: Warehouse,
    tmp_path: Path,
    cccd: str,
    status: str,
    dn_sd: tuple[int, int],
    product: str,
) -> None:
    name, born, _, phone, doses = PEOPLE[cccd]
    citizen_key, phone_hash = issue.citizen_key(KEY, cccd, phone)
    assert cccd not in citizen_key
    reads = CitizenReads(loaded, KEY)
    identity, found = reads.citizen(citizen_key)
    found = list(found)
    assert identity is not None and identity.full_name == name
    assert identity.phone_hash == phone_hash  # the ETL and the lookup key people alike
    assert [d.vaccine_code for d in found] == [p for p, _ in doses]
    # the code request's read finds the same person, key and phone hash
    assert reads.find_identity(cccd, phone) == (citizen_key, identity, phone_hash)

    signing = keys.ensure(settings_for(tmp_path), NOW)
    issued = issue.issue(citizen_key, identity, found, signing, NOW)
    assert issued.progress.status == status
    assert not schema.problems(issued.payload)
    entry = issued.payload["v"][0]
    assert (entry["dn"], entry["sd"], entry["mp"]) == (*dn_sd, product)
    assert entry["dt"] == doses[-1][1][:10]  # local date, even at 23:30
    assert issued.payload["dob"] == born

    png = qr.qr_png(issued.text)
    assert png.startswith(b"\x89PNG")
    assert qr.decode_qr(png) == issued.text  # an independent reader of the image
    result = verify.verify_image(png, TrustList.of([signing.signer]), NOW)
    assert result.valid, result.reasons
    assert result.stages["qr"] is True
    assert result.to_json()["status"] == status
    # a year later the same certificate has expired
    late = verify.verify_image(png, TrustList.of([signing.signer]), NOW + dt.timedelta(days=366))
    assert late.failed_stage == "expiry"


def test_unknown_person_and_wrong_phone(loaded: Warehouse) -> None:
    reads = CitizenReads(loaded, KEY)
    key, _ = issue.citizen_key(KEY, "079090999999")
    assert reads.citizen(key) == (None, ())
    assert reads.find_identity("079090999999", "0900000000") == ("", None, "")
    real_key, wrong_phone = issue.citizen_key(KEY, "079090123456", "0900000000")
    identity, _ = reads.citizen(real_key)
    assert identity is not None and identity.phone_hash != wrong_phone
    assert reads.find_identity("079090123456", "0900000000") == (
        real_key,
        identity,
        wrong_phone,
    )
    with pytest.raises(issue.NoCertificateError):
        issue.build_dcc(key, identity, [])


def test_rotation_keeps_earlier_certificates_verifiable(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    identity = issue.Identity("Phạm Thị Hoa", dt.date(2000, 1, 2), "F", "")
    doses = [
        issue.Dose("d1", 1, "EU/1/20/1507", 1, NOW - dt.timedelta(days=60), "L1", "01", "S"),
        issue.Dose("d2", 1, "EU/1/20/1507", 2, NOW - dt.timedelta(days=30), "L2", "01", "S"),
    ]
    first = keys.ensure(settings, NOW)
    old = issue.issue("k1", identity, doses, first, NOW).text
    second = keys.rotate(settings, NOW)
    new = issue.issue("k1", identity, doses, second, NOW).text
    assert first.kid != second.kid
    trust = keys.trust_list(settings)
    for text in (old, new):
        assert verify.verify_text(text, trust, NOW).valid
    # only the new key without the kept certificates
    assert not verify.verify_text(old, TrustList.of([second.signer]), NOW).valid
    # production never generates a key
    production = Settings.from_env(
        {
            "VAX_MODE": "production",
            "VAX_WAREHOUSE_DSN": "http://localhost:8123",
            "VAX_SOURCE_DSN": "sqlite:///x",
            "VAX_SECRET_KEY": "s",
            "VAX_PSEUDONYM_KEY": "00" * 32,
            "VAX_SIGNING_KEY_PATH": str(tmp_path / "prod" / "key.pem"),
            "VAX_SIGNING_CERT_PATH": str(tmp_path / "prod" / "cert.pem"),
        }
    )
    with pytest.raises(keys.KeyStoreError, match="production"):
        keys.ensure(production)
    assert not (tmp_path / "prod").exists()


def test_trust_list_endpoint(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    keys.ensure(settings, NOW)
    keys.rotate(settings, NOW)
    app = flask.Flask("test")
    Services(settings=settings, warehouse=None).attach(app)
    register_certificates(app)
    response = app.test_client().get("/api/v1/trust-list")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    assert document["issuer"] == "VN" and len(document["keys"]) == 2
    listed = TrustList.from_json(document)
    current = certificate_service(app).signing
    assert listed.candidates(current.kid)[0].der == current.signer.der
    assert base64.b64encode(current.kid).decode() in document["keys"]
    assert "public" in response.headers["Cache-Control"]


def test_identity_loaded_later_wins(loaded: Warehouse, tmp_path: Path) -> None:
    """A correction of a person's details (a later load: new phone, name spelled right) is
    what both lookup reads answer, as FINAL would."""
    cccd = "048076000001"
    row = {
        "dose_id": f"{cccd}-1",
        "version": "2",
        "citizen_id": cccd,
        "full_name": "Lê Minh Châu",
        "date_of_birth": "1976-12-31",
        "sex": "M",
        "phone": "0911000222",
        "province_code": "79",
        "site_id": "79-0001",
        "vaccine_code": "EU/1/20/1525",
        "lot_number": "LOT-1",
        "dose_number": "1",
        "administered_at": "2021-10-02 09:00:00",
    }
    path = tmp_path / "correction.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    assert load_file(loaded, path, KEY).loaded == 1
    key, identity, phone_hash = CitizenReads(loaded, KEY).find_identity(cccd, "0911000222")
    assert identity is not None and identity.full_name == "Lê Minh Châu"
    assert identity.phone_hash == phone_hash
    assert issue.load_identity(loaded, key) == identity


def test_concurrent_lookups_each_get_their_own_person(loaded: Warehouse) -> None:
    """Reads shared between threads (one statement for several people) still hand every
    caller the identity and doses of the person it asked for."""
    from concurrent.futures import ThreadPoolExecutor

    reads = CitizenReads(loaded, KEY)
    alone = {cccd: reads.citizen(issue.citizen_key(KEY, cccd)[0]) for cccd in PEOPLE}
    asked = [*PEOPLE, "079090999999"] * 40

    def look(cccd: str) -> tuple[str, object]:
        key, identity, _ = reads.find_identity(cccd)
        return cccd, (identity, reads.citizen(key)[1]) if key else None

    with ThreadPoolExecutor(12) as pool:
        for cccd, found in pool.map(look, asked):
            assert found == alone.get(cccd)
    # every code request's identity (the lingering reads), then each found person's again
    assert reads.typed_identities.keys == (len(PEOPLE) + 1) * 40
    assert reads.identities.keys == len(PEOPLE) * 40 + len(PEOPLE)
