"""``python -m dashboards users …``: the officials who may open ``/internal/``.

* ``users add NAME --role national|province:<gso_code> [--password-stdin]`` — the password
  is asked twice at a prompt, or read as the first line of stdin;
* ``users list``; ``users disable NAME`` / ``users enable NAME``;
* ``users demo`` — embedded mode only (``make run``): on first use, creates one national and
  one provincial user with random passwords and prints them, once; later runs say they
  exist.

Users live in the registry database (``VAX_SOURCE_DSN``). Each command prints a one-line
JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from dashboards.users import (
    Role,
    UserError,
    add_user,
    ensure_table,
    find_user,
    list_users,
    parse_role,
    set_active,
)
from vaxviet.cli import fail, load_settings, summary

DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("demo-national", "national", ""),
    ("demo-province", "province", "79"),
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        fail("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    from geo.provinces import load_provinces
    from registry.db import make_engine

    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    users = groups.add_parser("users", help="dashboard users").add_subparsers(
        dest="command", required=True
    )
    add = users.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="national or province:<GSO code>")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users.add_parser("list", help="list the users")
    for verb in ("disable", "enable"):
        users.add_parser(verb, help=f"{verb} a user").add_argument("name")
    users.add_parser("demo", help="embedded demo: create one national and one provincial user")
    args = parser.parse_args(argv)

    settings = load_settings()
    engine = make_engine(settings.source_dsn)
    ensure_table(engine)
    codes = set(load_provinces()["gso_code"])
    try:
        if args.command == "add":
            role, province = parse_role(args.role, codes)
            user = add_user(engine, args.name, _password(args.password_stdin), role, province)
            summary(
                {"command": "users add", "name": user.name, "role": role, "province_code": province}
            )
        elif args.command == "list":
            rows = [
                {
                    "name": u.name,
                    "role": u.role,
                    "province_code": u.province_code,
                    "active": u.active,
                }
                for u in list_users(engine)
            ]
            summary({"command": "users list", "users": rows})
        elif args.command in ("disable", "enable"):
            if not set_active(engine, args.name, args.command == "enable"):
                fail(f"no user named {args.name!r}")
            summary({"command": f"users {args.command}", "name": args.name})
        else:
            if not settings.embedded:
                fail("users demo is for embedded mode only: use users add", 2)
            created = []
            for name, role, province in DEMO_USERS:
                if find_user(engine, name) is None:
                    password = secrets.token_urlsafe(12)
                    add_user(engine, name, password, role, province)
                    created.append(
                        {
                            "name": name,
                            "password": password,
                            "role": role,
                            "province_code": province,
                        }
                    )
            if created:
                print(
                    "Internal dashboards at /internal/ — demo logins (shown this once):",
                    file=sys.stderr,
                )
            summary(
                {
                    "command": "users demo",
                    "created": created,
                    "existing": [
                        n for n, _, _ in DEMO_USERS if n not in {c["name"] for c in created}
                    ],
                }
            )
    except UserError as error:
        fail(str(error))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
