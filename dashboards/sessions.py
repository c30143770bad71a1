"""The officials' sessions, kept on the server: a login is a row of ``dashboard_sessions``
and the browser holds only its random token (inside Flask's signed session cookie), so that
logout and expiry end a session where it is checked, not only in the browser: a copy of
the cookie taken before logout, or kept past the session's end, opens nothing.

* :func:`start` at login: a new token (never the one the browser had before), valid for
  the session's minutes from now; auto-refresh does not extend it.
* :func:`resume` on every request under ``/internal``: the user of a live session, read
  with the user row (a disabled user is out at once); an expired session is ended there.
* :func:`end` at logout (and when a login replaces the browser's earlier session).

Only the token's SHA-256 is stored: the table holds nothing that opens a session. Rows of
sessions that expired more than `KEEP_DAYS` ago are removed at the next login.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from dashboards.users import METADATA, USERS, User, user_from_row

EndReason = Literal["logout", "expired", "replaced", "disabled"]

SESSIONS: Final = Table(
    "dashboard_sessions",
    METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey(USERS.c.id), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("end_reason", String(16), nullable=True),
)
#: how long the rows of ended sessions are kept (who was logged in when)
KEEP_DAYS: Final = 90
TOKEN_BYTES: Final = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    """A time read back from the database as UTC (SQLite gives it without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def start(engine: Engine, user_id: int, minutes: int, now: datetime | None = None) -> str:
    """A new session of `user_id` lasting `minutes`; returns its token."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with engine.begin() as connection:
        # every session has ended by its expiry: rows past it by KEEP_DAYS are history
        connection.execute(
            delete(SESSIONS).where(SESSIONS.c.expires_at < now - timedelta(days=KEEP_DAYS))
        )
        connection.execute(
            insert(SESSIONS).values(
                token_hash=_digest(token),
                user_id=user_id,
                started_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
        )
    return token


def end(engine: Engine, token: str, reason: EndReason, now: datetime | None = None) -> None:
    """End the session of `token` (nothing when it has already ended or never existed)."""
    with engine.begin() as connection:
        connection.execute(
            update(SESSIONS)
            .where(SESSIONS.c.token_hash == _digest(token), SESSIONS.c.ended_at.is_(None))
            .values(ended_at=now or datetime.now(UTC), end_reason=reason)
        )


def resume(engine: Engine, token: str, now: datetime | None = None) -> User | None:
    """The user of the live session `token`, else None (and an expired session, or one of
    a disabled user, is ended now)."""
    now = now or datetime.now(UTC)
    query = (
        select(USERS, SESSIONS.c.expires_at)
        .join(SESSIONS, SESSIONS.c.user_id == USERS.c.id)
        .where(SESSIONS.c.token_hash == _digest(token), SESSIONS.c.ended_at.is_(None))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    user = user_from_row(row)
    if _utc(row._mapping["expires_at"]) <= now:
        end(engine, token, "expired", now)
        return None
    if not user.active:
        end(engine, token, "disabled", now)
        return None
    return user
