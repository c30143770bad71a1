"""When the nightly compaction runs: the next VAX_COMPACT_HOUR:00 in Viet Nam's time."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.calendar import LOCAL_ZONE
from warehouse.compaction import Compactor, next_run


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_ZONE)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (local(2021, 9, 1, 1, 59), local(2021, 9, 1, 2, 0)),
        (local(2021, 9, 1, 2, 0), local(2021, 9, 2, 2, 0)),  # strictly after: not again now
        (local(2021, 9, 1, 23, 30), local(2021, 9, 2, 2, 0)),
        (dt.datetime(2021, 8, 31, 18, 30, tzinfo=dt.UTC), local(2021, 9, 1, 2, 0)),  # 01:30 local
    ],
)
def test_next_run(now: dt.datetime, due: dt.datetime) -> None:
    assert next_run(now, 2) == due


def test_hour_is_checked() -> None:
    with pytest.raises(ValueError, match="0-23"):
        Compactor(None, 24)  # type: ignore[arg-type]
