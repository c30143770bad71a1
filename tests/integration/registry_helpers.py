"""What the tests on a real registry share: a seeded registry, its rows as a frame, its
times in local time."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

from geo.calendar import TIME_ZONE
from registry.db import make_engine, migrate
from registry.simulator import SeedOptions, seed


def seeded_registry(dsn: str, options: SeedOptions) -> Engine:
    """The registry at `dsn`, migrated and seeded by the campaign simulator."""
    engine = make_engine(dsn)
    migrate(engine)
    seed(engine, options)
    return engine


def frame(engine: Engine, sql: str) -> pd.DataFrame:
    """The rows of a registry query, with its column names."""
    with engine.connect() as connection:
        result = connection.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def local(values: pd.Series) -> pd.Series:
    """Registry times in local time (a time without an offset is read as UTC)."""
    return pd.to_datetime(values, utc=True, format="mixed").dt.tz_convert(TIME_ZONE)
