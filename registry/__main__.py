"""``python -m registry migrate | seed | live`` — the operational registry and its simulator.

    python -m registry seed --scale 0.01 [--until 2021-08-04] [--seed 1] [--error-rate 0.005]
    python -m registry live [--rate 50] [--duration 60]

The database is ``VAX_SOURCE_DSN`` (default: a SQLite file under ``var/``). Each command
ends with a one-line JSON summary on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import date
from typing import Any

from vaxviet.cli import fail, load_settings, summary
from vaxviet.logs import configure


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m registry", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the registry tables")
    seed = commands.add_parser("seed", help="fill the registry with a simulated national campaign")
    seed.add_argument("--scale", type=_positive, default=0.01,
                      help="share of the real national volume (1.0 = ~266 M doses; default 0.01)")  # fmt: skip
    seed.add_argument("--until", type=_date, default=None, help="last day (default 2023-06-30)")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    seed.add_argument("--error-rate", type=float, default=0.005,
                      help="share of records with realistic errors (default 0.005)")  # fmt: skip
    seed.add_argument("--if-empty", action="store_true",
                      help="do nothing if the registry already holds doses")  # fmt: skip
    seed.add_argument("--no-progress", action="store_true", help="no progress bar")
    live = commands.add_parser("live", help="keep recording new doses in real time")
    live.add_argument("--rate", type=_positive, default=None,
                      help="a flat number of doses per second (default: the sample's share "
                           "of a real busy day, after catching up on the last 24 h)")  # fmt: skip
    live.add_argument("--duration", type=_positive, default=None, help="stop after N seconds")
    live.add_argument("--seed", type=int, default=None, help="random seed")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    configure(settings.log_level)
    from registry.db import RegistryError, make_engine, migrate

    try:
        engine = make_engine(settings.source_dsn)
        started = time.monotonic()
        revision = migrate(engine)
    except RegistryError as error:
        fail(str(error), 2)
    except Exception as error:  # a database that cannot be reached or migrated
        fail(f"cannot open the registry database: {error}")
    if args.command == "migrate":
        summary({"command": "migrate", "revision": revision,
                 "seconds": round(time.monotonic() - started, 2)})  # fmt: skip
        return 0
    if args.command == "seed":
        return _seed(engine, args)
    return _live(engine, args)


def _seed(engine: Any, args: argparse.Namespace) -> int:
    from geo.calendar import CAMPAIGN_END
    from registry.simulator import SeedOptions, registry_doses, seed

    try:
        options = SeedOptions(
            scale=args.scale, until=args.until or CAMPAIGN_END, seed=args.seed,
            error_rate=args.error_rate,
        )  # fmt: skip
    except ValueError as error:
        fail(str(error), 2)
    existing = registry_doses(engine)
    if existing and args.if_empty:
        summary({"command": "seed", "skipped": True, "existing_doses": existing})
        return 0
    if existing:
        fail(
            f"the registry already holds {existing:,} doses; seed an empty database "
            "(set VAX_SOURCE_DSN to a new file or database), or pass --if-empty"
        )
    from registry.calibration import daily_targets

    total = int(daily_targets(options.scale, options.until)["doses"].sum())
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=" doses", unit_scale=True, file=sys.stderr,
                   desc=f"seeding scale {options.scale}")  # fmt: skip

    def progress(day: date, written: int) -> None:
        if bar is not None:
            bar.set_postfix_str(day.isoformat())
            bar.update(written)

    report = seed(engine, options, progress)
    if bar is not None:
        bar.close()
    summary(report.summary())
    return 0


def _live(engine: Any, args: argparse.Namespace) -> int:
    from registry.live import run_live

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    report = run_live(engine, rate=args.rate, stop=stop, duration=args.duration, seed=args.seed)
    summary(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
