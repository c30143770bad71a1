"""Citizen keys made in Python (`warehouse.pseudonyms`) are the engine's keyed SipHash-128:
the ETL makes keys in SQL, the certificate lookup in Python, and a person is found only if
the two agree to the bit."""

from __future__ import annotations

import random

import pytest

from warehouse.client import Warehouse
from warehouse.pseudonyms import citizen_key, phone_hash, siphash128_keyed

ALPHABET = "0123456789 abcxyzĐđễ\x00\xff"


def engine_keys(warehouse: Warehouse, k0: int, k1: int, texts: list[str]) -> list[str]:
    found = warehouse.rows(
        "SELECT arrayMap(t -> lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), t))), "
        "{texts:Array(String)})",
        {"k0": k0, "k1": k1, "texts": texts},
    )
    return [str(key) for key in found[0][0]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_python_keys_equal_the_engines(warehouse: Warehouse, seed: int) -> None:
    rng = random.Random(seed)
    k0, k1 = rng.getrandbits(64), rng.getrandbits(64)
    texts = ["", "0", "0123456", "01234567", "012345678", "079090123456"]
    texts += ["".join(rng.choices(ALPHABET, k=rng.randint(0, 40))) for _ in range(1500)]
    assert [citizen_key(k0, k1, text) for text in texts] == engine_keys(warehouse, k0, k1, texts)


def test_phone_hash_is_the_etls(warehouse: Warehouse) -> None:
    k0, k1 = 7, 2**64 - 1
    expected = engine_keys(warehouse, k0, k1, ["phone:0987654321"])[0]
    assert phone_hash(k0, k1, "0987654321") == expected
    assert phone_hash(k0, k1, "") == ""


def test_digest_is_sixteen_bytes_and_keyed() -> None:
    plain = siphash128_keyed(0, 0, b"079090123456")
    assert len(plain) == 16
    assert siphash128_keyed(1, 0, b"079090123456") != plain
    assert siphash128_keyed(0, 1, b"079090123456") != plain
