"""Shared test helpers.

A test that needs a system part (Chromium, PostgreSQL, Redis) runs when the part is there;
under CI=true its absence is a failure, never a skip (`require`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, part: str) -> None:
    """Skip (locally) or fail (in CI) when a system part the test needs is missing."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{part} is required under CI=true but is not available")
    pytest.skip(f"{part} is not available on this machine")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own for one test, emptied before and after it.

    Rate-limit windows and one-time codes outlive a test run by design (an hour), so a
    database shared with earlier runs would carry their counters into this one.
    """
    import redis

    try:
        connection = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
        connection.ping()
    except redis.RedisError:
        connection = None
    require(connection is not None, "Redis at 127.0.0.1:6379")
    assert connection is not None
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
