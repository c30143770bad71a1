"""Point reads from many threads coalesced into few statements.

A warehouse statement has a fixed cost that dwarfs a point read's own work: on embedded
chDB at 50 M doses, `SELECT 1` took 1.3 ms and an identity get 2.8 ms for one key and
3.2 ms for eight (ad hoc, one process, through this platform's client). Under load the
web server has several lookups in flight at once, each wanting one key. `Coalesced` lets
them share statements:

* a caller adds its key to the queue; when fewer than `max_running` statements of this
  kind are running, it runs one for its key at once, in its own thread;
* callers that find every slot taken wait in the queue; whoever finishes a statement
  hands out its results and wakes those callers, and hands the queue (up to `max_batch`
  keys) to the first caller in it, who runs the next statement for all of them.

No thread of its own and no timer. With `linger` 0 (the default) a lone caller runs its
statement at once; under load, statements carry the keys that arrived while the last ones
ran. Callers that can afford to wait (the code request, which answers no sooner than its
0.4-s floor) may give `linger` seconds: a caller that takes a free slot less than `linger`
after the previous caller arrived (so others are coming) waits that long first, and the
callers arriving meanwhile share its statement even when they come one at a time — at 150
code requests a second, a 50-ms linger puts about 8 keys in each statement instead of 1. A
caller with nobody before it for `linger` runs at once. A
failed statement fails every caller in its batch with the same error; the next batch tries
again. Keys and values stay in memory only for the life of the calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: statements of one kind running at once; more callers queue for the next one. One each
#: for identities and doses keeps 2 cores busy, and the longer queues make larger batches,
#: which cost less per key than a second statement running beside the first.
MAX_RUNNING = 1
#: keys per statement at most
MAX_BATCH = 64


class _Call(Generic[K, V]):
    """One caller's key, its answer, and the lock it sleeps on until woken: when its answer
    is in, or when it is handed a batch to run."""

    __slots__ = ("batch", "done", "error", "key", "value", "wake")

    def __init__(self, key: K) -> None:
        self.key = key
        self.done = False
        self.value: V | None = None
        self.error: BaseException | None = None
        self.batch: list[_Call[K, V]] | None = None
        self.wake = threading.Lock()
        self.wake.acquire()  # released once per wake-up; the caller sleeps acquiring it


class Coalesced(Generic[K, V]):
    """`get(key)` answered by `fetch(keys)`, one statement for the keys queued together.

    `fetch` returns a mapping for the keys it found; a key it leaves out gets `missing`.
    A finished statement wakes only its own callers and, if keys queued meanwhile, the
    first of them to run the next statement: no broadcast that would wake every waiter
    (with a hundred lookups in flight, a shared condition's wake-ups cost more interpreter
    time than the statements' answers).
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], Mapping[K, V]],
        missing: Callable[[], V],
        max_running: int = MAX_RUNNING,
        max_batch: int = MAX_BATCH,
        linger: float = 0.0,
    ) -> None:
        if max_running < 1 or max_batch < 1:
            raise ValueError("max_running and max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._linger = linger
        self._last_arrival = float("-inf")
        self._fetch = fetch
        self._missing = missing
        self._max_running = max_running
        self._max_batch = max_batch
        # calls waiting for a statement; never empty while a slot is free (a finished
        # statement hands the queue on before it gives its slot back)
        self._queue: list[_Call[K, V]] = []
        self._running = 0
        self._lock = threading.Lock()
        #: statements run and keys they carried (for the benchmark and tests)
        self.statements = 0
        self.keys = 0

    def _take(self) -> list[_Call[K, V]]:
        """The next batch from the queue's front (call with the lock held)."""
        batch = self._queue[: self._max_batch]
        del self._queue[: len(batch)]
        return batch

    def get(self, key: K) -> V:
        call: _Call[K, V] = _Call(key)
        batch: list[_Call[K, V]] | None = None
        lingering = False
        with self._lock:
            self._queue.append(call)
            now = time.monotonic()
            busy = now - self._last_arrival < self._linger  # others are coming
            self._last_arrival = now
            if self._running < self._max_running:  # a free slot: the queue is just this call
                self._running += 1
                lingering = busy
                if not lingering:
                    batch = self._take()
        if lingering:  # the slot is ours: let the others coming join before it runs
            time.sleep(self._linger)
            with self._lock:
                batch = self._take()
        while not call.done:
            if batch is None:
                call.wake.acquire()  # until answered, or handed the next batch
                batch, call.batch = call.batch, None
            if batch is not None:
                self._run(batch)
                batch = None
        if call.error is not None:
            raise call.error
        return call.value  # type: ignore[return-value]  # set for every finished call

    def _run(self, batch: list[_Call[K, V]]) -> None:
        error: BaseException | None = None
        found: Mapping[K, V] = {}
        try:
            found = self._fetch(list(dict.fromkeys(call.key for call in batch)))
        except BaseException as failure:  # handed to every caller of the batch
            error = failure
        leader: _Call[K, V] | None = None
        with self._lock:
            self.statements += 1
            self.keys += len(batch)
            if self._queue:  # the slot passes to the first caller that queued meanwhile
                leader = self._queue[0]
                leader.batch = self._take()
            else:
                self._running -= 1
        for call in batch:
            call.error = error
            if error is None:
                call.value = found[call.key] if call.key in found else self._missing()
            call.done = True
            call.wake.release()
        if leader is not None:
            leader.wake.release()
