"""In-process storage for the lookup's rate limits (embedded mode): fixed-window counters
whose expired entries leave in order, at a cost per request that does not grow with the
number of counters.

The ``limits`` package's own ``memory://`` storage starts a timer thread on an increment
(when none is running) that walks every counter it holds to find the expired ones, every
10 ms while any exist. The lookup keeps counters per client address and per citizen ID
for windows up to a day, so they pile up through a busy day, and that walk held the
interpreter lock for a large share of the web server's time: under 160 concurrent
simulated citizens (``python -m bench.lookup_http``) 90 of 508 samples taken while the
lock was held were in it (py-spy, ad hoc).

Here every counter is also pushed on a heap by its expiry; each increment first pops what
has expired from the heap's top (amortised O(log n) per counter ever made, no thread, no
walk). Only the fixed-window strategy (Flask-Limiter's default, the one the lookup uses) is
supported. Registered as the ``vax-memory://`` scheme. Keys are the limiter's own (client
address, or a keyed hash of the typed ID), kept only until their window ends.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable

from limits.storage import Storage

SCHEME = "vax-memory"


class ExpiringCounters(Storage):
    """Fixed-window counters in process memory, each gone when its window ends."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (the form the limits registry reads)

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._lock = threading.Lock()
        #: key → [count, the time its window ends]
        self._counters: dict[str, list[float]] = {}
        #: (window end, key) for every window started; stale pairs are skipped when popped
        self._ends: list[tuple[float, str]] = []

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _expire(self, now: float) -> None:
        """Drop every counter whose window has ended (call with the lock held)."""
        ends, counters = self._ends, self._counters
        while ends and ends[0][0] <= now:
            end, key = heapq.heappop(ends)
            entry = counters.get(key)
            if entry is not None and entry[1] == end:
                del counters[key]

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._clock()
        with self._lock:
            self._expire(now)
            entry = self._counters.get(key)
            if entry is None:
                entry = self._counters[key] = [0, now + expiry]
                heapq.heappush(self._ends, (entry[1], key))
            entry[0] += amount
            return int(entry[0])

    def get(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            entry = self._counters.get(key)
            return int(entry[0]) if entry is not None and entry[1] > now else 0

    def get_expiry(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            entry = self._counters.get(key)
            return entry[1] if entry is not None and entry[1] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
            self._ends.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)  # its heap pair is skipped when it comes up

    def __len__(self) -> int:
        """Counters held now (tests: memory is bounded by the windows, not by history)."""
        with self._lock:
            return len(self._counters)
