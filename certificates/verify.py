"""Verify a certificate QR, stage by stage.

Stages, in chain order (the ``stages`` object of ``python -m certificates verify``):

======== ==================================================================================
qr        the image decodes as a QR code (image input only; ``null`` for text input)
prefix    the text starts with ``HC1:``
base45    the rest is base45
zlib      the bytes are one complete zlib stream, and nothing after it
cose      they form a COSE_Sign1 message (tag 18 or untagged, alone or inside tag 61)
cbor      its payload is a CWT claims map with claim -260 = {1: DCC}
signature a trusted certificate with the message's kid verifies the signature (alg from the
          protected header: ES256 or PS256)
key_usage that certificate's extended key usage allows this certificate type (v, t, r)
expiry    issued-at <= clock <= expiry (both claims required)
schema    the DCC matches the JSON schema of its ``ver`` and the value sets (`schema`)
======== ==================================================================================

Each stage is ``True``, ``False``, or ``None`` when it was not reached or does not apply.
A certificate is valid when every stage from ``prefix`` on is ``True`` (and ``qr`` is not
``False``). The verifier never raises on bad input: every failure is a stage result with a
reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from certificates import cose, hcert, rules, schema
from certificates.qr import decode_qr
from certificates.trust import Signer, TrustList

#: The verifier policies of the DCC test-vector manifest this verifier follows. Not followed:
#: "alg-from-unprotected" (alg is read from the protected header only, HCERT 3.3.1).
POLICIES = frozenset({"valueset-in-schema", "no-dsc-validity-in-expiry", "no-format-assertion"})

STAGES = (
    "qr",
    "prefix",
    "base45",
    "zlib",
    "cose",
    "cbor",
    "signature",
    "key_usage",
    "expiry",
    "schema",
)


class ClockError(ValueError):
    """A validation time that cannot be read."""


_FRACTION = re.compile(r"(\.\d+)")
_BASIC_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})$")


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant: 'Z', '+02:00', '+0200' or no zone (UTC), fractions of any length."""
    value = text.strip()
    value = _FRACTION.sub(lambda match: match.group(1)[:7].ljust(7, "0"), value, count=1)
    value = _BASIC_OFFSET.sub(r"\1\2:\3", value)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ClockError(f"not an ISO 8601 time: {text!r}") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant


@dataclass
class Verification:
    """The outcome of verifying one certificate."""

    stages: dict[str, bool | None] = field(default_factory=lambda: dict.fromkeys(STAGES))
    reasons: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    claims: hcert.Claims | None = None
    kid: bytes | None = None
    alg: int | None = None
    signer: Signer | None = None

    @property
    def valid(self) -> bool:
        return self.stages["qr"] is not False and all(
            self.stages[stage] is True for stage in STAGES[1:]
        )

    @property
    def failed_stage(self) -> str | None:
        return next((stage for stage in STAGES if self.stages[stage] is False), None)

    @property
    def payload(self) -> dict[str, Any] | None:
        return None if self.claims is None else self.claims.dcc

    @property
    def progress(self) -> rules.Progress | None:
        if not self.valid or self.payload is None:
            return None
        return rules.dcc_status(self.payload)

    def fail(self, stage: str, reason: str) -> Verification:
        self.stages[stage] = False
        self.reasons[stage] = reason
        return self

    def to_json(self) -> dict[str, Any]:
        progress = self.progress
        claims = self.claims
        failed = self.failed_stage
        return {
            "valid": self.valid,
            "status": None if progress is None else progress.status,
            "boosters": None if progress is None else progress.boosters,
            "payload": self.payload,
            "stages": dict(self.stages),
            "failed_stage": failed,
            "reason": None if failed is None else self.reasons.get(failed, ""),
            "kid": None if self.kid is None else self.kid.hex(),
            "alg": None if self.alg is None else cose.ALGORITHMS.get(self.alg, str(self.alg)),
            "issuer": None if claims is None else claims.issuer,
            "issued_at": None if claims is None else _iso(claims.issued_at),
            "expires_at": None if claims is None else _iso(claims.expires_at),
        }


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def verify_image(image: bytes, trust: TrustList, at: dt.datetime) -> Verification:
    try:
        text = decode_qr(image)
    except ValueError as error:
        return Verification().fail("qr", str(error))
    result = verify_text(text, trust, at)
    result.stages["qr"] = True
    return result


def verify_text(text: str, trust: TrustList, at: dt.datetime) -> Verification:
    result = Verification(text=text)
    try:
        body = hcert.strip_prefix(text.strip())
    except hcert.HcertError as error:
        return result.fail("prefix", str(error))
    result.stages["prefix"] = True
    try:
        compressed = hcert.b45decode(body)
    except hcert.HcertError as error:
        return result.fail("base45", str(error))
    result.stages["base45"] = True
    try:
        message = hcert.inflate(compressed)
    except hcert.HcertError as error:
        return result.fail("zlib", str(error))
    result.stages["zlib"] = True
    return verify_cose(message, trust, at, result)


def verify_cose(
    message: bytes, trust: TrustList, at: dt.datetime, result: Verification | None = None
) -> Verification:
    """The stages from ``cose`` on, for the bytes of a COSE_Sign1 message."""
    result = Verification() if result is None else result
    try:
        sign1 = cose.decode_sign1(message)
    except cose.CoseError as error:
        return result.fail("cose", str(error))
    result.stages["cose"] = True
    result.kid, result.alg = sign1.kid, sign1.alg

    _check_signature(sign1, trust, result)

    try:
        result.claims = hcert.decode_claims(sign1.payload)
    except hcert.HcertError as error:
        return result.fail("cbor", str(error))
    result.stages["cbor"] = True
    claims = result.claims

    if result.signer is not None:
        problem = key_usage_problem(result.signer, claims.dcc)
        if problem:
            result.fail("key_usage", problem)
        else:
            result.stages["key_usage"] = True

    clock = int(at.timestamp())
    if claims.issued_at is None or claims.expires_at is None:
        result.fail("expiry", "issued-at and expiry claims are required")
    elif clock < claims.issued_at:
        result.fail("expiry", f"not valid before {_iso(claims.issued_at)}")
    elif clock > claims.expires_at:
        result.fail("expiry", f"expired at {_iso(claims.expires_at)}")
    else:
        result.stages["expiry"] = True

    found = schema.problems(claims.dcc)
    if found:
        result.fail("schema", "; ".join(found[:5]))
    else:
        result.stages["schema"] = True
    return result


def key_usage_problem(signer: Signer, dcc: dict[str, Any]) -> str | None:
    """Why `signer` may not sign this certificate (HCERT A.4), or None when it may."""
    kind = schema.certificate_type(dcc)
    if kind is None:
        return "the certificate type (v, t or r) is ambiguous"
    if not signer.may_sign(kind):
        return f"the signer's extended key usage does not cover type {kind!r}"
    return None


def _check_signature(sign1: cose.Sign1, trust: TrustList, result: Verification) -> None:
    if sign1.alg not in cose.ALGORITHMS:
        result.fail("signature", "no supported alg (ES256, PS256) in the protected header")
        return
    candidates = trust.candidates(sign1.kid)
    if not candidates:
        kid = "none" if sign1.kid is None else sign1.kid.hex()
        result.fail("signature", f"no trusted signer with kid {kid}")
        return
    for signer in candidates:
        if cose.verify_signature(sign1, signer.public_key):
            result.signer = signer
            result.stages["signature"] = True
            return
    result.fail("signature", "the signature does not verify with the trusted key")
