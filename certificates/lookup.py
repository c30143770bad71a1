"""Citizen certificate lookup: details → one-time code by SMS → the certificate.

1. `Lookup.request_code` takes the CCCD, full name, date of birth and phone a citizen
   typed. It always answers with a fresh opaque request token, whether or not a person
   matches: the caller cannot tell "no such person" from "details do not match". Only on a
   match is a 6-digit code sent, through the pluggable `SmsSender`, to the typed phone
   (whose keyed hash must equal the one on record). Sending happens on background threads
   (up to `senders` codes at once, each waiting on its gateway call) so the answer's timing
   does not depend on it; the web layer also pads every answer to a fixed floor.
2. `Lookup.confirm` takes the token and the code: at most `max_attempts` tries, valid for
   5 minutes, single-use (the challenge is deleted on success, and a store that loses the
   delete race refuses). It returns the citizen key, never the details typed.

Challenges hold only the citizen key (a pseudonym), a keyed hash of the code, the expiry
and the attempt count — no CCCD, name or phone — in process memory (embedded mode) or
Redis (production, ``VAX_CACHE_URL=redis://…``).

Names match when equal after Unicode normalisation, case folding, whitespace collapsing and
moving each word's tone mark to one canonical place ("Hoà" = "Hòa", "Thuý" = "Thúy"); the
tone itself and every other diacritic must agree ("Nguyen" ≠ "Nguyễn").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from certificates.reads import CitizenReads
from warehouse.client import Warehouse

log = logging.getLogger(__name__)

#: a queued code is dropped rather than sent with less than this left to use it
MIN_CODE_LIFE_SECONDS = 60
CODE_TTL_SECONDS = 300
MAX_ATTEMPTS = 5
#: codes sent at once at most (each waits on the SMS gateway; VAX_SMS_WORKERS)
SENDERS = 32
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng


class LookupInputError(ValueError):
    """The typed details are malformed (said to the user; says nothing about any person)."""


@dataclass(frozen=True)
class Details:
    citizen_id: str
    full_name: str
    date_of_birth: dt.date
    phone: str


def normalise_name(name: str) -> str:
    """A comparison form tolerant of case, spacing and tone-mark placement, nothing looser."""
    words = []
    for word in unicodedata.normalize("NFD", name).casefold().split():
        tones = "".join(c for c in word if c in _TONES)
        base = "".join(c for c in word if c not in _TONES)
        words.append(unicodedata.normalize("NFC", base) + tones)
    return " ".join(words)


def normalise_phone(phone: str) -> str:
    """Digits of a Vietnamese mobile number in national form (0xxxxxxxxx)."""
    digits = re.sub(r"[\s.\-()]", "", phone)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0\d{9}", digits):
        raise LookupInputError("phone")
    return digits


def parse_details(citizen_id: str, full_name: str, date_of_birth: str, phone: str) -> Details:
    """Validate the typed form; LookupInputError names the malformed field."""
    cccd = re.sub(r"\s", "", citizen_id or "")
    if not re.fullmatch(r"\d{12}", cccd):
        raise LookupInputError("citizen_id")
    if not (full_name or "").strip() or len(full_name) > 120:
        raise LookupInputError("full_name")
    try:
        born = dt.date.fromisoformat((date_of_birth or "").strip())
    except ValueError:
        raise LookupInputError("date_of_birth") from None
    return Details(cccd, full_name.strip(), born, normalise_phone(phone or ""))


def mask_phone(phone: str) -> str:
    return "*" * (len(phone) - 3) + phone[-3:]


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class OutboxSender:
    """Embedded-mode SMS: appends to a local outbox file that a demo page shows.

    The outbox stands for the citizen's phone, so it holds the message (with its code); the
    number is kept masked (last three digits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, phone: str, message: str) -> None:
        entry = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "to": mask_phone(phone),
            "message": message,
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def recent(self, limit: int = 20) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-limit:]
        return [json.loads(line) for line in reversed(lines)]


@dataclass
class Challenge:
    citizen_key: str  # '' for a request that matched nobody: it can never succeed
    code_hash: str
    expires_at: float
    attempts: int = 0


class ChallengeStore(Protocol):
    def put(self, token: str, challenge: Challenge) -> None: ...
    def attempt(self, token: str) -> Challenge | None:
        """Count one attempt and return the challenge (None when unknown or expired)."""

    def consume(self, token: str) -> bool:
        """Delete the challenge; True only for the one caller that deleted it."""


class MemoryChallengeStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[str, Challenge] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def put(self, token: str, challenge: Challenge) -> None:
        with self._lock:
            # challenges are kept in the order put, which is the order they expire in (one
            # lifetime for all): drop expired ones from the front, never scan them all
            now = self._clock()
            items = self._items
            expired = list(itertools.takewhile(lambda t: items[t].expires_at < now, items))
            for stale in expired:
                del self._items[stale]
            self._items[token] = challenge

    def attempt(self, token: str) -> Challenge | None:
        with self._lock:
            challenge = self._items.get(token)
            if challenge is None or challenge.expires_at < self._clock():
                return None
            challenge.attempts += 1
            return Challenge(**asdict(challenge))

    def consume(self, token: str) -> bool:
        with self._lock:
            return self._items.pop(token, None) is not None


class RedisChallengeStore:
    """Challenges in Redis (shared by every web worker), expiring with the code."""

    def __init__(self, url: str, prefix: str = "vax:otp:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def put(self, token: str, challenge: Challenge) -> None:
        key = self._prefix + token
        ttl = max(1, int(challenge.expires_at - time.time()))
        fields = {k: str(v) for k, v in asdict(challenge).items()}
        with self._redis.pipeline() as pipe:
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, ttl)
            pipe.execute()

    def attempt(self, token: str) -> Challenge | None:
        key = self._prefix + token
        if not self._redis.exists(key):
            return None
        attempts = int(self._redis.hincrby(key, "attempts", 1))
        raw: Any = self._redis.hgetall(key)
        if not raw or b"code_hash" not in raw:
            self._redis.delete(key)  # expired between the two calls: drop the stray counter
            return None
        return Challenge(
            citizen_key=raw[b"citizen_key"].decode(),
            code_hash=raw[b"code_hash"].decode(),
            expires_at=float(raw[b"expires_at"]),
            attempts=attempts,
        )

    def consume(self, token: str) -> bool:
        return int(self._redis.delete(self._prefix + token)) == 1


class Lookup:
    """The lookup flow over a warehouse, an SMS sender and a challenge store."""

    def __init__(
        self,
        warehouse: Warehouse,
        pseudonym_key: bytes,
        sender: SmsSender,
        store: ChallengeStore,
        clock: Callable[[], float] = time.time,
        max_attempts: int = MAX_ATTEMPTS,
        senders: int = SENDERS,
    ) -> None:
        self.warehouse = warehouse
        self.pseudonym_key = pseudonym_key
        self.reads = CitizenReads(warehouse, pseudonym_key)
        self.sender = sender
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        # one thread per code in flight: a gateway call waits on the network, and one at a
        # time (at 0.2 s a call) would send 5 codes a second while lookups ask for 200
        self._sending = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="sms")
        self._queued: set[Future[bool]] = set()
        self._counting = threading.Lock()
        #: codes the sender took so far
        self.sent = 0

    def _code_hash(self, token: str, code: str) -> str:
        return hmac.new(
            self.pseudonym_key, f"otp:{token}:{code}".encode(), hashlib.sha256
        ).hexdigest()

    def request_code(self, details: Details) -> str:
        """A request token; a code goes to the phone only if every detail matches."""
        key, identity, phone_hash = self.reads.find_identity(details.citizen_id, details.phone)
        matches = (
            identity is not None
            and hmac.compare_digest(
                normalise_name(identity.full_name).encode(),
                normalise_name(details.full_name).encode(),
            )
            and identity.date_of_birth == details.date_of_birth
            and bool(identity.phone_hash)
            and hmac.compare_digest(identity.phone_hash, phone_hash)
        )
        return self.challenge(
            key if matches else "",
            details.phone if matches else "",
            "VaxViet: ma xac nhan giay chung nhan tiem chung {code} (hieu luc 5 phut)",
        )

    def challenge(self, subject: str, phone: str, message: str) -> str:
        """A request token for `subject` (what :meth:`confirm` returns for the right code);
        the code goes to `phone` in `message` (``{code}`` in it). An empty subject or phone:
        a token that can never succeed, and nothing sent (same answer for the caller)."""
        token = secrets.token_urlsafe(24)
        code = f"{secrets.randbelow(10**6):06d}"
        expires_at = self.clock() + CODE_TTL_SECONDS
        self.store.put(
            token,
            Challenge(
                citizen_key=subject if phone else "",
                code_hash=self._code_hash(token, code),
                expires_at=expires_at,
            ),
        )
        if subject and phone:
            self._queue(phone, message.format(code=code), expires_at)
        return token

    def notify(self, phone: str, message: str) -> None:
        """Send a message that is not a code (a correction request's reference) by the same
        queue; it is dropped if it waits more than a day."""
        self._queue(phone, message, self.clock() + 86_400)

    def _queue(self, phone: str, message: str, expires_at: float) -> None:
        """Hand one code to the sending threads."""
        queued = self._sending.submit(self._deliver, phone, message, expires_at)
        with self._counting:
            self._queued.add(queued)
        queued.add_done_callback(self._sent_or_dropped)

    def _deliver(self, phone: str, message: str, expires_at: float) -> bool:
        """Send one code from the queue, unless it would arrive with under a minute left
        (a gateway outage holds the queue; a stale code only confuses). Failures are logged
        by kind only: no number, no code. Returns whether the sender took it."""
        if self.clock() > expires_at - MIN_CODE_LIFE_SECONDS:
            log.warning("a one-time code expired while queued for SMS; not sent")
            return False
        try:
            self.sender.send(phone, message)
        except Exception as error:  # the queue must go on; only the kind is logged
            log.warning("a one-time code was not delivered by SMS: %s", type(error).__name__)
            return False
        with self._counting:
            self.sent += 1
        return True

    def _sent_or_dropped(self, done: Future[bool]) -> None:
        with self._counting:
            self._queued.discard(done)

    def confirm(self, token: str, code: str) -> str | None:
        """The citizen key for a right code within its time and attempts, once; else None."""
        challenge = self.store.attempt(token)
        if challenge is None or challenge.expires_at < self.clock():
            return None
        if challenge.attempts > self.max_attempts:
            self.store.consume(token)
            return None
        right = hmac.compare_digest(challenge.code_hash, self._code_hash(token, code.strip()))
        if not right or not challenge.citizen_key:
            return None
        return challenge.citizen_key if self.store.consume(token) else None

    def wait_for_sending(self) -> None:
        """Block until the messages queued so far are sent or dropped (tests, shutdown)."""
        with self._counting:
            queued = list(self._queued)
        wait(queued)
