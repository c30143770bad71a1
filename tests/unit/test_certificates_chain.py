"""The HCERT chain and its verifier on certificates made here, one failure mode at a time."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zlib
from typing import Any

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from certificates import cose, hcert, keys, schema, verify
from certificates.trust import Signer, TrustError, TrustList, kid_of
from tests.certificates_helpers import DCC

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def platform() -> tuple[ec.EllipticCurvePrivateKey, Signer]:
    key, der = keys.generate(NOW, "test")
    return key, Signer.from_der(der)


def claims(dcc: dict[str, Any] = DCC, iat: dt.datetime = NOW, days: int = 365) -> bytes:
    issued = int(iat.timestamp())
    return hcert.encode_claims(dcc, "VN", issued, issued + days * 86400)


def issue(platform: tuple[ec.EllipticCurvePrivateKey, Signer], payload: bytes) -> str:
    key, signer = platform
    return hcert.encode_text(cose.sign_es256(payload, key, signer.kid))


def cose_ok(result: verify.Verification) -> bool:
    """Every stage from cose on passed (verify_cose starts there)."""
    return all(result.stages[stage] is True for stage in verify.STAGES[4:])


def wrap(message: bytes) -> str:
    return hcert.PREFIX + base45.b45encode(zlib.compress(message)).decode()


def test_issued_certificate_verifies_at_every_stage(platform: Any) -> None:
    text = issue(platform, claims())
    result = verify.verify_text(text, TrustList.of([platform[1]]), NOW)
    assert result.valid
    assert result.stages == {"qr": None, **dict.fromkeys(verify.STAGES[1:], True)}
    document = result.to_json()
    assert document["status"] == "green" and document["payload"] == DCC
    assert document["alg"] == "ES256" and document["kid"] == platform[1].kid.hex()
    assert json.loads(json.dumps(document)) == document


def test_text_alphabet_fits_qr_alphanumeric_mode(platform: Any) -> None:
    alphabet = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(issue(platform, claims())) <= alphabet


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("HC2:6BFOXN%TS3DH", "prefix"),
        ("6BFOXN%TS3DH", "prefix"),
        ("HC1:6BFOXN%TS3D~", "base45"),
        ("HC1:" + base45.b45encode(b"not zlib at all").decode(), "zlib"),
        ("HC1:" + base45.b45encode(zlib.compress(b"x" * 50)[:-6]).decode(), "zlib"),
        (wrap(cbor2.dumps([1, 2, 3])), "cose"),
        (wrap(cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""]))), "cose"),
    ],
)
def test_each_decoding_stage_fails_alone(text: str, stage: str) -> None:
    result = verify.verify_text(text, TrustList(), NOW)
    assert result.failed_stage == stage and not result.valid
    index = verify.STAGES.index(stage)
    assert all(result.stages[s] is True for s in verify.STAGES[1:index])
    assert all(result.stages[s] is None for s in verify.STAGES[index + 1 :])
    assert result.reasons[stage]


def test_broken_claims_fail_the_cbor_stage(platform: Any) -> None:
    key, signer = platform
    text = hcert.encode_text(cose.sign_es256(cbor2.dumps({1: "VN"}), key, signer.kid))
    result = verify.verify_text(text, TrustList.of([signer]), NOW)
    assert result.stages["signature"] is True
    assert result.failed_stage == "cbor"
    assert result.stages["expiry"] is None and result.stages["schema"] is None


def test_expiry_uses_the_given_clock(platform: Any) -> None:
    text = issue(platform, claims(days=30))
    trust = TrustList.of([platform[1]])
    assert verify.verify_text(text, trust, NOW + dt.timedelta(days=29)).valid
    late = verify.verify_text(text, trust, NOW + dt.timedelta(days=31))
    early = verify.verify_text(text, trust, NOW - dt.timedelta(seconds=1))
    assert late.failed_stage == early.failed_stage == "expiry"


def test_unknown_kid_and_tampered_signature(platform: Any) -> None:
    _, other_der = keys.generate(NOW, "other")
    text = issue(platform, claims())
    assert (
        verify.verify_text(text, TrustList.of([Signer.from_der(other_der)]), NOW)
        .reasons["signature"]
        .startswith("no trusted signer")
    )
    message = cose.decode_sign1(hcert.inflate(hcert.b45decode(hcert.strip_prefix(text))))
    forged = cbor2.dumps(
        cbor2.CBORTag(
            18,
            [
                message.protected_bytes,
                {},
                claims(dict(DCC, dob="1991-04-01")),
                message.signature,
            ],
        )
    )
    result = verify.verify_cose(forged, TrustList.of([platform[1]]), NOW)
    assert result.failed_stage == "signature" and result.stages["key_usage"] is None


def test_untagged_cwt_tagged_and_unprotected_kid(platform: Any) -> None:
    key, signer = platform
    trust = TrustList.of([signer])
    tagged = cbor2.loads(cose.sign_es256(claims(), key, signer.kid))
    untagged = cbor2.dumps(tagged.value)
    in_cwt = cbor2.dumps(cbor2.CBORTag(61, tagged))
    for message in (untagged, in_cwt):
        assert cose_ok(verify.verify_cose(message, trust, NOW))
    # kid only in the unprotected header: the protected bytes keep only alg
    protected = cbor2.dumps({1: -7})
    signature = key.sign(cose.signed_bytes(protected, claims()), ec.ECDSA(hashes.SHA256()))
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(signature)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    unprotected = cbor2.dumps(cbor2.CBORTag(18, [protected, {4: signer.kid}, claims(), raw]))
    assert cose_ok(verify.verify_cose(unprotected, trust, NOW))
    # alg only in the unprotected header is refused (HCERT 3.3.1)
    bare = cbor2.dumps(cbor2.CBORTag(18, [b"", {1: -7, 4: signer.kid}, claims(), raw]))
    assert verify.verify_cose(bare, trust, NOW).failed_stage == "signature"


def test_ps256_verifies_and_wrong_key_type_does_not() -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    signer = Signer.from_der(certificate.public_bytes(Encoding.DER))
    protected = cbor2.dumps({1: -37, 4: signer.kid})
    signature = key.sign(
        cose.signed_bytes(protected, claims()),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, claims(), signature]))
    result = verify.verify_cose(message, TrustList.of([signer]), NOW)
    assert cose_ok(result) and result.to_json()["alg"] == "PS256"
    assert signer.usages is None  # no HCERT EKU: may sign any type
    es_as_ps = cose.Sign1(protected, {1: -37}, {}, claims(), signature)
    assert not cose.verify_signature(es_as_ps, ec.generate_private_key(ec.SECP256R1()).public_key())


def test_key_usage_limits_the_certificate_type(platform: Any) -> None:
    test_payload = {
        "ver": "1.3.0",
        "nam": {"fnt": "TRAN"},
        "dob": "1990",
        "t": [
            {
                "tg": "840539006",
                "tt": "LP6464-4",
                "sc": "2021-08-01T10:00:00Z",
                "tr": "260415000",
                "tc": "Site",
                "co": "VN",
                "is": "MoH",
                "ci": "URN:UVCI:01:VN:T1",
            }
        ],
    }
    assert not schema.problems(test_payload)
    result = verify.verify_text(
        issue(platform, claims(test_payload)), TrustList.of([platform[1]]), NOW
    )
    assert platform[1].usages == frozenset({"v"})
    assert result.failed_stage == "key_usage"


def test_schema_stage_by_version_and_value_sets(platform: Any) -> None:
    trust = TrustList.of([platform[1]])
    bad_code = json.loads(json.dumps(DCC))
    bad_code["v"][0]["ma"] = "ORG-99999999"
    two_types = dict(DCC, r=[])
    old_shape = dict(DCC, ver="1.0.4", v=DCC["v"] * 2)
    outcomes = {
        name: verify.verify_text(issue(platform, claims(payload)), trust, NOW)
        for name, payload in {"code": bad_code, "types": two_types, "old": old_shape}.items()
    }
    assert outcomes["code"].failed_stage == "schema"
    assert "vaccine-mah-manf" in outcomes["code"].reasons["schema"]
    assert outcomes["types"].stages["schema"] is False  # and key usage: the type is ambiguous
    assert outcomes["old"].valid  # 1.0.4 is read with 1.0.1, which allows two entries
    assert schema.release_for("1.0.4") == (1, 0, 1)
    assert schema.release_for("1.3.3") == (1, 3, 3)
    assert schema.release_for("2.0.0") is None and schema.release_for(13) is None
    assert schema.problems(dict(DCC, v=DCC["v"] * 2))  # 1.3.0: one entry at most


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-05-03T18:00:00Z", "2021-05-03T18:00:00+00:00"),
        ("2021-05-03T20:00:00+02:00", "2021-05-03T18:00:00+00:00"),
        ("2021-05-03T20:00:00+0200", "2021-05-03T18:00:00+00:00"),
        ("2021-05-03T18:00:00", "2021-05-03T18:00:00+00:00"),
        ("2021-05-03T18:00:00.123456789Z", "2021-05-03T18:00:00.123456+00:00"),
        ("2021-05-03T18:00:00.5+01:00", "2021-05-03T17:00:00.500000+00:00"),
    ],
)
def test_validation_clock_spellings(text: str, expected: str) -> None:
    assert verify.parse_instant(text).astimezone(dt.UTC).isoformat() == expected


def test_bad_clock_is_an_error() -> None:
    with pytest.raises(verify.ClockError):
        verify.parse_instant("yesterday")


def test_trust_list_round_trip_and_refusals(platform: Any, tmp_path: Any) -> None:
    signer = platform[1]
    document = TrustList.of([signer]).to_json()
    assert TrustList.from_json(document).signers == (signer,)
    assert TrustList.from_json(document["keys"]).signers == (signer,)
    (tmp_path / "list.json").write_text(json.dumps(document))
    (tmp_path / "cert.pem").write_text(signer.pem)
    (tmp_path / "cert.der").write_bytes(signer.der)
    for name in ("list.json", "cert.pem", "cert.der"):
        assert TrustList.load(tmp_path / name).candidates(signer.kid) == [signer]
    wrong_kid = {"keys": {"AAAAAAAAAAA=": document["keys"][next(iter(document["keys"]))]}}
    with pytest.raises(TrustError, match="does not match"):
        TrustList.from_json(wrong_kid)
    with pytest.raises(TrustError):
        TrustList.load(tmp_path / "missing.pem")
    assert kid_of(signer.der) == signer.kid and len(signer.kid) == 8


# -- crafted inputs: the verifier answers with a failed stage, never raises ----------------------

_BIG = cbor2.CBORTag(2, b"\xff" * 2000)  # an integer of 4817 digits: beyond str()'s limit
_VALUES_WITHOUT_JSON = [
    cbor2.CBORTag(4, [-2, 12345]),  # Decimal
    cbor2.CBORTag(5, [-1, 3]),  # Decimal (big float)
    cbor2.CBORTag(30, [1, 3]),  # Fraction
    cbor2.CBORTag(35, "a+"),  # re.Pattern
    cbor2.CBORTag(36, "Subject: x\n\nbody"),  # email Message
    cbor2.CBORTag(37, b"0" * 16),  # UUID
    cbor2.CBORTag(258, [1, 2]),  # set
    cbor2.CBORTag(260, b"\x7f\x00\x00\x01"),  # IPv4Address
    cbor2.CBORTag(261, {b"\x0a\x00\x00\x00": 8}),  # IPv4Network
    cbor2.CBORSimpleValue(40),
    cbor2.undefined,
    float("nan"),
    float("inf"),
    -float("inf"),
    2**1024,  # beyond a double: a browser's JSON has no number for it
    _BIG,
]


def _entry(**change: Any) -> dict[str, Any]:
    return {**DCC, "v": [{**DCC["v"][0], **change}]}


def _cwt(dcc: Any, iat: Any = None, exp: Any = None) -> bytes:
    iat = int(NOW.timestamp()) - 60 if iat is None else iat
    return cbor2.dumps({1: "VN", 6: iat, 4: 1_900_000_000 if exp is None else exp, -260: {1: dcc}})


CRAFTED = {
    "iat NaN": (_cwt(DCC, iat=float("nan")), "expiry"),
    "exp infinity": (_cwt(DCC, exp=float("inf")), "expiry"),
    "iat minus infinity": (_cwt(DCC, iat=-float("inf")), "expiry"),
    "tg a list": (_cwt(_entry(tg=["x"])), "schema"),
    "ma a map": (_cwt(_entry(ma={"a": 1})), "schema"),
    "tg a bignum": (_cwt(_entry(tg=_BIG)), "schema"),
    "ver 1.3.² (superscript two)": (_cwt({**DCC, "ver": "1.3.²"}), "schema"),
    "ver 1.3.① (circled one)": (_cwt({**DCC, "ver": "1.3.①"}), "schema"),
    "ver fullwidth １.３.０": (_cwt({**DCC, "ver": "１.３.０"}), "schema"),
    "ver a bignum": (_cwt({**DCC, "ver": _BIG}), "schema"),
    "dn a Decimal": (_cwt(_entry(dn=cbor2.CBORTag(4, [0, 2]))), "schema"),
    "dn NaN": (_cwt(_entry(dn=float("nan"))), "schema"),
    "dn a bignum": (_cwt(_entry(dn=_BIG)), "schema"),
    "dn beyond a double": (_cwt(_entry(dn=2**1024)), "schema"),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_payloads_fail_a_stage_and_give_plain_json(platform: Any, name: str) -> None:
    payload, stage = CRAFTED[name]
    result = verify.verify_text(issue(platform, payload), TrustList.of([platform[1]]), NOW)
    assert result.failed_stage == stage and not result.valid, result.reasons
    assert result.stages["signature"] is True and result.reasons[stage]
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert document["failed_stage"] == stage


def test_crafted_payloads_without_a_valid_signature_still_answer(platform: Any) -> None:
    """The cbor, expiry and schema stages run after a failed signature: no key is needed."""
    for payload, stage in CRAFTED.values():
        message = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7}), {}, payload, b"x" * 64]))
        result = verify.verify_text(wrap(message), TrustList.of([platform[1]]), NOW)
        assert result.failed_stage == "signature" and result.stages[stage] is False
        json.dumps(result.to_json(), allow_nan=False)


def test_values_json_has_no_form_for_become_null(platform: Any) -> None:
    dcc = {**DCC, "x": _VALUES_WITHOUT_JSON, 10**5000: [2**1024 - 2**970 - 1], (1, (_BIG,)): 0}
    result = verify.verify_text(issue(platform, _cwt(dcc)), TrustList.of([platform[1]]), NOW)
    assert result.valid  # the extra members are allowed; only their JSON form changes
    payload = json.loads(json.dumps(result.to_json(), allow_nan=False))["payload"]
    assert payload["x"] == [None] * len(_VALUES_WITHOUT_JSON)
    assert payload["1" + "0" * 5000] == [2**1024 - 2**970 - 1]  # the largest that fits a double
    assert payload["(1, (" + str(decimal.Decimal(256**2000 - 1)) + ",))"] == 0


def test_schema_versions_are_ascii_digits() -> None:
    assert schema.release_for("1.3.0") == (1, 3, 0)
    assert schema.release_for("01.03.000") == (1, 3, 0)
    assert schema.release_for("1.3." + "9" * 5000) == (1, 3, 3)  # beyond int(): newest 1.3
    for ver in ("1.3.²", "１.３.０", "1.3.①", "١.٣.٠", " 1.3.0", "1.3.0\n"):
        assert schema.release_for(ver) is None, ver


def test_coded_fields_that_are_not_text_are_not_members() -> None:
    for value in (["840539006"], {"840539006": 1}, 840539006, True):
        found = schema.problems(_entry(tg=value))
        assert any("is not in value set disease-agent-targeted" in p for p in found), found


@pytest.mark.parametrize(
    "tail", [b"junk!", b"\x00", zlib.compress(b"x")], ids=["junk", "a zero", "a second stream"]
)
def test_bytes_after_the_zlib_stream_are_refused(platform: Any, tail: bytes) -> None:
    message = cose.sign_es256(claims(), platform[0], platform[1].kid)
    text = hcert.PREFIX + base45.b45encode(zlib.compress(message) + tail).decode()
    with pytest.raises(hcert.HcertError, match="after the end of the zlib stream"):
        hcert.inflate(hcert.b45decode(hcert.strip_prefix(text)))
    result = verify.verify_text(text, TrustList.of([platform[1]]), NOW)
    assert result.failed_stage == "zlib" and result.stages["cose"] is None
