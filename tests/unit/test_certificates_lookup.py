"""Lookup rules without a warehouse: name matching, input checks, the one-time code."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from certificates import issue, lookup


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("nguyễn văn an", "Nguyễn Văn An"),
        ("  NGUYỄN   VĂN  AN ", "Nguyễn Văn An"),
        ("Nguyễn Văn An", "Nguye\u0302\u0303n Va\u0306n An"),  # decomposed Unicode
        ("Lê Thị Hoà", "Lê Thị Hòa"),  # old and new tone placement
        ("Trần Thuý", "Trần Thúy"),
    ],
)
def test_names_that_match(typed: str, recorded: str) -> None:
    assert lookup.normalise_name(typed) == lookup.normalise_name(recorded)


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("Nguyen Van An", "Nguyễn Văn An"),  # diacritics dropped
        ("Nguyễn Văn Ân", "Nguyễn Văn An"),  # another letter
        ("Lê Thị Hỏa", "Lê Thị Hòa"),  # another tone
        ("Nguyễn An", "Nguyễn Văn An"),
        ("Dương", "Đương"),
    ],
)
def test_names_that_do_not(typed: str, recorded: str) -> None:
    assert lookup.normalise_name(typed) != lookup.normalise_name(recorded)


def test_details_are_checked() -> None:
    details = lookup.parse_details("0790 9012 3456", "Nguyễn Văn An", "1990-05-01", "+84987654321")
    assert details.citizen_id == "079090123456" and details.phone == "0987654321"
    for field, args in [
        ("citizen_id", ("07909012345", "A", "1990-05-01", "0987654321")),
        ("full_name", ("079090123456", " ", "1990-05-01", "0987654321")),
        ("date_of_birth", ("079090123456", "A", "01/05/1990", "0987654321")),
        ("phone", ("079090123456", "A", "1990-05-01", "12345")),
    ]:
        with pytest.raises(lookup.LookupInputError, match=field):
            lookup.parse_details(*args)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def flow(clock: Clock) -> tuple[lookup.Lookup, str]:
    store = lookup.MemoryChallengeStore(clock)
    service = lookup.Lookup(None, b"k" * 32, lookup.OutboxSender(Path("/dev/null")), store, clock)  # type: ignore[arg-type]
    token = "t"
    store.put(
        token,
        lookup.Challenge("citizen-key", service._code_hash(token, "123456"), clock() + 300),
    )
    return service, token


def test_code_is_single_use() -> None:
    service, token = flow(Clock())
    assert service.confirm(token, "123456") == "citizen-key"
    assert service.confirm(token, "123456") is None


def test_code_expires_after_five_minutes() -> None:
    clock = Clock()
    service, token = flow(clock)
    clock.now += 301
    assert service.confirm(token, "123456") is None


def test_attempts_are_limited() -> None:
    service, token = flow(Clock())
    for _ in range(lookup.MAX_ATTEMPTS - 1):
        assert service.confirm(token, "000000") is None
    assert service.confirm(token, "123456") == "citizen-key"  # the fifth try still counts
    service, token = flow(Clock())
    for _ in range(lookup.MAX_ATTEMPTS):
        assert service.confirm(token, "000000") is None
    assert service.confirm(token, "123456") is None  # locked out


def test_a_request_that_matched_nobody_never_succeeds() -> None:
    clock = Clock()
    store = lookup.MemoryChallengeStore(clock)
    service = lookup.Lookup(None, b"k" * 32, lookup.OutboxSender(Path("/dev/null")), store, clock)  # type: ignore[arg-type]
    store.put("t", lookup.Challenge("", service._code_hash("t", "123456"), clock() + 300))
    assert service.confirm("t", "123456") is None


class Recording:
    def __init__(self, fails: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fails = fails

    def send(self, phone: str, message: str) -> None:
        if self.fails:
            raise OSError(f"gateway down for {phone}")
        self.sent.append((phone, message))


def test_a_code_that_waited_out_its_life_in_the_queue_is_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    sender = Recording()
    store = lookup.MemoryChallengeStore(clock)
    service = lookup.Lookup(None, b"k" * 32, sender, store, clock)  # type: ignore[arg-type]
    expires = clock() + lookup.CODE_TTL_SECONDS
    assert service._deliver("0987654321", "code 123456", expires)
    clock.now = expires - lookup.MIN_CODE_LIFE_SECONDS + 1  # the gateway held the queue
    assert not service._deliver("0987654321", "code 654321", expires)
    assert sender.sent == [("0987654321", "code 123456")]
    failing = lookup.Lookup(None, b"k" * 32, Recording(fails=True), store, Clock())  # type: ignore[arg-type]
    assert not failing._deliver("0987654321", "code 111111", expires)
    assert "OSError" in caplog.text
    assert "0987654321" not in caplog.text and "654321" not in caplog.text
    assert "111111" not in caplog.text


def test_outbox_masks_the_number(tmp_path: Path) -> None:
    outbox = lookup.OutboxSender(tmp_path / "sms.jsonl")
    outbox.send("0987654321", "code 111111")
    (entry,) = outbox.recent()
    assert entry["to"] == "*******321" and "0987654321" not in json.dumps(entry)


def test_masked_name_and_card_fields() -> None:
    assert issue.mask_name("Nguyễn Văn An") == "Nguyễn V. A."
    assert issue.mask_name("Lê") == "Lê"
    assert issue.transliterate("Đặng Thị Ánh-Dương") == "DANG<THI<ANH<DUONG"
    assert issue.split_name(" Trần  Quốc Trung ") == ("Trần", "Quốc Trung")


def test_the_memory_store_drops_expired_challenges_as_it_goes() -> None:
    now = [1000.0]
    store = lookup.MemoryChallengeStore(lambda: now[0])
    for n in range(5):
        store.put(f"t{n}", lookup.Challenge("k", "h", expires_at=now[0] + 300))
        now[0] += 100
    # at 1500, t0 (expiring at 1300) and t1 (1400) have expired, t2 (1500) has not yet
    store.put("t5", lookup.Challenge("k", "h", expires_at=now[0] + 300))
    assert list(store._items) == ["t2", "t3", "t4", "t5"]
    assert store.attempt("t2") is not None and store.attempt("t0") is None


class AtOnce:
    """A gateway that answers only when `together` sends are in flight at the same time."""

    def __init__(self, together: int) -> None:
        self.barrier = threading.Barrier(together, timeout=10)
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, phone: str, message: str) -> None:
        self.barrier.wait()  # BrokenBarrierError if the codes went out one at a time
        with self.lock:
            self.sent.append(phone)


def test_codes_go_out_side_by_side_and_waiting_covers_them_all() -> None:
    """A slow gateway must not queue every code behind the one it is answering: with four
    senders, four codes are in flight at once (the gateway stand-in waits for four), and
    `wait_for_sending` returns only once every one of them is through."""
    sender = AtOnce(4)
    service = lookup.Lookup(None, b"k" * 32, sender, lookup.MemoryChallengeStore(), senders=4)  # type: ignore[arg-type]
    expires = service.clock() + lookup.CODE_TTL_SECONDS
    for n in range(8):
        service._queue(f"09876543{n:02d}", "code", expires)
    service.wait_for_sending()
    assert sorted(sender.sent) == [f"09876543{n:02d}" for n in range(8)]
    assert service.sent == 8 and not service._queued
