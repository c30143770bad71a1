"""The officials who may open the internal dashboards, kept in the registry database.

One table, ``dashboard_users``, created by :func:`ensure_table` with its own SQLAlchemy
metadata (it is not part of the registry's operational model, so it needs no Alembic
revision and never races one). A user has a role: ``national`` (every province) or
``province`` with one GSO code (that province only). Passwords are stored as scrypt hashes
(:func:`hash_password`): ``scrypt$n$r$p$salt$hash`` with a random 16-byte salt, compared in
constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

Role = Literal["national", "province"]

METADATA: Final = MetaData()
USERS: Final = Table(
    "dashboard_users",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("province_code", String(2), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: scrypt cost: 2^14 x 8 x 1 is ~16 MiB and ~50 ms per check on one core
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_NAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
MIN_PASSWORD: Final = 10


class UserError(Exception):
    """A user cannot be added or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    """A dashboard user as the web app sees it (never the hash)."""

    id: int
    name: str
    role: Role
    province_code: str  # "" for national users
    active: bool

    @property
    def scope(self) -> str:
        """The province every query of this user is limited to ("" = the whole country)."""
        return self.province_code if self.role == "province" else ""


def parse_role(text: str, province_codes: set[str]) -> tuple[Role, str]:
    """``national`` or ``province:<gso_code>`` as (role, province code)."""
    if text == "national":
        return "national", ""
    kind, _, code = text.partition(":")
    if kind == "province" and code in province_codes:
        return "province", code
    raise UserError(
        f"role must be 'national' or 'province:<GSO code>' (e.g. province:01), not {text!r}"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches the `stored` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: compared against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH: Final = hash_password("not a password", salt=b"\0" * 16)


def ensure_table(engine: Engine) -> None:
    """Create the tables of `METADATA` that are missing (idempotent): ``dashboard_users``,
    and ``dashboard_sessions`` when :mod:`dashboards.sessions` is imported (the web app)."""
    METADATA.create_all(engine, checkfirst=True)


def user_from_row(row: object) -> User:
    mapping = row._mapping  # type: ignore[attr-defined]
    return User(
        id=int(mapping["id"]),
        name=str(mapping["name"]),
        role=mapping["role"],
        province_code=str(mapping["province_code"] or ""),
        active=bool(mapping["active"]),
    )


def add_user(engine: Engine, name: str, password: str, role: Role, province_code: str = "") -> User:
    if not _NAME.match(name):
        raise UserError("a user name is 3-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    if (role == "province") != bool(province_code):
        raise UserError("a provincial user needs exactly one province; a national user none")
    values = {
        "name": name,
        "password_hash": hash_password(password),
        "role": role,
        "province_code": province_code,
        "active": True,
        "created_at": datetime.now(UTC),
    }
    try:
        with engine.begin() as connection:
            new_id = connection.execute(insert(USERS).values(**values)).inserted_primary_key
    except IntegrityError:
        raise UserError(f"a user named {name!r} already exists") from None
    assert new_id is not None
    return User(int(new_id[0]), name, role, province_code, True)


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.id == user_id)).first()
    return user_from_row(row) if row is not None else None


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).first()
    return user_from_row(row) if row is not None else None


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    with engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).first()
    stored = str(row._mapping["password_hash"]) if row is not None else _DUMMY_HASH
    matches = check_password(password, stored)
    if row is None or not matches:
        return None
    user = user_from_row(row)
    return user if user.active else None


def set_active(engine: Engine, name: str, active: bool) -> bool:
    """Enable or disable a user; False when there is no such user. A disabled user's
    open sessions end at their next request."""
    with engine.begin() as connection:
        result = connection.execute(update(USERS).where(USERS.c.name == name).values(active=active))
    return bool(result.rowcount)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as connection:
        rows = connection.execute(select(USERS).order_by(USERS.c.name)).all()
    return [user_from_row(row) for row in rows]
