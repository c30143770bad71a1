"""vaxviet.serving: the waitress dispatcher's notes on each queued request and its priority
lane (no threads started: the queue is read directly)."""

from __future__ import annotations

from types import SimpleNamespace

from vaxviet.serving import AHEAD, StampingDispatcher, queue_ahead, waited


def task(path: str) -> SimpleNamespace:
    channel = SimpleNamespace(requests=[SimpleNamespace(path=path)])
    channel.check_client_disconnected = lambda: None
    return channel


def test_requests_are_noted_with_the_queue_ahead_and_priority_goes_first() -> None:
    dispatcher = StampingDispatcher(priority=("/healthz", "/api/v1/certificate/"))
    dispatcher.active_count = 0  # no thread: every request waits
    pages = [task(f"/page/{n}") for n in range(3)]
    for page in pages:
        dispatcher.add_task(page)
    assert [getattr(page, AHEAD) for page in pages] == [0, 1, 2]
    lookup = task("/api/v1/certificate/code")
    dispatcher.add_task(lookup)
    health = task("/healthz")
    dispatcher.add_task(health)
    assert list(dispatcher.queue) == [health, lookup, *pages]
    assert getattr(lookup, AHEAD) == 0 and getattr(health, AHEAD) == 0
    environ = {"waitress.client_disconnected": pages[2].check_client_disconnected}
    assert queue_ahead(environ) is None  # a lambda has no __self__: not a waitress channel
    assert queue_ahead({}) is None and waited({}) is None


def test_a_channel_s_notes_reach_the_application() -> None:
    class Channel:
        def __init__(self) -> None:
            self.requests = [SimpleNamespace(path="/")]

        def check_client_disconnected(self) -> bool:
            return False

    dispatcher = StampingDispatcher()
    dispatcher.active_count = 0
    first, second = Channel(), Channel()
    dispatcher.add_task(first)
    dispatcher.add_task(second)
    environ = {"waitress.client_disconnected": second.check_client_disconnected}
    assert queue_ahead(environ) == 1
    seconds = waited(environ)
    assert seconds is not None and 0 <= seconds < 5
