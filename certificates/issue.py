"""Issue a citizen's certificate: doses → DCC → signed HC1 text → QR image.

The DCC (schema 1.3.0) states the citizen's latest dose with ``dn``/``sd`` from the status
rules (`certificates.rules`), the value-set codes of its product (``geo/products.csv``), the
date of that dose (local date, Asia/Ho_Chi_Minh), country VN, and a certificate id derived
from the citizen key and the doses it states (the same record gives the same id). Names are
written as recorded and transliterated for ``fnt``/``gnt`` (ICAO 9303: letters without
diacritics, "Đ" as "D", anything else as "<"). Vietnamese order: the first word of the
full name is the family name.

`build_dcc` and `issue` are pure (given the key and the clock); `load_identities` and
`load_doses_of` read the warehouse (`certificates.reads` shares their statements between
concurrent lookups). Imports go one way: `certificates.reads` builds on this module, and
`certificate_card` names what it needs of it by a protocol (`CitizenRecords`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from certificates import cose, hcert, rules
from certificates.keys import ISSUER_COUNTRY, SigningKey
from geo.calendar import LOCAL_ZONE
from warehouse import pseudonyms
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

DCC_VERSION = "1.3.0"
DISEASE_COVID19 = "840539006"
ISSUER_NAME = "Ministry of Health of Viet Nam"
VALIDITY = dt.timedelta(days=365)
_NAME_MAX = 80


class NoCertificateError(Exception):
    """The citizen has no live dose, so there is nothing to certify."""


@dataclass(frozen=True)
class Identity:
    full_name: str
    date_of_birth: dt.date
    sex: str
    phone_hash: str


@dataclass(frozen=True)
class Dose:
    dose_id: str
    version: int
    vaccine_code: str
    dose_number: int
    administered_at: dt.datetime
    lot_number: str
    province_code: str
    site_id: str


@dataclass(frozen=True)
class Issued:
    text: str
    payload: dict[str, Any]
    progress: rules.Progress
    issued_at: dt.datetime
    expires_at: dt.datetime
    kid: bytes


def transliterate(name: str) -> str:
    """ICAO 9303 machine-readable form: A-Z and '<' only."""
    plain = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(c for c in plain if not unicodedata.combining(c)).upper()
    return re.sub(r"<+", "<", re.sub(r"[^A-Z]", "<", letters)).strip("<")[:_NAME_MAX]


def split_name(full_name: str) -> tuple[str, str]:
    """(family name, given names) of a name written in Vietnamese order."""
    words = full_name.split()
    if not words:
        raise ValueError("empty name")
    return words[0], " ".join(words[1:])


def certificate_id(citizen_key: str, doses: Sequence[Dose]) -> str:
    digest = hashlib.sha256(
        "|".join([citizen_key, *(f"{d.dose_id}:{d.version}" for d in doses)]).encode()
    ).digest()
    opaque = base64.b32encode(digest[:16]).decode("ascii").rstrip("=")
    return f"URN:UVCI:01:{ISSUER_COUNTRY}:{opaque}"


def build_dcc(citizen_key: str, identity: Identity, doses: Sequence[Dose]) -> dict[str, Any]:
    """The DCC payload for these doses (in order of administration)."""
    if not doses:
        raise NoCertificateError("no live dose")
    progress = rules.progress([d.vaccine_code for d in doses])
    last = doses[-1]
    product = rules.products()[last.vaccine_code]
    family, given = split_name(identity.full_name)
    name: dict[str, str] = {"fn": family[:_NAME_MAX], "fnt": transliterate(family)}
    if given:
        name |= {"gn": given[:_NAME_MAX], "gnt": transliterate(given)}
    return {
        "ver": DCC_VERSION,
        "nam": name,
        "dob": identity.date_of_birth.isoformat(),
        "v": [
            {
                "tg": DISEASE_COVID19,
                "vp": product.prophylaxis,
                "mp": product.code,
                "ma": product.manufacturer,
                "dn": progress.dn,
                "sd": progress.sd,
                "dt": last.administered_at.astimezone(LOCAL_ZONE).date().isoformat(),
                "co": ISSUER_COUNTRY,
                "is": ISSUER_NAME,
                "ci": certificate_id(citizen_key, doses),
            }
        ],
    }


def issue(
    citizen_key: str,
    identity: Identity,
    doses: Sequence[Dose],
    signing: SigningKey,
    now: dt.datetime,
    validity: dt.timedelta = VALIDITY,
) -> Issued:
    """Sign the citizen's certificate and encode it as QR text."""
    payload = build_dcc(citizen_key, identity, doses)
    issued_at = now.astimezone(dt.UTC).replace(microsecond=0)
    expires_at = issued_at + validity
    claims = hcert.encode_claims(
        payload, ISSUER_COUNTRY, int(issued_at.timestamp()), int(expires_at.timestamp())
    )
    text = hcert.encode_text(cose.sign_es256(claims, signing.private_key, signing.kid))
    progress = rules.progress([d.vaccine_code for d in doses])
    return Issued(text, payload, progress, issued_at, expires_at, signing.kid)


def citizen_key(pseudonym_key: bytes, citizen_id: str, phone: str = "") -> tuple[str, str]:
    """(citizen key, phone hash) of a CCCD and phone, as the ETL makes them (in Python:
    `warehouse.pseudonyms`, equal to the ETL's SQL)."""
    from warehouse.pseudonyms import pseudonym_parts

    k0, k1 = pseudonym_parts(pseudonym_key)
    return pseudonyms.citizen_key(k0, k1, citizen_id), pseudonyms.phone_hash(k0, k1, phone)


def load_identities(warehouse: Warehouse, keys: Sequence[str]) -> dict[str, Identity]:
    """The identities on record for citizen keys (restricted table), in one statement;
    keys nobody has are left out."""
    found = warehouse.rows(
        sql_beside(__file__, "identities_by_key.sql"), {"citizen_keys": list(keys)}
    )
    return {
        str(key): Identity(str(full_name), born, str(sex), str(phone_hash))
        for key, full_name, born, sex, phone_hash in found
    }


def load_identity(warehouse: Warehouse, key: str) -> Identity | None:
    """The identity on record for a citizen key (restricted table), or None."""
    return load_identities(warehouse, [key]).get(key)


def _dose(row: Mapping[str, Any]) -> Dose:
    return Dose(
        str(row["dose_id"]),
        int(row["version"]),
        str(row["vaccine_code"]),
        int(row["dose_number"]),
        row["administered_at"],
        str(row["lot_number"]),
        str(row["province_code"]),
        str(row["site_id"]),
    )


def load_doses_of(warehouse: Warehouse, keys: Sequence[str]) -> dict[str, tuple[Dose, ...]]:
    """Each citizen's live doses in order of administration, in one statement."""
    from warehouse.citizens import citizens_dose_rows

    rows = citizens_dose_rows(warehouse, list(keys))
    return {key: tuple(_dose(row) for row in found) for key, found in rows.items()}


def mask_name(full_name: str) -> str:
    """Family name in full, other names as initials: "Nguyễn Văn An" → "Nguyễn V. A."."""
    family, given = split_name(full_name)
    return " ".join([family, *(f"{word[0]}." for word in given.split())])


@cache
def _province_names() -> Mapping[str, str]:
    """GSO province code → Vietnamese name (read once per process)."""
    from geo.provinces import load_provinces

    return dict(load_provinces()[["gso_code", "name_vi"]].itertuples(index=False))


def card(identity: Identity, doses: Sequence[Dose], issued: Issued, png: bytes) -> dict[str, Any]:
    """What the citizen sees: colour, masked identity, doses, the QR (no full identifiers)."""
    names = _province_names()
    catalogue = rules.products()
    return {
        "status": issued.progress.status,
        "boosters": issued.progress.boosters,
        "series": issued.progress.series_doses,
        "name": mask_name(identity.full_name),
        "birth_year": identity.date_of_birth.year,
        "doses": [
            {
                "id": d.dose_id,
                "date": d.administered_at.astimezone(LOCAL_ZONE).date().isoformat(),
                "product": catalogue[d.vaccine_code].display
                if d.vaccine_code in catalogue
                else d.vaccine_code,
                "lot": d.lot_number,
                "province": names.get(d.province_code, d.province_code),
            }
            for d in doses
        ],
        "hc1": issued.text,
        "png": base64.b64encode(png).decode("ascii"),
        "valid_until": issued.expires_at.date().isoformat(),
    }


class CitizenRecords(Protocol):
    """Where a lookup finds a citizen's record (`certificates.reads.CitizenReads`)."""

    def citizen(self, key: str) -> tuple[Identity | None, tuple[Dose, ...]]: ...


def certificate_card(
    reads: CitizenRecords, key: str, signing: SigningKey, now: dt.datetime
) -> dict[str, Any] | None:
    """What a confirmed lookup answers: the card with a freshly signed certificate and its
    QR PNG; None when the person has no identity on record or no live dose."""
    from certificates import qr

    identity, doses = reads.citizen(key)
    if identity is None or not doses:
        return None
    issued = issue(key, identity, doses, signing, now)
    return card(identity, doses, issued, qr.qr_png(issued.text))
