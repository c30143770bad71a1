"""Who may sign certificates: signer certificates (DSCs) by key id, and their key usage.

A trust source is a signer certificate (PEM or DER) or a trust-list JSON document::

    {"format": "vaxviet-trust-list/1", "issuer": "VN", "keys": {"<kid, base64>": "<DER, base64>"}}

(a plain ``{"<kid>": "<certificate>"}`` object is read too; a certificate may be base64 DER
or PEM text). The kid of a certificate is the first 8 bytes of SHA-256 over its DER
encoding (HCERT appendix A.1); a listed kid that does not match its certificate is refused.

Key usage (HCERT A.4): a DSC may restrict which certificate types it signs with extended
key usage OIDs; without any of them it signs every type. The EKU is read with `asn1crypto`
because `cryptography` refuses whole extension lists that some issuers encode leniently
(a DEFAULT value spelled out, an empty EKU sequence).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certificates.cose import PublicKey

TRUST_LIST_FORMAT = "vaxviet-trust-list/1"
KID_BYTES = 8

#: certificate type (the DCC group key) -> its EKU OID suffix
_TYPE_SUFFIX = {"t": "1", "v": "2", "r": "3"}
_EKU_PREFIXES = ("1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1.")
EKU_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"


class TrustError(ValueError):
    """A trust source cannot be read; the message says why."""


def kid_of(der: bytes) -> bytes:
    return hashlib.sha256(der).digest()[:KID_BYTES]


def _hcert_usages(der: bytes) -> frozenset[str] | None:
    """The certificate types ('t', 'v', 'r') its EKU allows; None: no HCERT OID, so all."""
    try:
        value = asn1_x509.Certificate.load(der).extended_key_usage_value
        oids = [] if value is None else list(value.native or [])
    except (ValueError, TypeError):
        return None
    allowed = {
        kind
        for kind, suffix in _TYPE_SUFFIX.items()
        for oid in oids
        for prefix in _EKU_PREFIXES
        if oid == prefix + suffix
    }
    return frozenset(allowed) if allowed else None


@dataclass(frozen=True)
class Signer:
    """One trusted signer certificate."""

    der: bytes
    certificate: x509.Certificate = field(repr=False, compare=False)
    kid: bytes
    usages: frozenset[str] | None

    @classmethod
    def from_der(cls, der: bytes) -> Signer:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError as error:
            raise TrustError(f"not an X.509 certificate: {error}") from None
        return cls(der, certificate, kid_of(der), _hcert_usages(der))

    @classmethod
    def from_bytes(cls, data: bytes) -> Signer:
        """PEM or DER."""
        if data.lstrip().startswith(b"-----BEGIN"):
            try:
                pem = x509.load_pem_x509_certificate(data)
            except ValueError as error:
                raise TrustError(f"not a PEM certificate: {error}") from None
            return cls.from_der(pem.public_bytes(Encoding.DER))
        return cls.from_der(data)

    @property
    def public_key(self) -> PublicKey:
        return self.certificate.public_key()

    def may_sign(self, certificate_type: str) -> bool:
        return self.usages is None or certificate_type in self.usages

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class TrustList:
    """Trusted signers by kid (several certificates may share a kid; each is tried)."""

    signers: tuple[Signer, ...] = ()

    @classmethod
    def of(cls, signers: Iterable[Signer]) -> TrustList:
        unique: dict[bytes, Signer] = {}
        for signer in signers:
            unique.setdefault(signer.der, signer)
        return cls(tuple(unique.values()))

    def candidates(self, kid: bytes | None) -> list[Signer]:
        return [signer for signer in self.signers if signer.kid == kid]

    def to_json(self, issuer: str = "VN") -> dict[str, Any]:
        return {
            "format": TRUST_LIST_FORMAT,
            "issuer": issuer,
            "keys": {
                base64.b64encode(signer.kid).decode("ascii"): base64.b64encode(signer.der).decode(
                    "ascii"
                )
                for signer in self.signers
            },
        }

    @classmethod
    def from_json(cls, document: Any) -> TrustList:
        if not isinstance(document, Mapping):
            raise TrustError("a trust list must be a JSON object")
        keys = document.get("keys", document)
        if not isinstance(keys, Mapping):
            raise TrustError("'keys' must map kid to certificate")
        signers = []
        for kid_text, certificate in keys.items():
            if not isinstance(certificate, str):
                raise TrustError(f"certificate for kid {kid_text!r} must be text")
            if "-----BEGIN" in certificate:
                signer = Signer.from_bytes(certificate.encode("ascii"))
            else:
                signer = Signer.from_der(_b64(certificate, f"certificate for kid {kid_text!r}"))
            if _b64(str(kid_text), "kid") != signer.kid:
                raise TrustError(f"kid {kid_text!r} does not match its certificate")
            signers.append(signer)
        return cls.of(signers)

    @classmethod
    def load(cls, path: Path) -> TrustList:
        """A trust-list JSON file, or one signer certificate (PEM or DER)."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise TrustError(f"cannot read {path}: {error.strerror}") from None
        if data.lstrip().startswith(b"{"):
            try:
                document = json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise TrustError(f"{path} is not valid JSON: {error}") from None
            return cls.from_json(document)
        return cls.of([Signer.from_bytes(data)])


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TrustError(f"{what} is not base64") from None
