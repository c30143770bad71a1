"""Citizen keys made in Python, equal to the warehouse's
``lower(hex(sipHash128Keyed((k0, k1), text)))`` (the ETL's pseudonymisation,
etl/sql/check_batch.sql).

The certificate lookup needs the key of a typed-in CCCD before it can read the identity on
record. Made in SQL it costs a statement of its own, or an ``IN (subquery)`` that made one
identity read 5–11 ms instead of about 3 (ad hoc, 50 M doses); made here it is about
16 µs, and the read is a plain key-value get that several lookups can share.

ClickHouse's ``sipHash128Keyed`` is SipHash-2-4 (compression as in the reference, the key
as two little-endian 64-bit halves) with its own 128-bit finalisation: after the four
finalisation rounds the digest is ``v0 ^ v1`` then ``v2 ^ v3``, each written little-endian
(the reference 128-bit variant differs). A test compares this function with the engine's
on thousands of random inputs of every length up to three words and beyond.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def pseudonym_parts(key: bytes) -> tuple[int, int]:
    """The two 64-bit halves of the SipHash-128 key, from the first 16 key bytes (the ETL
    passes them to the warehouse's ``sipHash128Keyed``; the certificate lookup to
    `citizen_key`)."""
    if len(key) < 16:
        raise ValueError("the pseudonym key needs at least 16 bytes")
    return int.from_bytes(key[:8], "little"), int.from_bytes(key[8:16], "little")


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _rounds(v0: int, v1: int, v2: int, v3: int, count: int) -> tuple[int, int, int, int]:
    for _ in range(count):
        v0 = (v0 + v1) & _MASK
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _MASK
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _MASK
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _MASK
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash128_keyed(k0: int, k1: int, data: bytes) -> bytes:
    """The 16 bytes ClickHouse's ``sipHash128Keyed((k0, k1), data)`` returns."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    whole = len(data) - len(data) % 8
    for start in range(0, whole, 8):
        word = int.from_bytes(data[start : start + 8], "little")
        v3 ^= word
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= word
    last = int.from_bytes(data[whole:], "little") | ((len(data) & 0xFF) << 56)
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return (v0 ^ v1).to_bytes(8, "little") + (v2 ^ v3).to_bytes(8, "little")


def citizen_key(k0: int, k1: int, citizen_id: str) -> str:
    """The citizen key of a CCCD (32 lower-case hex digits), as the ETL makes it."""
    return siphash128_keyed(k0, k1, citizen_id.encode("utf-8")).hex()


def phone_hash(k0: int, k1: int, phone: str) -> str:
    """The keyed hash of a phone number as the ETL stores it ('' for no number)."""
    return siphash128_keyed(k0, k1, f"phone:{phone}".encode()).hex() if phone else ""
