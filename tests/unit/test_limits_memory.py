"""The in-process rate-limit storage: fixed windows counted right, expired counters gone
without a sweep of them all, and Flask-Limiter answering 429 through it."""

from __future__ import annotations

import threading

import flask
from flask_limiter import Limiter
from limits.storage import storage_from_string

from certificates.limits_memory import SCHEME, ExpiringCounters


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_counts_until_it_ends_then_starts_again() -> None:
    clock = Clock()
    counters = ExpiringCounters(clock=clock)
    assert [counters.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("a") == 3 and counters.get_expiry("a") == 1_060.0
    assert counters.incr("b", 10, amount=2) == 2
    clock.now = 1_059.9
    assert counters.incr("a", 60) == 4  # the window does not move with later hits
    clock.now = 1_060.0
    assert counters.get("a") == 0 and counters.get_expiry("a") == 1_060.0
    assert counters.incr("a", 60) == 1 and counters.get_expiry("a") == 1_120.0


def test_expired_counters_leave_as_new_ones_come() -> None:
    clock = Clock()
    counters = ExpiringCounters(clock=clock)
    for n in range(10_000):
        counters.incr(f"client {n}", 60)
        clock.now += 0.01  # 100 new keys a second, each kept a minute
    assert 6_000 <= len(counters) <= 6_001  # the last minute's keys, not all 10,000
    assert len(counters._ends) <= 6_001


def test_clear_and_reset() -> None:
    clock = Clock()
    counters = ExpiringCounters(clock=clock)
    counters.incr("a", 60)
    counters.incr("b", 60)
    counters.clear("a")
    assert counters.get("a") == 0 and counters.get("b") == 1
    assert counters.incr("a", 30) == 1 and counters.get_expiry("a") == 1_030.0
    clock.now = 1_045.0  # a's first window would have ended at 1,060: its stale end is skipped
    counters.incr("c", 60)
    assert counters.get("b") == 1 and counters.get("a") == 0
    assert counters.reset() == 2 and len(counters) == 0
    assert counters.check()


def test_threads_lose_no_hit() -> None:
    counters = ExpiringCounters()

    def hit() -> None:
        for _ in range(2_000):
            counters.incr("shared", 3_600)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.get("shared") == 16_000


def test_flask_limiter_answers_429_through_it() -> None:
    assert isinstance(storage_from_string(f"{SCHEME}://"), ExpiringCounters)
    app = flask.Flask(__name__)
    limiter = Limiter(
        lambda: "one client", app=app, storage_uri=f"{SCHEME}://", headers_enabled=True
    )
    app.add_url_rule("/", "index", limiter.limit("2 per minute")(lambda: "ok"))
    client = app.test_client()
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    assert 0 < int(client.get("/").headers["Retry-After"]) <= 60
