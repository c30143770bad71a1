"""The registry stream reads the next batch on a thread of its own (etl.stream.prefetched):
same items in the same order, the reader's error raised in its place, an early stop closes
the reader."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etl.stream import prefetched


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def batches() -> Iterator[int]:
        for number in range(50):
            threads.add(threading.current_thread().name)
            yield number

    assert list(prefetched(batches())) == list(range(50))
    assert threads == {"registry-read"}


def test_the_readers_error_comes_after_the_items_before_it() -> None:
    def batches() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("registry gone")

    seen: list[int] = []
    with pytest.raises(ConnectionError, match="registry gone"):
        for item in prefetched(batches()):
            seen.append(item)
    assert seen == [1, 2]


def test_an_early_stop_closes_the_reader() -> None:
    closed = threading.Event()

    def batches() -> Iterator[int]:
        try:
            number = 0
            while True:
                yield number
                number += 1
        finally:
            closed.set()

    for item in prefetched(batches()):
        if item == 3:
            break
    assert closed.wait(5)


def test_a_loader_error_stops_the_reader() -> None:
    closed = threading.Event()

    def batches() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.set()

    with pytest.raises(RuntimeError, match="load failed"):
        for item in prefetched(batches()):
            if item == 1:
                raise RuntimeError("load failed")
    assert closed.wait(5)
