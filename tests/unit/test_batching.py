"""`Coalesced`: concurrent point reads share statements, each caller gets its own answer,
failures reach every caller of the failed statement and no one waits for ever."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from warehouse.batching import Coalesced


class Slow:
    """A fetch that blocks until released and records the keys of every statement."""

    def __init__(self) -> None:
        self.statements: list[list[int]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.fail_next = False

    def __call__(self, keys: list[int]) -> dict[int, str]:
        self.statements.append(list(keys))
        self.started.set()
        self.release.wait(5)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the warehouse refused")
        return {key: f"value {key}" for key in keys if key % 10 != 0}


def test_a_lone_caller_runs_its_own_statement_at_once() -> None:
    fetch = Slow()
    fetch.release.set()
    reads = Coalesced(fetch, lambda: "missing")
    assert reads.get(3) == "value 3"
    assert reads.get(10) == "missing"
    assert fetch.statements == [[3], [10]]


def test_callers_queued_behind_a_running_statement_share_the_next() -> None:
    fetch = Slow()
    reads = Coalesced(fetch, lambda: "missing", max_running=1)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(reads.get, 1)
        assert fetch.started.wait(5)
        rest = {key: pool.submit(reads.get, key) for key in (2, 3, 20, 3)}
        while len(reads._queue) < 4:  # every caller queued behind the running statement
            threading.Event().wait(0.001)
        fetch.release.set()
        assert first.result(5) == "value 1"
        assert {key: future.result(5) for key, future in rest.items()} == {
            2: "value 2",
            3: "value 3",
            20: "missing",
        }
    assert fetch.statements[0] == [1]
    assert sorted(fetch.statements[1]) == [2, 3, 20]  # one statement, duplicate key once
    assert len(fetch.statements) == 2 and reads.statements == 2 and reads.keys == 5


def test_a_failed_statement_fails_its_callers_and_the_next_one_runs() -> None:
    fetch = Slow()
    reads = Coalesced(fetch, lambda: "missing", max_running=1)
    fetch.fail_next = True
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(reads.get, 1)
        assert fetch.started.wait(5)
        second = pool.submit(reads.get, 2)
        while not reads._queue:
            threading.Event().wait(0.001)
        fetch.release.set()
        with pytest.raises(RuntimeError, match="refused"):
            first.result(5)
        assert second.result(5) == "value 2"  # its statement came after the failed one


def test_batches_are_capped() -> None:
    fetch = Slow()
    reads = Coalesced(fetch, lambda: "missing", max_running=1, max_batch=2)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(reads.get, 1)
        assert fetch.started.wait(5)
        rest = [pool.submit(reads.get, key) for key in (2, 3, 4, 5, 6)]
        while len(reads._queue) < 5:
            threading.Event().wait(0.001)
        fetch.release.set()
        assert [future.result(5) for future in [first, *rest]] == [
            f"value {key}" for key in range(1, 7)
        ]
    assert all(len(keys) <= 2 for keys in fetch.statements)
    assert len(fetch.statements) == 4


@pytest.mark.parametrize(("max_running", "max_batch"), [(1, 64), (1, 3), (2, 5), (3, 1)])
def test_many_threads_all_answered(max_running: int, max_batch: int) -> None:
    fetch = Slow()
    fetch.release.set()
    reads = Coalesced(fetch, lambda: "missing", max_running=max_running, max_batch=max_batch)
    with ThreadPoolExecutor(48) as pool:
        answers = list(pool.map(reads.get, range(1, 4001)))
    assert answers == ["missing" if k % 10 == 0 else f"value {k}" for k in range(1, 4001)]
    assert reads.keys == 4000 and reads.statements <= 4000
    assert all(len(keys) <= max_batch for keys in fetch.statements)
    assert reads._running == 0 and not reads._queue  # every slot given back


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        Coalesced(Slow(), lambda: "", max_running=0)


def test_a_lingering_leader_takes_the_callers_that_arrive_one_at_a_time() -> None:
    """With `linger`, callers arriving one by one (never while a statement runs) still share
    statements: the first, with nobody before it, runs at once; the second, close behind it,
    waits for the third. Without it each runs its own."""
    for linger, statements in ((0.3, 2), (0.0, 3)):
        fetch = Slow()
        fetch.release.set()
        reads = Coalesced(fetch, lambda: "missing", linger=linger)
        with ThreadPoolExecutor(3) as pool:
            answers = []
            for key in (1, 2, 3):
                answers.append(pool.submit(reads.get, key))
                if not linger:
                    answers[-1].result(5)  # the statement is over before the next arrives
                else:
                    threading.Event().wait(0.02)
            assert [a.result(5) for a in answers] == ["value 1", "value 2", "value 3"]
        assert len(fetch.statements) == statements, fetch.statements
        if linger:
            assert fetch.statements == [[1], [2, 3]]
    with pytest.raises(ValueError):
        Coalesced(fetch, lambda: "missing", linger=-1)
