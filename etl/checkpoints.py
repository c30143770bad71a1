"""Checkpoints: how far each source is loaded (``vax.etl_checkpoints``).

A source's checkpoint is the position (file rows consumed, or the highest change sequence)
up to which its facts are in the warehouse. It is written only after a batch's facts landed,
so a crash replays the batch, never skips it; a batch whose checkpoint is stored is never
replayed.
"""

from __future__ import annotations

import uuid

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside


def attempt_token(batch: str) -> str:
    """A deduplication token unique to this statement of this attempt at `batch`: rejects,
    identities and checkpoints are never deduplicated across attempts (a kill while the
    engine commits a part can leave its block noted as written and the part gone, and a
    replay under the same token would then be dropped for good)."""
    return f"{batch}:attempt:{uuid.uuid4().hex}"


def last_position(warehouse: Warehouse, source: str) -> int:
    """Where the source's committed batches end (0 when none)."""
    return int(warehouse.scalar(sql_beside(__file__, "last_position.sql"), {"source": source}) or 0)


def commit_checkpoint(
    warehouse: Warehouse,
    source: str,
    start: int,
    position: int,
    counts: tuple[int, int, int],
    seconds: float,
) -> None:
    """Record that `source` is loaded up to `position` (after the batch's facts landed);
    `counts` are the batch's rows read, loaded and rejected."""
    read, loaded, rejected = counts
    token = f"{source}:{start}-{position}"
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token, "
        "rows_read, rows_loaded, rows_rejected, seconds) VALUES ({source:String}, "
        "{position:UInt64}, {token:String}, {read:UInt64}, {loaded:UInt64}, "
        "{rejected:UInt64}, {seconds:Float64})",
        {"source": source, "position": position, "token": token, "read": read,
         "loaded": loaded, "rejected": rejected, "seconds": seconds},
        dedup_token=attempt_token(token),  # a committed batch is never replayed
    )  # fmt: skip
