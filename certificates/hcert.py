"""The HCERT chain around a COSE_Sign1 message, one small function per stage.

    DCC JSON → CWT claims {1: iss, 6: iat, 4: exp, -260: {1: DCC}} → COSE_Sign1
             → zlib → base45 → "HC1:" + text → QR code (alphanumeric mode)

Each decoding function raises `HcertError` with the reason when its stage fails, and none
falls back to a laxer reading (uncompressed data stays a zlib failure).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import base45
import cbor2

from certificates.cose import loads_cbor

PREFIX = "HC1:"
CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_HCERT = -260
HCERT_DCC_V1 = 1


class HcertError(ValueError):
    """A stage of the chain could not be decoded; the message says why."""


@dataclass(frozen=True)
class Claims:
    """The CWT claims of an HCERT; `dcc` is the payload as plain JSON values."""

    issuer: str | None
    issued_at: int | None
    expires_at: int | None
    dcc: dict[str, Any]


def strip_prefix(text: str) -> str:
    if not text.startswith(PREFIX):
        raise HcertError(f"text does not start with {PREFIX!r}")
    return text[len(PREFIX) :]


def b45decode(text: str) -> bytes:
    try:
        return bytes(base45.b45decode(text))
    except (ValueError, TypeError) as error:
        raise HcertError(f"not base45: {error}") from None


def inflate(data: bytes) -> bytes:
    """zlib-decompress exactly one complete stream: no raw fallback, and bytes after the end
    of the stream (junk, a second stream) are refused, as the EU reference refuses them."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data)
    except zlib.error as error:
        raise HcertError(f"not a zlib stream: {error}") from None
    if not inflater.eof:
        raise HcertError("zlib stream is truncated")
    if inflater.unused_data:
        raise HcertError(f"{len(inflater.unused_data)} bytes after the end of the zlib stream")
    return out


def decode_claims(payload: bytes) -> Claims:
    """Read the CWT claims map carried by the COSE payload."""
    claims = loads_cbor(payload, HcertError, "payload is not CBOR")
    if not isinstance(claims, Mapping):
        raise HcertError("CWT claims must be a map")
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, Mapping) or not isinstance(hcert.get(HCERT_DCC_V1), Mapping):
        raise HcertError("claim -260 must hold {1: <DCC map>}")
    issuer = claims.get(CLAIM_ISS)
    return Claims(
        issuer=issuer if isinstance(issuer, str) else None,
        issued_at=_seconds(claims.get(CLAIM_IAT)),
        expires_at=_seconds(claims.get(CLAIM_EXP)),
        dcc=to_json(hcert[HCERT_DCC_V1]),
    )


def _seconds(value: Any) -> int | None:
    """An int or float claim as whole seconds; anything else (a bool, NaN, an infinity) is
    no claim."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def encode_claims(dcc: Mapping[str, Any], issuer: str, issued_at: int, expires_at: int) -> bytes:
    return cbor2.dumps(
        {
            CLAIM_ISS: issuer,
            CLAIM_IAT: issued_at,
            CLAIM_EXP: expires_at,
            CLAIM_HCERT: {HCERT_DCC_V1: dict(dcc)},
        }
    )


def encode_text(cose_message: bytes) -> str:
    """COSE bytes → the QR text ("HC1:" + base45 of the zlib stream)."""
    return PREFIX + base45.b45encode(zlib.compress(cose_message, 9)).decode("ascii")


def to_json(value: Any) -> Any:
    """CBOR-decoded values as plain JSON values: always serialisable by
    ``json.dumps(..., allow_nan=False)``.

    Maps become objects (keys as Python's ``str(key)``), arrays lists, date-times UTC ISO
    text, dates ISO text, byte strings hex, unknown tags their content. None (JSON null):
    floats that are NaN or infinite, integers beyond the range of a double (what a browser's
    JSON would make of them), and every value JSON has no form for (cbor2's Decimal,
    Fraction, UUID, set, regular expression, MIME message, IP address or network, simple
    values, undefined). The browser verifier maps the same values the same way.
    """
    if isinstance(value, Mapping):
        return {_key_text(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return None
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, cbor2.CBORTag):
        return to_json(value.value)
    return None


def _key_text(key: Any) -> str:
    """Python's ``str(key)``, also for integers beyond int's digit limit for text."""
    try:
        return str(key)
    except ValueError:  # an integer of more than 4300 digits, perhaps inside a tuple
        return _key_repr(key) if isinstance(key, tuple | Mapping | cbor2.CBORTag) else _digits(key)


def _key_repr(key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return _digits(key)
    if isinstance(key, tuple):
        items = [_key_repr(item) for item in key]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(key, Mapping):
        pairs = ", ".join(f"{_key_repr(name)}: {_key_repr(item)}" for name, item in key.items())
        return f"frozendict({{{pairs}}})"
    if isinstance(key, cbor2.CBORTag):
        return f"CBORTag({key.tag}, {_key_repr(key.value)})"
    return repr(key)


def _digits(number: Any) -> str:
    """The decimal digits of an int, however long (decimal has no digit limit)."""
    return str(decimal.Decimal(number)) if isinstance(number, int) else repr(number)
