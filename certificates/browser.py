"""What the browser verifier (``certificates/browser/verifier.js``) needs, as JSON documents.

* `trust_document` — the trust list in a form WebCrypto imports directly: each signer's
  public key as DER SubjectPublicKeyInfo, its key id and its HCERT key usage::

      {"format": "vaxviet-browser-trust/1", "issuer": "VN", "issued_at": "…Z",
       "keys": [{"kid": "<base64>", "kty": "EC", "crv": "P-256", "spki": "<base64>",
                 "usages": ["v"]}, …]}

  ``keys`` is a list (several certificates may share a kid; each is tried, in the trust
  list's order); ``usages`` is null when the certificate has no HCERT key-usage OID (it may
  sign every type, `Signer.may_sign`).
* `rules_document` — the schema releases, the value sets the schema stage checks and each
  product's primary series length (for the green/yellow status), read from the same files
  `certificates.schema` and `certificates.rules` read.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from certificates import rules, schema
from certificates.trust import TrustList

TRUST_FORMAT = "vaxviet-browser-trust/1"
RULES_FORMAT = "vaxviet-verifier-rules/1"

#: annotation keywords, which change no verdict: left out of the rules document's schemas
ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "format", "valueset-uri"})
#: keywords whose value maps names to subschemas
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
#: keywords whose value is data, not a subschema
_DATA = frozenset({"enum", "const", "required", "$ref", "$schema", "$id", "pattern", "type"})

#: WebCrypto's names of the elliptic curves it imports
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def trust_document(trust: TrustList, issued_at: dt.datetime, issuer: str = "VN") -> dict[str, Any]:
    """The browser form of `trust`.

    Keys WebCrypto cannot import are left out: elliptic curves other than P-256, P-384
    and P-521 (brainpool, for one), and keys that are neither EC nor RSA (Ed25519, DSA …).
    The Python verifier never accepts a signature by such a key either (ES256 needs P-256,
    PS256 an RSA key), so leaving them out changes no verdict, only the reason given
    ("no trusted signer with kid …" instead of "does not verify"). P-384 and P-521 keys
    are kept, and refused for ES256 by the script as by `certificates.cose`.
    """
    keys = []
    for signer in trust.signers:
        public_key = signer.public_key
        entry: dict[str, Any]
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            curve = _CURVES.get(public_key.curve.name)
            if curve is None:
                continue
            entry = {"kty": "EC", "crv": curve}
        elif isinstance(public_key, rsa.RSAPublicKey):
            entry = {"kty": "RSA", "crv": None}
        else:
            continue
        spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        keys.append(
            {
                "kid": _b64(signer.kid),
                **entry,
                "spki": _b64(spki),
                "usages": None if signer.usages is None else sorted(signer.usages),
            }
        )
    instant = issued_at.astimezone(dt.UTC).replace(microsecond=0)
    return {
        "format": TRUST_FORMAT,
        "issuer": issuer,
        "issued_at": instant.isoformat().replace("+00:00", "Z"),
        "keys": keys,
    }


def compact_schema(node: Any) -> Any:
    """`node` (a JSON schema) without its annotations (`ANNOTATIONS`), for the browser."""
    if isinstance(node, list):
        return [compact_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: compact_schema(item) for name, item in value.items()}
        elif key in _DATA:
            out[key] = value
        else:
            out[key] = compact_schema(value)
    return out


def _value_set_names() -> list[str]:
    """The value sets the schema stage checks (`schema._CODED_FIELDS`)."""
    return sorted({name for fields in schema._CODED_FIELDS.values() for name in fields.values()})


def rules_document() -> dict[str, Any]:
    """Schemas by release ("1.3.0", annotations left out), the value sets the schema stage
    checks by name, and the primary series length by product code."""
    return {
        "format": RULES_FORMAT,
        "schemas": {
            ".".join(map(str, release)): compact_schema(
                json.loads(path.read_text(encoding="utf-8"))
            )
            for release, path in sorted(schema.releases().items())
        },
        "valuesets": {name: sorted(schema.value_set(name)) for name in _value_set_names()},
        "products": {
            code: product.series_doses for code, product in sorted(rules.products().items())
        },
    }
