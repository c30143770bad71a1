"""The browser verifier (certificates/browser/verifier.js) against the Python one, in a real
headless Chromium: the same inputs through both, the same stages and verdicts.

The page is a blank one served with the script from a local HTTP server on 127.0.0.1 (a
secure context, so WebCrypto is there). Inputs go to the page in a few batches
(execute_async_script); each answer is compared field by field with `Verification.to_json()`:
every official test vector (from the PREFIX text, and from the COSE bytes where the vector
has them), certificates the platform issues (valid and broken in each stage), hand-made
messages for the COSE and CBOR corners, and the official schema tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import zlib
from collections.abc import Iterator
from typing import Any

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from certificates import browser, cose, hcert, issue, schema, verify
from certificates.keys import SigningKey, generate
from certificates.trust import Signer, TrustList
from tests.conftest import ROOT
from tests.integration.browser import serve_files, start_chromium

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "certificates" / "browser" / "verifier.js"
VECTORS = ROOT / "tests" / "data" / "dcc" / "testdata"
SCHEMA_TESTS = ROOT / "tests" / "data" / "dcc" / "schema-tests"
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
COMPARED = (
    "valid",
    "status",
    "boosters",
    "payload",
    "stages",
    "failed_stage",
    "kid",
    "alg",
    "issuer",
    "issued_at",
    "expires_at",
)
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>verifier</title>
<script src="/verifier.js"></script></head><body></body></html>"""

#: runs a batch of cases in the page; the answer is JSON text (no WebDriver conversions)
RUN_BATCH = """
const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const rules = window.RULES || (window.RULES = await (await fetch('/rules.json')).json());
  const out = [];
  for (const c of cases) {
    const options = {trust: c.trust, rules, now: new Date(c.now)};
    const input = c.kind === 'cose'
      ? Uint8Array.from(c.input.match(/../g) || [], h => parseInt(h, 16)) : c.input;
    try {
      out.push(c.kind === 'cose' ? await VaxVerifier.verifyCose(input, options)
                                 : await VaxVerifier.verifyText(input, options));
    } catch (error) {
      out.push({thrown: String(error && error.stack || error)});
    }
  }
  return JSON.stringify(out);
})().then(done, error => done(JSON.stringify({thrown: String(error)})));
"""


# -- the page and the browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    files = {
        "/": (PAGE, "text/html; charset=utf-8"),
        "/verifier.js": (SCRIPT.read_bytes(), "text/javascript; charset=utf-8"),
        "/rules.json": (json.dumps(browser.rules_document()).encode(), "application/json"),
        "/worker.js": (
            b"importScripts('/verifier.js');"
            b"onmessage = async (event) => {"
            b"  const {text, trust, rules, now} = event.data;"
            b"  postMessage(await VaxVerifier.verifyText(text, {trust, rules, now: new Date(now)}));"
            b"};",
            "text/javascript; charset=utf-8",
        ),
    }

    with serve_files(files) as url:
        yield url


@pytest.fixture(scope="module")
def page(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver: Any = start_chromium(tmp_path_factory.mktemp("chromium"), size="800,600")
    try:
        driver.set_script_timeout(120)
        driver.get(site)
        assert driver.execute_script("return typeof VaxVerifier === 'object'")
        assert driver.execute_script("return window.isSecureContext && !!crypto.subtle")
        yield driver
    finally:
        driver.quit()


def run_in_browser(page: Any, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = json.loads(page.execute_async_script(RUN_BATCH, cases))
    assert isinstance(answer, list), answer
    return answer


# -- cases and the comparison ------------------------------------------------------------------


def case(
    name: str,
    kind: str,
    data: str | bytes,
    trust: TrustList,
    at: dt.datetime,
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "input": data.hex() if isinstance(data, bytes) else data,
        "trust": browser.trust_document(trust, at),
        "now": int(at.timestamp() * 1000),
        "python": python_result(kind, data, trust, at),
    }


def python_result(kind: str, data: str | bytes, trust: TrustList, at: dt.datetime) -> Any:
    if kind == "cose":
        assert isinstance(data, bytes)
        result = verify.verify_cose(data, trust, at)
    else:
        assert isinstance(data, str)
        result = verify.verify_text(data, trust, at)
    return json.loads(json.dumps(result.to_json(), allow_nan=False))  # strict JSON, as the CLI


#: cases whose payload holds integers beyond 2^53: JSON numbers in the browser are doubles,
#: so the script's payload has them rounded (every stage and verdict still agree)
ROUNDED_PAYLOAD = frozenset({"big integers in the DCC", "DCC values JSON has no form for"})


def as_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: as_doubles(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def compare(cases: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[str]:
    """Each disagreement as one line (empty when both verifiers agree on every case)."""
    assert len(cases) == len(answers)
    problems = []
    for item, js in zip(cases, answers, strict=True):
        if "thrown" in js:
            problems.append(f"{item['name']}: the script threw {js['thrown']}")
            continue
        assert set(js) == set(item["python"]), (item["name"], sorted(js))
        for key in COMPARED:
            if key == "payload" and item["name"] in ROUNDED_PAYLOAD:
                if as_doubles(js[key]) != as_doubles(item["python"][key]):
                    problems.append(f"{item['name']}: payload differs beyond rounding")
            elif js[key] != item["python"][key]:
                problems.append(
                    f"{item['name']}: {key} js={js[key]!r} python={item['python'][key]!r}"
                )
        if js["failed_stage"] is not None and not js["reason"]:
            problems.append(f"{item['name']}: no reason for the failed stage")
    return problems


def check(page: Any, cases: list[dict[str, Any]]) -> None:
    answers = run_in_browser(page, [{k: v for k, v in c.items() if k != "python"} for c in cases])
    problems = compare(cases, answers)
    assert not problems, "\n".join(problems)


# -- the official test vectors -----------------------------------------------------------------


def vector_cases() -> list[dict[str, Any]]:
    manifest = json.loads((VECTORS / "MANIFEST.json").read_text(encoding="utf-8"))
    cases = []
    for entry in manifest["files"]:
        data = json.loads((VECTORS / entry["path"]).read_text(encoding="utf-8"))
        context = data.get("TESTCTX", {})
        der = context.get("CERTIFICATE")
        trust = TrustList.of([Signer.from_der(base64.b64decode(der))]) if der else TrustList()
        at = verify.parse_instant(context["VALIDATIONCLOCK"])
        cases.append(case(entry["path"], "text", data["PREFIX"], trust, at))
        if "COSE" in data:
            cose_bytes = bytes.fromhex(data["COSE"])
            cases.append(case(entry["path"] + " (COSE)", "cose", cose_bytes, trust, at))
    return cases


def test_every_official_vector_gives_the_same_result(page: Any) -> None:
    cases = vector_cases()
    assert sum(1 for c in cases if c["kind"] == "text") == 100
    check(page, cases)
    # the vectors do exercise both verdicts and every stage failing
    failed = {c["python"]["failed_stage"] for c in cases}
    assert {True, False} <= {c["python"]["valid"] for c in cases}
    assert {"base45", "zlib", "cose", "cbor", "signature", "expiry", "schema"} <= failed


# -- certificates the platform issues, and broken ones -----------------------------------------


def signer_certificate(
    public_key: Any, signing_key: Any, eku: list[str] | None, algorithm: Any = None
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test signer")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
    )
    if eku is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in eku]), critical=False
        )
    certificate = builder.sign(signing_key, algorithm or hashes.SHA256())
    return certificate.public_bytes(Encoding.DER)


def ec_signer(eku: list[str] | None, curve: ec.EllipticCurve | None = None) -> tuple[Any, Signer]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    return key, Signer.from_der(signer_certificate(key.public_key(), key, eku))


def sign(
    claims: bytes,
    key: Any,
    kid: bytes | None,
    alg: Any = cose.ALG_ES256,
    *,
    protected: dict[Any, Any] | None = None,
    unprotected: dict[Any, Any] | None = None,
    tags: tuple[int, ...] = (cose.TAG_SIGN1,),
) -> bytes:
    """A COSE_Sign1 message, made here independently of cose.sign_es256."""
    header = {cose.HEADER_ALG: alg} if alg is not None else {}
    if kid is not None:
        header[cose.HEADER_KID] = kid
    header.update(protected or {})
    protected_bytes = cbor2.dumps(header)
    to_sign = cbor2.dumps(["Signature1", protected_bytes, b"", claims])
    if isinstance(key, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        signature = key.sign(to_sign, pss, hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    item: Any = [protected_bytes, unprotected or {}, claims, signature]
    for tag in tags:
        item = cbor2.CBORTag(tag, item)
    return cbor2.dumps(item)


def text_of(message: bytes) -> str:
    return hcert.encode_text(message)


def b45(data: bytes) -> str:
    return "HC1:" + base45.b45encode(data).decode("ascii")


def person(codes: list[str]) -> tuple[str, issue.Identity, list[issue.Dose]]:
    start = dt.datetime(2021, 7, 1, 8, tzinfo=dt.UTC)
    doses = [
        issue.Dose(f"D-{n}", 1, code, n, start + dt.timedelta(days=60 * n), "LOT", "79", "S")
        for n, code in enumerate(codes, start=1)
    ]
    identity = issue.Identity("Nguyễn Văn An", dt.date(1990, 5, 1), "M", "")
    return "0" * 32, identity, doses


def claims_of(dcc: dict[str, Any], iat: Any = None, exp: Any = None) -> bytes:
    iat = int(NOW.timestamp()) - 3600 if iat is None else iat
    exp = iat + 365 * 86400 if exp is None else exp
    return hcert.encode_claims(dcc, "VN", iat, exp)


_BIG = cbor2.CBORTag(2, b"\xff" * 2000)  # 4817 digits: beyond Python's str() of an int

#: crafted payloads that crashed the Python verifier (or its JSON), and the stage they fail
CRAFTED_FAILS = {
    "iat NaN": "expiry",
    "exp infinity": "expiry",
    "iat minus infinity": "expiry",
    "iat a NaN half float": "expiry",
    "tg a list": "schema",
    "ma a map": "schema",
    "vp a number": "schema",
    "tg a bignum": "schema",
    "ver 1.3.² (superscript two)": "schema",
    "ver 1.3.① (circled one)": "schema",
    "ver Arabic-Indic digits": "schema",
    "ver a bignum": "schema",
    "dn a Decimal (tag 4)": "schema",
    "dn a Fraction (tag 30)": "schema",
    "dn NaN": "schema",
    "dn beyond a double": "schema",
    "dn undefined": "schema",
}


def add_crafted(add: Any, signed: Any, dcc: dict[str, Any]) -> None:
    """Payloads once crashing the Python verifier, and values JSON has no form for."""

    def with_claims(iat: Any = 1_700_000_000, exp: Any = 1_900_000_000, **dcc_change: Any) -> str:
        return signed(cbor2.dumps({1: "VN", 6: iat, 4: exp, -260: {1: {**dcc, **dcc_change}}}))

    def entry(**change: Any) -> list[dict[str, Any]]:
        return [{**dcc["v"][0], **change}]

    add("iat NaN", "text", with_claims(iat=float("nan")))
    add("exp infinity", "text", with_claims(exp=float("inf")))
    add("iat minus infinity", "text", with_claims(iat=-float("inf")))
    nan_half = bytes.fromhex("a4") + cbor2.dumps(1) + cbor2.dumps("VN") + b"\x06\xf9\x7e\x00"
    nan_half += cbor2.dumps(4) + cbor2.dumps(1_900_000_000)
    nan_half += cbor2.dumps(-260) + cbor2.dumps({1: dcc})
    add("iat a NaN half float", "text", signed(nan_half))
    add("tg a list", "text", with_claims(v=entry(tg=["840539006"])))
    add("ma a map", "text", with_claims(v=entry(ma={"ORG-100030215": 1})))
    add("vp a number", "text", with_claims(v=entry(vp=1119349007)))
    add("tg a bignum", "text", with_claims(v=entry(tg=_BIG)))
    add("ver 1.3.² (superscript two)", "text", with_claims(ver="1.3.²"))
    add("ver 1.3.① (circled one)", "text", with_claims(ver="1.3.①"))
    add("ver Arabic-Indic digits", "text", with_claims(ver="١.٣.٠"))
    add("ver a bignum", "text", with_claims(ver=_BIG))
    add("ver with leading zeros", "text", with_claims(ver="01.03.000"))
    add("ver with a 5000-digit patch (newest 1.3)", "text", with_claims(ver="1.3." + "9" * 5000))
    add("dn a Decimal (tag 4)", "text", with_claims(v=entry(dn=cbor2.CBORTag(4, [0, 2]))))
    add("dn a Fraction (tag 30)", "text", with_claims(v=entry(dn=cbor2.CBORTag(30, [4, 2]))))
    add("dn NaN", "text", with_claims(v=entry(dn=float("nan"))))
    add("dn beyond a double", "text", with_claims(v=entry(dn=2**1024)))
    add("dn undefined", "text", with_claims(v=entry(dn=cbor2.undefined)))
    no_json = [
        cbor2.CBORTag(4, [-2, 12345]),
        cbor2.CBORTag(5, [-1, 3]),
        cbor2.CBORTag(30, [1, 3]),
        cbor2.CBORTag(35, "a+"),
        cbor2.CBORTag(36, "Subject: x\n\nbody"),
        cbor2.CBORTag(37, b"0" * 16),
        cbor2.CBORTag(258, [1, 2]),
        cbor2.CBORTag(260, b"\x7f\x00\x00\x01"),
        cbor2.CBORTag(260, b"\x00" * 16),
        cbor2.CBORTag(261, {b"\x0a\x00\x00\x00": 8}),
        cbor2.CBORSimpleValue(40),
        cbor2.undefined,
        *(float("nan"), float("inf"), -float("inf"), 2**1024, -(2**1024), _BIG),
        2**1024 - 2**970,  # rounds up to 2^1024: no double
        2**1024 - 2**970 - 1,  # rounds down: the largest double
    ]
    add(
        "DCC values JSON has no form for",
        "text",
        with_claims(x=no_json, y={"n": float("nan"), "d": cbor2.CBORTag(4, [0, 1])}),
    )
    add("DCC key of 5001 digits", "text", signed(claims_of({**dcc, 10**5000: 1})))

    def claims_map(*pairs: tuple[Any, Any]) -> str:
        """CWT claims with these keys in this order (cbor2 would merge equal ones)."""
        encoded = b"".join(cbor2.dumps(key) + cbor2.dumps(value) for key, value in pairs)
        return signed(bytes([0xA0 + len(pairs)]) + encoded)

    base = ((1, "VN"), (6, 1_700_000_000), (4, 1_900_000_000), (-260, {1: dcc}))
    tag = cbor2.CBORTag
    for name, extra in {
        "claim key Decimal(1) after 1 (merged: issuer XX)": ((tag(4, [0, 1]), "XX"),),
        "claim key -26E+1 after -260 (merged: no DCC)": ((tag(4, [1, -26]), 0),),
        "claim key 6.00 (tag 5) after 6 (merged: iat later)": ((tag(5, [-2, 24]), 2**31),),
        "claim key 6 rounded (tag 5, 2^-60) after 6": ((tag(5, [-60, 6 * 2**60]), 2**31),),
        "claim key Fraction(8, 2) after 4 (merged: expired)": ((tag(30, [8, 2]), 1),),
        "claim key Fraction(9, 2) after 4 (not merged)": ((tag(30, [9, 2]), 1),),
        "claim key 0.6E+1 (tag 4) after 6": ((tag(4, [-1, 60]), 2**31),),
    }.items():
        add(name, "text", claims_map(*base, *extra))
    add(
        "claim keys 1.0 then simple(1) (not equal: issuer VN)",
        "text",
        claims_map((1.0, "VN"), (cbor2.CBORSimpleValue(1), "XX"), *base[1:]),
    )
    add(
        "claim keys simple(1) then Decimal(1) (not equal: issuer XX)",
        "text",
        claims_map((cbor2.CBORSimpleValue(1), "XX"), (tag(4, [0, 1]), "VN"), *base[1:]),
    )
    add(
        "claim keys Decimal(1) then 1 (merged: issuer VN)",
        "text",
        claims_map((tag(4, [0, 1]), "XX"), *base),
    )
    add(
        "DCC tuple keys with integers of 4817 and 4401 digits",
        "text",
        with_claims(z={(1, (_BIG,)): 1, (-(10**4400), "a"): 2}),
    )


def platform_cases() -> list[dict[str, Any]]:
    private_key, der = generate(NOW, "test")
    signing = SigningKey(private_key, Signer.from_der(der))
    trust = TrustList.of([signing.signer])
    cases = []

    def add(
        name: str,
        kind: str,
        data: str | bytes,
        at: dt.datetime = NOW,
        with_trust: TrustList = trust,
    ) -> None:
        cases.append(case(name, kind, data, with_trust, at))

    def issued(codes: list[str]) -> issue.Issued:
        return issue.issue(*person(codes), signing, NOW - dt.timedelta(hours=1))

    green = issued(["EU/1/20/1528", "EU/1/20/1528"])
    assert green.progress.status == "green"
    add("green", "text", green.text)
    add("yellow", "text", issued(["EU/1/20/1528"]).text)
    add("booster", "text", issued(["EU/1/21/1529", "EU/1/21/1529", "EU/1/20/1528"]).text)
    add("single dose (Janssen)", "text", issued(["EU/1/20/1525"]).text)
    add("Janssen then a booster", "text", issued(["EU/1/20/1525", "EU/1/20/1528"]).text)
    add("Abdala, 2 of 3", "text", issued(["Abdala", "Abdala"]).text)
    add("Abdala, 3 of 3", "text", issued(["Abdala", "Abdala", "Abdala"]).text)
    add("mixed: Sinopharm then Pfizer", "text", issued(["BBIBP-CorV", "EU/1/20/1528"]).text)
    add("expired", "text", green.text, NOW + dt.timedelta(days=400))
    add("not yet valid", "text", green.text, NOW - dt.timedelta(days=1))
    add("exactly at iat", "text", green.text, green.issued_at)
    add("exactly at exp", "text", green.text, green.expires_at)
    add("one second after exp", "text", green.text, green.expires_at + dt.timedelta(seconds=1))
    add("surrounded by white space", "text", "\n  " + green.text + " \t\n")
    add("white space Python strips, JavaScript's trim does not", "text", "\x1c\x85" + green.text)
    add("a BOM (JavaScript's trim strips it, Python does not)", "text", "\ufeff" + green.text)
    add("empty trust list", "text", green.text, with_trust=TrustList())

    message = hcert.inflate(hcert.b45decode(hcert.strip_prefix(green.text)))
    sign1 = cbor2.loads(message)
    add("COSE bytes", "cose", message)
    for index in (0, 31, 32, 63):
        broken = bytearray(sign1.value[3])
        broken[index] ^= 0x01
        tampered = cbor2.CBORTag(18, [*sign1.value[:3], bytes(broken)])
        add(f"tampered signature byte {index}", "text", text_of(cbor2.dumps(tampered)))
    short = cbor2.CBORTag(18, [*sign1.value[:3], sign1.value[3][:63]])
    add("signature one byte short", "text", text_of(cbor2.dumps(short)))
    edited = cbor2.loads(sign1.value[2])
    edited[-260][1]["nam"]["fnt"] = "TRAN"
    changed = cbor2.CBORTag(18, [sign1.value[0], {}, cbor2.dumps(edited), sign1.value[3]])
    add("payload changed after signing", "text", text_of(cbor2.dumps(changed)))

    dcc = green.payload
    claims = claims_of(dcc)
    foreign_key, foreign = ec_signer(None)
    add("foreign signer", "text", text_of(sign(claims, foreign_key, foreign.kid)))
    add("foreign signer with our kid", "text", text_of(sign(claims, foreign_key, signing.kid)))
    add(
        "foreign signer, trusted",
        "text",
        text_of(sign(claims, foreign_key, foreign.kid)),
        with_trust=TrustList.of([signing.signer, foreign]),
    )
    test_only_key, test_only = ec_signer(["1.3.6.1.4.1.1847.2021.1.1"])
    both_key, both = ec_signer(["1.3.6.1.4.1.0.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.2"])
    other_eku_key, other_eku = ec_signer(["1.3.6.1.5.5.7.3.1"])
    eku_trust = TrustList.of([test_only, both, other_eku])
    for name, key, signer in (
        ("EKU tests only", test_only_key, test_only),
        ("EKU tests and vaccinations (0.1847 spelling)", both_key, both),
        ("EKU without an HCERT OID", other_eku_key, other_eku),
    ):
        add(name, "text", text_of(sign(claims, key, signer.kid)), with_trust=eku_trust)

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_signer = Signer.from_der(signer_certificate(rsa_key.public_key(), rsa_key, None))
    rsa_trust = TrustList.of([rsa_signer, signing.signer])
    add(
        "PS256",
        "text",
        text_of(sign(claims, rsa_key, rsa_signer.kid, cose.ALG_PS256)),
        with_trust=rsa_trust,
    )
    add(
        "PS256 message, ES256 in the header",
        "text",
        text_of(sign(claims, rsa_key, rsa_signer.kid, cose.ALG_ES256)),
        with_trust=rsa_trust,
    )
    add(
        "ES256 signature, PS256 in the header",
        "text",
        text_of(sign(claims, private_key, signing.kid, cose.ALG_PS256)),
        with_trust=rsa_trust,
    )
    p384_key, p384 = ec_signer(None, ec.SECP384R1())
    add(
        "ES256 by a P-384 key",
        "text",
        text_of(sign(claims, p384_key, p384.kid)),
        with_trust=TrustList.of([p384]),
    )
    add("untagged", "text", text_of(sign(claims, private_key, signing.kid, tags=())))
    add(
        "CWT tag 61 around 18",
        "text",
        text_of(sign(claims, private_key, signing.kid, tags=(18, 61))),
    )
    add("tag 61 alone", "text", text_of(sign(claims, private_key, signing.kid, tags=(61,))))
    add("tag 98", "text", text_of(sign(claims, private_key, signing.kid, tags=(98,))))
    add(
        "alg only unprotected",
        "text",
        text_of(sign(claims, private_key, signing.kid, None, unprotected={1: -7})),
    )
    add(
        "kid only unprotected",
        "text",
        text_of(sign(claims, private_key, None, unprotected={4: signing.kid})),
    )
    add("no kid", "text", text_of(sign(claims, private_key, None)))
    add("alg as text", "text", text_of(sign(claims, private_key, signing.kid, "ES256")))
    add("alg -7.0 (a float)", "text", text_of(sign(claims, private_key, signing.kid, -7.0)))
    add("alg unknown (-8)", "text", text_of(sign(claims, private_key, signing.kid, -8)))
    add("alg true", "text", text_of(sign(claims, private_key, signing.kid, True)))
    add("kid as text", "text", text_of(sign(claims, private_key, None, protected={4: "kid"})))

    def signed(claims_bytes: bytes) -> str:
        return text_of(sign(claims_bytes, private_key, signing.kid))

    add("no iat", "text", signed(cbor2.dumps({1: "VN", 4: 2_000_000_000, -260: {1: dcc}})))
    add("no exp", "text", signed(cbor2.dumps({1: "VN", 6: 1_700_000_000, -260: {1: dcc}})))
    add("float iat and exp", "text", signed(claims_of(dcc, 1_700_000_000.75, 1_900_000_000.25)))
    add("exp out of datetime's range", "text", signed(claims_of(dcc, 1_700_000_000, 2**62)))
    add("exp 2^64 - 1", "text", signed(claims_of(dcc, 1_700_000_000, 2**64 - 1)))
    add("iat negative 2^64", "text", signed(claims_of(dcc, -(2**64), 1_900_000_000)))
    add("iat true", "text", signed(claims_of(dcc, True, 1_900_000_000)))
    add(
        "iat as a date-time tag",
        "text",
        signed(
            cbor2.dumps(
                {1: "VN", 6: cbor2.CBORTag(1, 1_700_000_000), 4: 1_900_000_000, -260: {1: dcc}}
            )
        ),
    )
    add(
        "issuer not text",
        "text",
        signed(cbor2.dumps({1: 7, 6: 1_700_000_000, 4: 1_900_000_000, -260: {1: dcc}})),
    )
    add(
        "claims keys as floats",
        "text",
        signed(
            cbor2.dumps({1.0: "VN", 6.0: 1_700_000_000, 4.0: 1_900_000_000, -260.0: {1.0: dcc}})
        ),
    )
    add("claims not a map", "text", signed(cbor2.dumps([1, 2])))
    add("no -260 claim", "text", signed(cbor2.dumps({1: "VN", 6: 1, 4: 2})))
    add("-260 without 1", "text", signed(cbor2.dumps({-260: {2: dcc}})))
    add("payload not CBOR", "text", signed(b"\xff\x00"))
    add("payload with trailing bytes", "text", signed(claims + b"\x00\x01"))

    variants: dict[str, Any] = {
        "dn 2.0 (a float)": {"dn": 2.0},
        "dn as text": {"dn": "2"},
        "dn 3 of sd 2 (booster)": {"dn": 3},
        "mp unknown": {"mp": "EU/1/99/9999"},
        "ma missing": {"ma": None},
        "tg not in the value set": {"tg": "12345"},
        "co not a country (not checked)": {"co": "XX"},
    }
    for name, change in variants.items():
        entry = {**dcc["v"][0], **change}
        entry = {k: v for k, v in entry.items() if v is not None}
        add(name, "text", signed(claims_of({**dcc, "v": [entry]})))
    add("ver 1.3.9 (falls back to 1.3.3)", "text", signed(claims_of({**dcc, "ver": "1.3.9"})))
    add("ver 1.4.0 (no release)", "text", signed(claims_of({**dcc, "ver": "1.4.0"})))
    add("ver fullwidth digits", "text", signed(claims_of({**dcc, "ver": "１.３.０"})))
    add_crafted(add, signed, dcc)
    add("ver with a newline", "text", signed(claims_of({**dcc, "ver": "1.3.0\n"})))
    add(
        "fnt with a final newline",
        "text",
        signed(claims_of({**dcc, "nam": {**dcc["nam"], "fnt": "NGUYEN\n"}})),
    )
    add("dob with Arabic-Indic digits", "text", signed(claims_of({**dcc, "dob": "١٩٩٠-٠٥-٠١"})))
    add("two groups (v and r)", "text", signed(claims_of({**dcc, "r": dcc["v"]})))
    add("no group", "text", signed(claims_of({k: v for k, v in dcc.items() if k != "v"})))
    add(
        "DCC keys of several kinds",
        "text",
        signed(
            cbor2.dumps(
                {
                    1: "VN",
                    6: 1_700_000_000,
                    4: 1_900_000_000,
                    -260: {
                        1: {
                            **dcc,
                            7: b"\x01'",
                            2.5: None,
                            True: [1.5, -0.0],
                            (1, "a"): cbor2.CBORTag(1, 0),
                            b"k": cbor2.CBORTag(0, "2021-01-01T07:00:00+07:00"),
                        }
                    },
                }
            )
        ),
    )
    add(
        "big integers in the DCC",
        "text",
        signed(
            cbor2.dumps(
                {
                    1: "VN",
                    6: 1_700_000_000,
                    4: 1_900_000_000,
                    -260: {1: {**dcc, "x": [2**53 + 2, -(2**60), 2**70]}},
                }
            )
        ),
    )

    referenced = {1: "VN", 6: 1_700_000_000, 4: 1_900_000_000, -260: {1: {**dcc, "y": dcc}}}
    add(
        "string references (tags 256, 25)",
        "text",
        signed(cbor2.dumps(referenced, string_referencing=True)),
    )
    add(
        "string reference outside a namespace",
        "text",
        signed(claims_of({**dcc, "y": cbor2.CBORTag(25, 0)})),
    )
    add(
        "string reference not in the table",
        "text",
        signed(
            cbor2.dumps(
                cbor2.CBORTag(256, {-260: {1: {"ver": "1.3.0", "x": cbor2.CBORTag(25, 3)}}})
            )
        ),
    )
    add(
        "dob as a date (tag 1004)",
        "text",
        signed(claims_of({**dcc, "dob": cbor2.CBORTag(1004, "1990-05-01")})),
    )
    add(
        "an invalid date (tag 1004)",
        "text",
        signed(claims_of({**dcc, "dob": cbor2.CBORTag(1004, "1990-02-30")})),
    )
    for depth in (396, 397, 398):  # cbor2 refuses containers nested more than 400 deep
        nested: Any = 1
        for _ in range(depth):
            nested = [nested]
        deep = {1: "VN", 6: 1_700_000_000, 4: 1_900_000_000, -260: {1: {**dcc, "x": nested}}}
        add(f"DCC nested {depth} deep", "text", signed(cbor2.dumps(deep)))

    body = base45.b45encode(zlib.compress(message)).decode("ascii")
    add("garbage text", "text", "this is not a certificate")
    add("empty text", "text", "")
    add("wrong prefix HC2", "text", "HC2:" + body)
    add("lower-case prefix", "text", "hc1:" + body)
    add("bad base45 character", "text", "HC1:" + body[:10] + "#" + body[11:])
    add("base45 of one char too many", "text", "HC1:" + body + "0")
    add("base45 triplet out of range", "text", "HC1:" + body + ":::")
    add("bad zlib (plain COSE)", "text", b45(message))
    add("bad zlib (random bytes)", "text", b45(bytes(range(7, 200))))
    add("bad zlib header", "text", b45(b"\x78\x9d" + zlib.compress(message)[2:]))
    add("zlib truncated", "text", b45(zlib.compress(message)[:-10]))
    add("zlib without its checksum", "text", b45(zlib.compress(message)[:-4]))
    add("zlib with a wrong checksum", "text", b45(zlib.compress(message)[:-1] + b"\x00"))
    add("zlib with trailing bytes", "text", b45(zlib.compress(message) + b"junk!"))
    add("zlib with one zero byte after it", "text", b45(zlib.compress(message) + b"\x00"))
    add("two zlib streams", "text", b45(zlib.compress(message) + zlib.compress(b"x")))
    add("raw deflate", "text", b45(zlib.compress(message)[2:-4]))
    add("gzip", "text", b45(__import__("gzip").compress(message)))
    add("empty zlib input", "text", "HC1:")
    add("zlib of nothing", "text", b45(zlib.compress(b"")))
    add("zlib of garbage", "text", b45(zlib.compress(b"\x1c garbage")))
    add(
        "COSE array of 3",
        "text",
        b45(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])))),
    )
    add("COSE with trailing bytes", "cose", message + b"\x00")
    add("COSE truncated", "cose", message[:-1])
    add("COSE empty", "cose", b"")
    add(
        "COSE protected not a map",
        "cose",
        cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps([1]), {}, claims, b"x"])),
    )
    add("COSE unprotected not a map", "cose", cbor2.dumps([b"", [], claims, b"x"]))
    add("COSE payload nil", "cose", cbor2.dumps([b"", {}, None, b"x"]))
    add(
        "COSE indefinite lengths",
        "cose",
        bytes.fromhex("9f5f4040ffa0") + cbor2.dumps(claims) + bytes.fromhex("40ff"),
    )
    return cases


def test_platform_certificates_and_broken_ones_give_the_same_result(page: Any) -> None:
    cases = platform_cases()
    check(page, cases)
    by_name = {c["name"]: c["python"] for c in cases}
    assert by_name["green"]["status"] == "green" and by_name["yellow"]["status"] == "yellow"
    assert by_name["booster"]["boosters"] == 1
    assert by_name["expired"]["failed_stage"] == "expiry"
    assert by_name["tampered signature byte 0"]["failed_stage"] == "signature"
    assert by_name["EKU tests only"]["failed_stage"] == "key_usage"
    assert by_name["PS256"]["valid"] is True
    assert by_name["zlib with trailing bytes"]["failed_stage"] == "zlib"
    assert by_name["two zlib streams"]["failed_stage"] == "zlib"
    for name in CRAFTED_FAILS:
        assert by_name[name]["failed_stage"] == CRAFTED_FAILS[name], name
    assert by_name["ver with a 5000-digit patch (newest 1.3)"]["valid"] is True
    assert by_name["DCC values JSON has no form for"]["valid"] is True
    assert by_name["claim key Decimal(1) after 1 (merged: issuer XX)"]["issuer"] == "XX"
    assert by_name["claim key -26E+1 after -260 (merged: no DCC)"]["failed_stage"] == "cbor"
    assert by_name["claim key 6 rounded (tag 5, 2^-60) after 6"]["failed_stage"] == "expiry"
    assert by_name["claim key Fraction(8, 2) after 4 (merged: expired)"]["failed_stage"] == "expiry"
    assert by_name["claim keys 1.0 then simple(1) (not equal: issuer VN)"]["issuer"] == "VN"
    assert by_name["claim keys simple(1) then Decimal(1) (not equal: issuer XX)"]["issuer"] == "XX"
    assert by_name["zlib truncated"]["failed_stage"] == "zlib"
    assert by_name["DCC nested 397 deep"]["valid"] is True
    assert by_name["string references (tags 256, 25)"]["valid"] is True
    assert by_name["dob as a date (tag 1004)"]["valid"] is True
    assert by_name["DCC nested 398 deep"]["failed_stage"] == "cbor"


def test_the_script_runs_in_a_web_worker(page: Any) -> None:
    private_key, der = generate(NOW, "worker")
    signing = SigningKey(private_key, Signer.from_der(der))
    text = issue.issue(*person(["EU/1/20/1528", "EU/1/20/1528"]), signing, NOW).text
    trust = browser.trust_document(TrustList.of([signing.signer]), NOW)
    answer = page.execute_async_script(
        """
        const [text, trust, now, done] = arguments;
        (async () => {
          const rules = await (await fetch('/rules.json')).json();
          const worker = new Worker('/worker.js');
          worker.onmessage = (event) => done(JSON.stringify(event.data));
          worker.onerror = (event) => done(JSON.stringify({error: event.message}));
          worker.postMessage({text, trust, rules, now});
        })();
        """,
        text,
        trust,
        int(NOW.timestamp() * 1000),
    )
    result = json.loads(answer)
    assert result["valid"] is True and result["status"] == "green", result


# -- the schema validator ----------------------------------------------------------------------


def schema_keywords(node: Any, found: set[str]) -> set[str]:
    """Every keyword used in a JSON schema (not the names under properties or $defs)."""
    if isinstance(node, list):
        for item in node:
            schema_keywords(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs", "definitions", "patternProperties"):
                for item in value.values():
                    schema_keywords(item, found)
            elif key not in ("enum", "const", "examples", "required", "valueset-uri"):
                schema_keywords(value, found)
    return found


def test_the_validator_knows_every_keyword_of_the_schemas(page: Any) -> None:
    known = set(page.execute_script("return VaxVerifier.SCHEMA_KEYWORDS.slice()"))
    ignored = set(page.execute_script("return VaxVerifier.SCHEMA_ANNOTATIONS.slice()"))
    files = sorted((ROOT / "certificates" / "data" / "dcc-schema" / "schema").glob("*/*.json"))
    assert len(files) == 9
    for path in files:
        used = schema_keywords(json.loads(path.read_text(encoding="utf-8")), set())
        assert used <= known | ignored, (path.parent.name, sorted(used - known - ignored))
    assert ignored <= browser.ANNOTATIONS | {"$schema", "$id", "$defs"}


def schema_patterns(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, list):
        for item in node:
            schema_patterns(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.add(value)
            elif key not in ("enum", "const", "examples"):
                schema_patterns(value, found)
    return found


PATTERN_SAMPLES = [
    "",
    "1.3.0",
    "1.3.0\n",
    "1.3.0\n\n",
    "1x3y0",
    "1.3.0.1",
    "１.３.０",
    "1990",
    "1990-05",
    "1990-05-01",
    "1990-05-01\n",
    "1890-05-01",
    "x1990-05-01",
    "1990-05-01T00:00:00Z",
    "٢٠٢١-٠١-٠١",
    "NGUYEN",
    "VAN<AN",
    "van<an",
    "NGUYEN\n",
    "NGUYEN\r",
    "NGUYEN\u2028",
    "ÅSA",
    "ABCDEFGHIJKL",
    "\U0001d7d9\U0001d7d8\U0001d7d9\U0001d7d8",
]


def test_schema_patterns_match_as_python_re_search_does(page: Any) -> None:
    """Every `pattern` of every schema release, in the script, against Python's re.search:
    \\d is any Unicode digit there, "." is anything but a newline, "$" also matches before
    a final newline."""
    patterns: set[str] = set()
    for path in (ROOT / "certificates" / "data" / "dcc-schema" / "schema").glob("*/*.json"):
        schema_patterns(json.loads(path.read_text(encoding="utf-8")), patterns)
    assert len(patterns) >= 5
    js = page.execute_script(
        """
        const [patterns, samples] = arguments;
        return patterns.map(p => samples.map(s => VaxVerifier.pythonRegExp(p).test(s)));
        """,
        sorted(patterns),
        PATTERN_SAMPLES,
    )
    for pattern, verdicts in zip(sorted(patterns), js, strict=True):
        for sample, verdict in zip(PATTERN_SAMPLES, verdicts, strict=True):
            assert verdict is bool(re.search(pattern, sample)), (pattern, sample)


def test_official_schema_tests_get_the_same_verdict(page: Any) -> None:
    documents = {
        f"{path.parent.name}/{path.name}": json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_TESTS.glob("*/*.json"))
    }
    assert len(documents) >= 19
    js = page.execute_async_script(
        """
        const [documents, done] = arguments;
        fetch('/rules.json').then(r => r.json()).then(rules => {
          const out = {};
          for (const [name, dcc] of Object.entries(documents)) {
            out[name] = VaxVerifier.schemaProblems(dcc, rules);
          }
          done(JSON.stringify(out));
        });
        """,
        documents,
    )
    verdicts = json.loads(js)
    disagree = [
        f"{name}: python {schema.problems(dcc)} js {verdicts[name]}"
        for name, dcc in documents.items()
        if (not schema.problems(dcc)) != (not verdicts[name])
    ]
    assert not disagree, "\n".join(disagree)
    assert all(not verdicts[name] for name in documents if name.startswith("valid/"))
    assert all(verdicts[name] for name in documents if name.startswith("invalid/"))


# -- mutations: the decoders' corners, found by changing bytes ---------------------------------


def mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    """`count` variants of `data`, each with one to three bytes changed, inserted or removed
    (deterministic)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(mutated))
            action = rng.random()
            if action < 0.6:
                mutated[at] = rng.randrange(256)
            elif action < 0.8:
                mutated.insert(at, rng.randrange(256))
            elif len(mutated) > 1:
                del mutated[at]
        out.append(bytes(mutated))
    return out


def test_mutated_messages_and_payloads_give_the_same_result(page: Any) -> None:
    """Changed COSE bytes (verifyCose), changed claims signed again (so the CBOR, JSON and
    schema stages see them) and changed zlib streams: the Python verifier answers every one
    (it never raises) and the script agrees."""
    private_key, der = generate(NOW, "mutations")
    signing = SigningKey(private_key, Signer.from_der(der))
    trust = TrustList.of([signing.signer])
    green = issue.issue(*person(["EU/1/20/1528", "EU/1/20/1528"]), signing, NOW)
    message = hcert.inflate(hcert.b45decode(hcert.strip_prefix(green.text)))
    claims = cbor2.loads(message).value[2]
    cases = []
    inputs = [("cose", m) for m in mutations(message, 300, 1)]
    inputs += [("claims", m) for m in mutations(claims, 400, 2)]
    for index, (kind, data) in enumerate(inputs):
        if kind == "claims":
            data = sign(data, private_key, signing.kid)
        cases.append(case(f"{kind} mutation {index}", "cose", data, trust, NOW))
    for index, data in enumerate(mutations(zlib.compress(message, 9), 300, 3)):
        cases.append(case(f"zlib mutation {index}", "text", b45(data), trust, NOW))
    check(page, cases)


# -- the CBOR decoder against cbor2 ------------------------------------------------------------


def cbor_items() -> list[bytes]:
    """Data items for the corners of cbor2's reading: map keys of every kind (Python's str()
    of them becomes the JSON key), floats, date-times and the semantic tags, and errors."""
    tag = cbor2.CBORTag
    keys: list[Any] = [
        *(0.1, 1e16, 1.5e16, 1e-5, 0.0001, 1.2345678901234568e17, -0.0, 2.0, 5e-324),
        *(float("inf"), -float("inf"), 1 / 3, -(2**64), 2**64 - 1, None, True, False),
        *("a'b", 'a"b', "a'\"b", "\u200b", "\x00", "\U0001f600", "\u2028"),
        *(b"\x00'\"\\\t\n\r\x7fabc", b"'", b"'\"", (), (1,), ((1, 2), (3,))),
        (1, "x", b"y", 2.5, None, True, "\u200b", "\x85", "\ue000", "\u0378", "\U000e0001"),
        cbor2.CBORSimpleValue(40),
        cbor2.undefined,
        tag(0, "2013-03-21T20:04:00.5+07:00"),
        tag(1, -1.25),
        tag(100, 5),
        tag(1004, "2000-01-01"),
        tag(77, (1, "a")),
    ]
    items = [cbor2.dumps({key: 1}) for key in keys]
    items += [cbor2.dumps({10**5000: 1}), cbor2.dumps({(2, -(10**4400)): None})]  # 5001 digits
    items += [bytes.fromhex(h) for h in ("a1a10102f5", "a1a2616101616202f5", "a2f501f402")]
    items += [bytes.fromhex("a3") + cbor2.dumps(1) + b"\x61a" + cbor2.dumps(1.0) + b"\x61b"]
    items[-1] += cbor2.dumps(True) + b"\x61c"  # 1, 1.0 and True: one key, the last value
    for text in (
        "2013-03-21T20:04:00Z",
        "2013-03-21t20:04:00.5+01:00",
        "2013-03-21 20:04:00,123-01:30",
        "20130321T200400.1234567+0100",
        "2013-03-21X20:04Z",
        "2013-03-21T20+01",
        "2013-03-21T20:04:00.+01:00:30.5",
        "2012-02-29T00:00:00Z",
        "2013-02-29T00:00:00Z",
        "2013-03-21T24:00:00Z",
        "2013-03-21T20:04:60Z",
        "2013-03-21T20:04:00+24:00",
        "2013-03-21T20:04:00",
        "2013-03-21T20:04:00z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ):
        items.append(cbor2.dumps(tag(0, text)))
    for seconds in (0.5, -0.5, 1363896240.5, 1363896240.0000015, -1.5, 253402300799, 253402300800):
        items.append(cbor2.dumps(tag(1, seconds)))
    for number, value in (
        (2, b"\x01" * 9),
        (3, b"\x01" * 9),
        (2, 5),
        (4, [1, 2]),
        (4, [1, 2.0]),
        (30, [1, 0]),
        (35, "a+"),  # an invalid one, "(", cbor2 refuses; the script does not compile it
        (37, b"0" * 16),
        (37, b"0" * 15),
        (100, -719162),
        (100, -719163),
        (258, [1]),
        (258, 1),
        (260, b"1234"),
        (260, b"123456"),
        (260, b"12345"),
        (261, {b"1234": 24}),
        (261, {b"1234": 33}),
        (1004, "2013-03-21"),
        (1004, "20130321"),
        (1004, "2013-02-30"),
        (25, 0),
        (28, [1]),
        (55799, [1, {2: 3}]),
        (2**64 - 1, 1),
        (4, [1000, 1]),
        (5, [-2000, 1]),
        (2, (2**1024 - 2**970).to_bytes(128, "big")),
        (2, (2**1024 - 2**970 - 1).to_bytes(128, "big")),
        (3, (2**1024 - 2**970 - 1).to_bytes(128, "big")),
    ):
        items.append(cbor2.dumps({"x": tag(number, value)}))
    items += [
        bytes.fromhex(h)
        for h in (
            "f93c00f97e00f90001fa3f800000fb3ff0000000000000",  # floats: only the first is read
            "f97e00",  # NaN, infinities: null
            "fa7f800000",
            "fbfff0000000000000",
            "82f97c00a1617afb7ff8000000000001",
            "5f42010243030405ff",
            "7f61616162ff",
            "9f0102ff",
            "bf616101ff",
            "bf6161ff",
            "5f01ff",
            "7f4100ff",
            "1c",
            "ff",
            "f818",
            "f820",
            "f0",
            "f7",
            "62c328",
            "1bffffffffffffffff",
            "3bffffffffffffffff",
            "3b001fffffffffffff",
            "c0c074323031332d30332d32315432303a30343a30305a",
            "d9010083d8196161d81900",
            "d9010082" + "63616263" + "d81900",
            "9a00100000",
        )
    ]
    return items


def python_decoded(data: bytes) -> Any:
    """hcert.to_json of cbor2's reading (strict JSON: values JSON has no form for, such as
    Decimal, UUID, set or NaN, are null), or "error" when cbor2 refuses the item."""
    try:
        value = hcert.to_json(cbor2.loads(data))
    except Exception:  # cbor2 raises several types for bad input
        return "error"
    return json.loads(json.dumps(value, allow_nan=False))


def test_cbor_items_decode_as_cbor2_decodes_them(page: Any) -> None:
    items = cbor_items()
    js = json.loads(
        page.execute_script(
            """
            return JSON.stringify(arguments[0].map(h => {
              const bytes = Uint8Array.from(h.match(/../g), x => parseInt(x, 16));
              try { return VaxVerifier.toJson(VaxVerifier.cborDecode(bytes)); }
              catch (error) { return "error"; }
            }));
            """,
            [item.hex() for item in items],
        )
    )
    expected = [python_decoded(item) for item in items]
    differ = [
        f"{item.hex()}: python {want!r} js {got!r}"
        for item, want, got in zip(items, expected, js, strict=True)
        if as_doubles(want) != as_doubles(got)  # integers beyond 2^53 are doubles in JSON
    ]
    assert not differ, "\n".join(differ)
    assert expected.count("error") > 20
