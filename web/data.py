"""What both apps read about the data itself: when the ETL last committed (the "updated at"
of their data stamps), memoized on the data version (:mod:`web.cache`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside
from web.cache import memoize_data


def last_commit(warehouse: Warehouse) -> datetime | None:
    """When the ETL last committed a batch (local time), or None when it never has."""
    committed, commits = warehouse.rows(sql_beside(__file__, "last_commit.sql"))[0]
    if not commits:
        return None
    return pd.Timestamp(committed).to_pydatetime()


_last_commit = memoize_data(last_commit)


def updated_at() -> datetime | None:
    """:func:`last_commit` of the current data version (inside a request or app context)."""
    return _last_commit()
