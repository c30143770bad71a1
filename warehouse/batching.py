"""Point reads from many threads coalesced into few statements.

A warehouse statement has a fixed cost that dwarfs a point read's own work: on embedded
chDB at 50 M doses, `SELECT 1` took 1.3 ms and an identity get 2.8 ms for one key and
3.2 ms for eight (ad hoc, one process, through this platform's client). Under load the
web server has several lookups in flight at once, each wanting one key. `Coalesced` lets
them share statements:

* a caller adds its key to the queue; when fewer than `max_running` statements of this
  kind are running, it takes the queue (up to `max_batch` keys, its own among them unless
  more are ahead of it) and runs one statement for all of them, in its own thread;
* callers that find every slot taken wait; whoever finishes a statement hands out its
  results and wakes them, and one of them runs the next statement for all that queued
  meanwhile.

No thread of its own, no timer and no added wait: a lone caller runs its statement at once,
as before; under load, statements carry the keys that arrived while the last ones ran. A
failed statement fails every caller in its batch with the same error; the next batch tries
again. Keys and values stay in memory only for the life of the calls.
"""

from __future__ import annotations

import threading
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
    __slots__ = ("done", "error", "key", "value")

    def __init__(self, key: K) -> None:
        self.key = key
        self.done = False
        self.value: V | None = None
        self.error: BaseException | None = None


class Coalesced(Generic[K, V]):
    """`get(key)` answered by `fetch(keys)`, one statement for the keys queued together.

    `fetch` returns a mapping for the keys it found; a key it leaves out gets `missing`.
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], Mapping[K, V]],
        missing: Callable[[], V],
        max_running: int = MAX_RUNNING,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if max_running < 1 or max_batch < 1:
            raise ValueError("max_running and max_batch must be at least 1")
        self._fetch = fetch
        self._missing = missing
        self._max_running = max_running
        self._max_batch = max_batch
        self._queue: list[_Call[K, V]] = []
        self._running = 0
        self._changed = threading.Condition()
        #: statements run and keys they carried (for the benchmark and tests)
        self.statements = 0
        self.keys = 0

    def get(self, key: K) -> V:
        call: _Call[K, V] = _Call(key)
        with self._changed:
            self._queue.append(call)
        while True:
            with self._changed:
                while not call.done and (self._running >= self._max_running or not self._queue):
                    self._changed.wait()
                if call.done:
                    break
                batch = self._queue[: self._max_batch]
                del self._queue[: len(batch)]
                self._running += 1
            self._run(batch)
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
        with self._changed:
            self._running -= 1
            self.statements += 1
            self.keys += len(batch)
            for call in batch:
                call.error = error
                if error is None:
                    call.value = found[call.key] if call.key in found else self._missing()
                call.done = True
            self._changed.notify_all()
