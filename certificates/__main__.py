"""Command line: ``python -m certificates {verify,keys,trust-list,build-data}``.

``verify [--trust FILE] [--at ISO_TIME] HC1_TEXT_OR_PNG_PATH`` prints one JSON document
(``valid``, ``status``, ``payload``, ``stages`` …; see certificates.verify) and exits 0 when
the certificate is valid, 1 when it is not, 2 on a usage error (bad option, unreadable
trust file, unreadable clock, missing image file). An argument naming an existing file is
read as an image; anything else is the QR text itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m certificates", description="VaxViet vaccination certificates."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verify = commands.add_parser("verify", help="verify a certificate QR (text or image)")
    verify.add_argument(
        "--trust",
        type=Path,
        default=None,
        help="signer certificate (PEM/DER) or trust-list JSON (default: the platform's own)",
    )
    verify.add_argument("--at", default=None, help="validation clock, ISO 8601 (default: now)")
    verify.add_argument("input", metavar="HC1_TEXT_OR_PNG_PATH")
    keys = commands.add_parser("keys", help="show (first run: create) the signing key")
    keys.add_argument(
        "--rotate", action="store_true", help="sign with a new key; keep the old one trusted"
    )
    commands.add_parser("trust-list", help="print the platform's trust list JSON")
    build = commands.add_parser(
        "build-data", help="copy the DCC schema, value sets and test vectors into the repo"
    )
    build.add_argument("--source", type=Path, default=None, help="the shared data folder")
    build.add_argument(
        "--check", action="store_true", help="compare only; exit 1 on any difference"
    )
    return parser


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _verify(trust_path: Path | None, at_text: str | None, source: str) -> int:
    from certificates import keys, verify
    from certificates.trust import TrustError, TrustList
    from vaxviet.settings import Settings, SettingsError

    try:
        at = dt.datetime.now(dt.UTC) if at_text is None else verify.parse_instant(at_text)
    except verify.ClockError as error:
        return _usage(str(error))
    try:
        if trust_path is not None:
            trust = TrustList.load(trust_path)
        else:
            trust = keys.trust_list(Settings.from_env())
    except (TrustError, SettingsError, keys.KeyStoreError) as error:
        return _usage(f"trust: {error}")

    path = Path(source)
    if path.is_file():
        try:
            image = path.read_bytes()
        except OSError as error:
            return _usage(f"cannot read {source}: {error.strerror}")
        result = verify.verify_image(image, trust, at)
    elif path.suffix.lower() in _IMAGE_SUFFIXES:
        return _usage(f"no such image file: {source}")
    else:
        result = verify.verify_text(source, trust, at)
    _print(result.to_json())
    return EXIT_VALID if result.valid else EXIT_INVALID


def _keys(rotate: bool) -> int:
    from certificates import keys
    from vaxviet.cli import load_settings

    settings = load_settings()
    try:
        signing = keys.rotate(settings) if rotate else keys.ensure(settings)
        trusted = keys.trust_list(settings)
    except keys.KeyStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    _print(
        {
            "command": "keys",
            "rotated": rotate,
            "kid": signing.kid.hex(),
            "certificate": str(settings.signing_cert_path),
            "trusted_keys": len(trusted.signers),
        }
    )
    return 0


def _trust_list() -> int:
    from certificates import keys
    from vaxviet.cli import load_settings

    try:
        document = keys.trust_list(load_settings()).to_json()
    except keys.KeyStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    _print(document)
    return 0


def _build(source: Path | None, check: bool) -> int:
    from certificates.build_data import DEFAULT_SOURCE, BuildError, build

    try:
        outcome = build(source or DEFAULT_SOURCE, check=check)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _print({"command": "build-data", "check": check, **outcome})
    return 1 if check and outcome["differences"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        return _verify(args.trust, args.at, args.input)
    if args.command == "keys":
        return _keys(args.rotate)
    if args.command == "trust-list":
        return _trust_list()
    return _build(args.source, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
