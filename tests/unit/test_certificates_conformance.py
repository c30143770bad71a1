"""Conformance with the official EU DCC test vectors (tests/data/dcc/testdata/).

One test per (file, EXPECTED* flag): the step named by the flag runs on the file's data at
its stage (a missing input is derived from the outer stage, as the vectors' README says)
and its outcome must equal the flag. One more test per file checks the whole-chain verdict
(from the PNG when the file has one). Nothing is skipped silently: every flag this verifier
does not assert as written is listed, with its reason, in conformance_exceptions.csv, and
`test_exceptions_match_the_manifest` keeps that list honest against the manifest's quirks.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import cbor2
import pytest

from certificates import cose, hcert, qr, schema, verify
from certificates.trust import Signer, TrustList
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "dcc"
VECTORS = DATA / "testdata"
MANIFEST = json.loads((VECTORS / "MANIFEST.json").read_text(encoding="utf-8"))
PATHS = [entry["path"] for entry in MANIFEST["files"]]


def _exceptions() -> dict[tuple[str, str], tuple[str, str]]:
    with (DATA / "conformance_exceptions.csv").open(encoding="utf-8", newline="") as handle:
        return {(r["path"], r["flag"]): (r["ours"], r["reason"]) for r in csv.DictReader(handle)}


EXCEPTIONS = _exceptions()


@cache
def vector(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / path).read_text(encoding="utf-8"))
    return document


def trust_of(data: dict[str, Any]) -> TrustList:
    der = data.get("TESTCTX", {}).get("CERTIFICATE")
    return TrustList.of([Signer.from_der(base64.b64decode(der))]) if der else TrustList()


def clock_of(data: dict[str, Any]) -> Any:
    return verify.parse_instant(data["TESTCTX"]["VALIDATIONCLOCK"])


# -- each stage's input, from the file or derived from the outer stage --------------------------


def base45_text(data: dict[str, Any]) -> str:
    return str(data["BASE45"]) if "BASE45" in data else hcert.strip_prefix(data["PREFIX"])


def compressed(data: dict[str, Any]) -> bytes:
    if "COMPRESSED" in data:
        return bytes.fromhex(data["COMPRESSED"])
    return hcert.b45decode(base45_text(data))


def cose_bytes(data: dict[str, Any]) -> bytes:
    return bytes.fromhex(data["COSE"]) if "COSE" in data else hcert.inflate(compressed(data))


def expected_cbor_payload(data: dict[str, Any]) -> Any:
    """The payload the CBOR field holds (in some files it is the whole claims map)."""
    if "CBOR" not in data:
        return hcert.decode_claims(cose.decode_sign1(cose_bytes(data)).payload).dcc
    item = cbor2.loads(bytes.fromhex(data["CBOR"]))
    hcert_claim = item.get(hcert.CLAIM_HCERT) if isinstance(item, dict | cbor2.frozendict) else None
    return hcert.to_json(hcert_claim[hcert.HCERT_DCC_V1] if hcert_claim else item)


def same(left: Any, right: Any) -> bool:
    """Semantic equality: map order free, date-times compared as instants."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, str) and isinstance(right, str) and left != right:
        if "T" in left and "T" in right:
            try:
                return verify.parse_instant(left) == verify.parse_instant(right)
            except verify.ClockError:
                return False
        return False
    return bool(left == right)


# -- one step per flag: True when the step succeeds ---------------------------------------------


def step_picture(data: dict[str, Any]) -> bool:
    return qr.decode_qr(base64.b64decode(data["2DCODE"])) == data["PREFIX"]


def step_unprefix(data: dict[str, Any]) -> bool:
    body = hcert.strip_prefix(data["PREFIX"])
    return "BASE45" not in data or body == data["BASE45"]


def step_base45(data: dict[str, Any]) -> bool:
    decoded = hcert.b45decode(base45_text(data))
    return "COMPRESSED" not in data or decoded == bytes.fromhex(data["COMPRESSED"])


def step_compression(data: dict[str, Any]) -> bool:
    inflated = hcert.inflate(compressed(data))
    return "COSE" not in data or inflated == bytes.fromhex(data["COSE"])


def step_decode(data: dict[str, Any]) -> bool:
    dcc = hcert.decode_claims(cose.decode_sign1(cose_bytes(data)).payload).dcc
    if "JSON" in data and not same(dcc, data["JSON"]):
        return False
    return "CBOR" not in data or same(dcc, expected_cbor_payload(data))


def step_valid_json(data: dict[str, Any]) -> bool:
    result = verify.verify_text(data["PREFIX"], trust_of(data), clock_of(data))
    return result.stages["cbor"] is True and same(result.payload, data["JSON"])


def stage_of(name: str) -> Callable[[dict[str, Any]], bool]:
    def step(data: dict[str, Any]) -> bool:
        result = verify.verify_cose(cose_bytes(data), trust_of(data), clock_of(data))
        return result.stages[name] is True

    return step


def step_key_usage(data: dict[str, Any]) -> bool:
    """The file's DSC against the payload's type, whether or not it made the signature."""
    dcc = hcert.decode_claims(cose.decode_sign1(cose_bytes(data)).payload).dcc
    signer = trust_of(data).signers[0]
    if verify.key_usage_problem(signer, dcc) is not None:
        return False
    result = verify.verify_cose(cose_bytes(data), trust_of(data), clock_of(data))
    return result.stages["key_usage"] is not False


def step_valid_object(data: dict[str, Any]) -> bool:
    return not schema.problems(data["JSON"])


def step_encode(data: dict[str, Any]) -> bool:
    encoded = hcert.to_json(cbor2.loads(cbor2.dumps(data["JSON"])))
    return same(encoded, expected_cbor_payload(data))


STEPS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "EXPECTEDPICTUREDECODE": step_picture,
    "EXPECTEDUNPREFIX": step_unprefix,
    "EXPECTEDB45DECODE": step_base45,
    "EXPECTEDCOMPRESSION": step_compression,
    "EXPECTEDDECODE": step_decode,
    "EXPECTEDVALIDJSON": step_valid_json,
    "EXPECTEDVERIFY": stage_of("signature"),
    "EXPECTEDKEYUSAGE": step_key_usage,
    "EXPECTEDEXPIRATIONCHECK": stage_of("expiry"),
    "EXPECTEDSCHEMAVALIDATION": stage_of("schema"),
    "EXPECTEDVALIDOBJECT": step_valid_object,
    "EXPECTEDENCODE": step_encode,
}


def outcome(step: Callable[[dict[str, Any]], bool], data: dict[str, Any]) -> bool:
    """A step that raises a handled error has failed; any other exception is a crash."""
    try:
        return step(data)
    except (ValueError, KeyError, TypeError):
        return False


def expected(path: str, flag: str) -> bool | None:
    """The value this verifier must produce for the flag; None: not asserted (see the list)."""
    if (path, flag) in EXCEPTIONS:
        ours = EXCEPTIONS[(path, flag)][0]
        return None if ours == "skip" else ours == "true"
    return bool(vector(path)["EXPECTEDRESULTS"][flag])


CASES = [
    pytest.param(path, flag, id=f"{path}:{flag.removeprefix('EXPECTED')}")
    for path in PATHS
    for flag in vector(path).get("EXPECTEDRESULTS", {})
    if expected(path, flag) is not None
]


@pytest.mark.parametrize(("path", "flag"), CASES)
def test_flag(path: str, flag: str) -> None:
    data = vector(path)
    assert outcome(STEPS[flag], data) is expected(path, flag)


@pytest.mark.parametrize("path", PATHS)
def test_whole_chain_verdict(path: str) -> None:
    data = vector(path)
    trust, clock = trust_of(data), clock_of(data)
    if "2DCODE" in data:
        result = verify.verify_image(base64.b64decode(data["2DCODE"]), trust, clock)
    else:
        result = verify.verify_text(data["PREFIX"], trust, clock)
    flags = [f for f in data["EXPECTEDRESULTS"] if f in STEPS]
    if (path, "VERDICT") in EXCEPTIONS:
        valid = EXCEPTIONS[(path, "VERDICT")][0] == "true"
    else:
        valid = all(expected(path, flag) is not False for flag in flags)
    assert result.valid is valid, (result.failed_stage, result.reasons)
    json.dumps(result.to_json())  # always serialisable, valid or not


def test_exceptions_match_the_manifest() -> None:
    """Each quirk we do not assert as written is listed, and every listed entry exists."""
    needed = set()
    for entry in MANIFEST["files"]:
        for quirk in entry["quirks"]:
            action = quirk["action"]
            if action == "ignore" or (
                action.startswith("policy:") and action.split(":", 1)[1] not in verify.POLICIES
            ):
                needed.add((entry["path"], quirk["flag"]))
        data = vector(entry["path"])
        for flag in data.get("EXPECTEDRESULTS", {}):
            if flag not in STEPS:
                needed.add((entry["path"], flag))
        if "EXPECTEDPICTUREDECODE" in data.get("EXPECTEDRESULTS", {}) and "2DCODE" not in data:
            needed.add((entry["path"], "EXPECTEDPICTUREDECODE"))
    listed = {key for key in EXCEPTIONS if key[1] != "VERDICT"}
    assert listed == needed
    for path, flag in EXCEPTIONS:
        assert flag == "VERDICT" or flag in vector(path)["EXPECTEDRESULTS"]
        assert EXCEPTIONS[(path, flag)][1].strip(), "every exception gives its reason"


def test_every_vector_is_covered() -> None:
    assert len(PATHS) == MANIFEST["count"] == 100
    flagged = sum(len(vector(p).get("EXPECTEDRESULTS", {})) for p in PATHS)
    assert len(CASES) + sum(1 for v in EXCEPTIONS.values() if v[0] == "skip") == flagged
