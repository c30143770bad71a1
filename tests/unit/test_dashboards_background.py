"""The dashboards' background page builds (dashboards.background): one build per key at a
time, failures reported once and then tried again."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest

import dashboards.background
from dashboards.background import Builds


@pytest.fixture
def builds() -> Any:
    running = Builds()
    yield running
    running.shutdown()


def test_a_key_under_way_is_not_built_twice(builds: Builds) -> None:
    release = threading.Event()
    calls: list[str] = []

    def job(name: str) -> Any:
        def run() -> str:
            calls.append(name)
            release.wait(10)
            return name

        return run

    first = builds.start("stock/VN", job("first"))
    again = builds.start("stock/VN", job("again"))
    other = builds.start("stock/79", job("other"))
    assert again is first and other is not first
    assert builds.pending() == 2
    release.set()
    assert first.result(10) == "first" and other.result(10) == "other"
    assert calls == ["first", "other"]
    later: Future[Any] = builds.start("stock/VN", job("later"))  # done: a new build
    assert later.result(10) == "later" and builds.pending() == 0


def test_a_failure_is_reported_once_then_tried_again(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise ConnectionError("warehouse gone")

    failed = builds.start("quality/VN", broken)
    with pytest.raises(ConnectionError):
        failed.result(10)
    assert builds.start("quality/VN", lambda: "ok") is failed  # the next request sees it
    assert builds.start("quality/VN", lambda: "ok").result(10) == "ok"  # then a new try
    failed = builds.start("quality/VN", broken)
    with pytest.raises(ConnectionError):
        failed.result(10)
    # the build's own end (its done callback, on the worker thread) has noted the failure:
    # until then a request is told of it whatever the time (start() settles it itself)
    deadline = time.monotonic() + 10
    while "quality/VN" in builds._running:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    monkeypatch.setattr(dashboards.background, "FAILED_SECONDS", 0.0)  # reported too late
    assert builds.start("quality/VN", lambda: "ok").result(10) == "ok"
