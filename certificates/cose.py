"""A small COSE_Sign1 layer (RFC 9052) over `cryptography`, for HCERT.

Only what the EU DCC needs: one signer, ES256 (ECDSA P-256 with SHA-256, signature as raw
``r || s``) and PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt) to verify, ES256 to
sign. A message may be tagged 18 (COSE_Sign1) or untagged, and either form may be wrapped
in CWT tag 61 (61(18([...])) and 61([...]) are read; any other tag is refused). The key id
may sit in the protected or the unprotected header (protected wins); the algorithm is read
from the protected header only (HCERT 3.3.1), so an unprotected ``alg`` cannot change how
a signature is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALG_ES256 = -7
ALG_PS256 = -37
ALGORITHMS = {ALG_ES256: "ES256", ALG_PS256: "PS256"}
HEADER_ALG = 1
HEADER_KID = 4
TAG_SIGN1 = 18
TAG_CWT = 61
_P256_BYTES = 32
_PSS_SALT_BYTES = 32

PublicKey = Any  # an EC or RSA public key from `cryptography`


class CoseError(ValueError):
    """The bytes are not a COSE_Sign1 message this layer can read."""


@dataclass(frozen=True)
class Sign1:
    """A decoded COSE_Sign1 message; `protected_bytes` is kept exactly as received."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def alg(self) -> int | None:
        value = self.protected.get(HEADER_ALG)
        return value if isinstance(value, int) else None

    @property
    def kid(self) -> bytes | None:
        """Key id: the protected header's if present, otherwise the unprotected one's."""
        for header in (self.protected, self.unprotected):
            value = header.get(HEADER_KID)
            if isinstance(value, bytes):
                return value
        return None


def loads_cbor(data: bytes, error: type[ValueError], message: str) -> Any:
    """`data` decoded from CBOR; bad input raises `error` with `message` and the cause."""
    try:
        return cbor2.loads(data)
    except Exception as cause:  # cbor2 raises several types for bad input
        raise error(f"{message}: {cause}") from None


def decode_sign1(data: bytes) -> Sign1:
    """Parse a COSE_Sign1 message: tag 18 or untagged, either one alone or inside tag 61."""
    item = loads_cbor(data, CoseError, "not CBOR")
    if isinstance(item, cbor2.CBORTag) and item.tag == TAG_CWT:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != TAG_SIGN1:
            raise CoseError(f"unexpected CBOR tag {item.tag} (COSE_Sign1 is 18)")
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise CoseError("COSE_Sign1 must be an array of 4 items")
    protected_bytes, unprotected, payload, signature = item
    if not isinstance(protected_bytes, bytes):
        raise CoseError("protected header must be a byte string")
    if not isinstance(unprotected, Mapping):
        raise CoseError("unprotected header must be a map")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CoseError("payload and signature must be byte strings")
    protected: Mapping[Any, Any] = {}
    if protected_bytes:
        protected = loads_cbor(protected_bytes, CoseError, "protected header is not CBOR")
        if not isinstance(protected, Mapping):
            raise CoseError("protected header must encode a map")
    return Sign1(protected_bytes, protected, unprotected, payload, signature)


def signed_bytes(protected_bytes: bytes, payload: bytes) -> bytes:
    """The Sig_structure of RFC 9052 section 4.4 for a COSE_Sign1 without external data."""
    return cbor2.dumps(["Signature1", protected_bytes, b"", payload])


def verify_signature(message: Sign1, public_key: PublicKey) -> bool:
    """True when `message` carries a valid signature by `public_key` under its protected alg.

    A key of the wrong type or curve for the algorithm, an unknown algorithm or a malformed
    signature all give False.
    """
    to_check = signed_bytes(message.protected_bytes, message.payload)
    try:
        if message.alg == ALG_ES256:
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return False
            if not isinstance(public_key.curve, ec.SECP256R1):
                return False
            if len(message.signature) != 2 * _P256_BYTES:
                return False
            r = int.from_bytes(message.signature[:_P256_BYTES], "big")
            s = int.from_bytes(message.signature[_P256_BYTES:], "big")
            public_key.verify(encode_dss_signature(r, s), to_check, ec.ECDSA(hashes.SHA256()))
            return True
        if message.alg == ALG_PS256:
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False
            public_key.verify(
                message.signature,
                to_check,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_PSS_SALT_BYTES),
                hashes.SHA256(),
            )
            return True
    except InvalidSignature:
        return False
    return False


def sign_es256(payload: bytes, private_key: ec.EllipticCurvePrivateKey, kid: bytes) -> bytes:
    """A tagged COSE_Sign1 message over `payload`, alg ES256 and `kid` in the protected header."""
    if not isinstance(private_key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs a P-256 key")
    protected_bytes = cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: kid})
    der = private_key.sign(signed_bytes(protected_bytes, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")
    return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, [protected_bytes, {}, payload, signature]))
