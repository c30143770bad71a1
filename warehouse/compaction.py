"""A nightly compaction of the tables the certificate lookup reads key by key.

Citizen keys are random, so every active part of the citizen index (``citizen_doses``,
ORDER BY citizen_key) holds some of every person's neighbours: a point read costs a
granule in each part, and the index keeps several parts after ClickHouse's own merges
(5 at 50 M doses after a fill). Merged into one part, a read of 5 people's dose ids took
about half as long (docs/certificates.md, "Left to do"). ClickHouse would merge parts
that are old enough by itself (``min_age_to_force_merge_seconds``), but under the ETL's
constant inserts that means rewriting the whole index again and again; once a night, at a
quiet hour, it is one rewrite a day. The key-value copies (``identity_kv``,
``dose_state_kv``, EmbeddedRocksDB) are compacted at the same time: after a large load
their point gets look in many unsorted files until RocksDB compacts them.

`Compactor` runs `compact` in the serve process (embedded chDB admits no second process)
at ``VAX_COMPACT_HOUR`` local time (Asia/Ho_Chi_Minh), on a single node. Inserts go on
meanwhile: parts they write during the merge stay beside the merged one until the next
night. On a cluster, compaction is left to the operators (ON CLUSTER, per shard).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Self

from geo.calendar import LOCAL_ZONE
from vaxviet.background import Background, error_text
from warehouse.client import Warehouse

log = logging.getLogger(__name__)

#: (table, statement suffix): the MergeTree index is merged whole, RocksDB compacted
TABLES = (("citizen_doses", " FINAL"), ("identity_kv", ""), ("dose_state_kv", ""))


def compact(warehouse: Warehouse) -> dict[str, float]:
    """Compact the lookup's tables; seconds per table."""
    seconds: dict[str, float] = {}
    for table, suffix in TABLES:
        began = time.monotonic()
        warehouse.command(f"OPTIMIZE TABLE {{db:Identifier}}.{table}{suffix}")
        seconds[table] = round(time.monotonic() - began, 1)
    log.info("lookup tables compacted: %s", ", ".join(f"{t} {s} s" for t, s in seconds.items()))
    return seconds


def next_run(now: dt.datetime, hour: int) -> dt.datetime:
    """The next `hour`:00 local time strictly after `now` (an aware datetime)."""
    local = now.astimezone(LOCAL_ZONE)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return due if due > local else due + dt.timedelta(days=1)


class Compactor(Background):
    """Runs `compact` every day at `hour` local time, in a thread of its own."""

    def __init__(
        self,
        warehouse: Warehouse,
        hour: int,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if not 0 <= hour <= 23:
            raise ValueError("the compaction hour must be 0-23")
        self.warehouse = warehouse
        self.hour = hour
        self.clock = clock
        self.runs = 0
        self.last_error = ""
        super().__init__("compaction")

    def start(self) -> Self:
        if self.warehouse.cluster:
            log.info("lookup tables are not compacted nightly on a cluster (docs/scaling.md)")
            return self
        return super().start()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)

    def run_once(self) -> None:
        """One compaction; a failure is logged and kept, never raised (the next night tries
        again)."""
        try:
            compact(self.warehouse)
        except Exception as error:
            self.last_error = error_text(error)
            log.warning("lookup tables not compacted: %s", self.last_error)
        else:
            self.last_error = ""
        self.runs += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            wait = (next_run(now, self.hour) - now).total_seconds()
            if self._stop.wait(max(1.0, wait)):
                return
            self.run_once()
