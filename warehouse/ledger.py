"""Write dose states so that every count stays exact under corrections and voids.

A *dose state* is one version of one dose record (columns `STATE_COLUMNS`). The warehouse
keeps them in ``dose_ledger`` as signed rows: moving a dose from state A to a newer state B
writes ``-1 × A`` (a copy of A's values) and ``+1 × B``. Materialized aggregates sum `sign`
over valid states, so at every moment each dose counts once, in its latest state, and a
voided dose counts zero. The highest version wins whatever the arrival order: an older or
equal version arriving late changes nothing.

`plan_ledger_rows` states the rules as a pure function (DataFrames in, DataFrame out);
`write_states` applies the same rules inside ClickHouse (``ledger_stage_plan``), which is
3–4x faster than planning in pandas (bench/ledger_sql_path.py). One writer at a time (the
ETL serialises its batches); a replay after a crash finds the states already written and
writes nothing, so writing is idempotent — and rows whose insert was cut off between the
ledger and its materialized views are completed by the next write (``ledger_pending``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import pandas as pd

from geo.calendar import TIME_ZONE
from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside

log = logging.getLogger(__name__)

#: What `recover_pending` recomputes after an unclean stop, in this order (the ledger first:
#: the views are computed from it, and rows it adds reach every view; citizen_doses before
#: dose_visits, which finds doses by it; dose_state_kv last, so the batch's states are the
#: last written there). Every materialized view on dose_ledger has its target here (a test
#: checks).
HEALED = ("dose_ledger", "citizen_doses", "coverage_daily", "coverage_known", "site_hourly",
          "dose_visits", "site_doses", "dose_state_kv")  # fmt: skip

STATE_COLUMNS = [
    "dose_id",
    "version",
    "status",
    "citizen_key",
    "birth_year",
    "sex",
    "province_code",
    "site_id",
    "vaccine_code",
    "lot_number",
    "dose_number",
    "administered_at",
    "recorded_at",
    "source",
]
#: What makes two copies of the same (dose_id, version) the same record. recorded_at and
#: source may differ between copies of one record (a re-export, a file and the stream).
CONTENT_COLUMNS = [
    c for c in STATE_COLUMNS if c not in ("dose_id", "version", "recorded_at", "source")
]
_STRINGS = ["dose_id", "status", "citizen_key", "sex", "province_code", "site_id",
            "vaccine_code", "lot_number", "source"]  # fmt: skip


@dataclass
class LedgerPlan:
    """What writing a batch of states does: the signed rows, and counts that explain them."""

    rows: pd.DataFrame  # STATE_COLUMNS + sign
    new: int  # doses seen for the first time
    changed: int  # doses moved to a newer version (corrections and voids)
    stale: int  # incoming rows that change nothing (older, or identical to what is kept)
    conflicts: pd.DataFrame  # (dose_id, version): same version, different content


def normalise_states(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` reduced to STATE_COLUMNS with one dtype per column (for hashing and insert)."""
    missing = [c for c in STATE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"dose states lack columns: {', '.join(missing)}")
    out = frame[STATE_COLUMNS].copy()
    for column in _STRINGS:
        out[column] = out[column].astype("string[python]").astype(object)
    out["version"] = out["version"].astype("uint32")
    out["birth_year"] = out["birth_year"].astype("uint16")
    out["dose_number"] = out["dose_number"].astype("uint8")
    for column in ("administered_at", "recorded_at"):
        out[column] = to_local_time(out[column])
    return out.reset_index(drop=True)


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def to_local_time(values: pd.Series) -> pd.Series:
    """Times as Asia/Ho_Chi_Minh (millisecond precision): values without an offset are local
    times, values with one are converted. Accepts datetimes or ISO 8601 text, even mixed."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(TIME_ZONE).dt.as_unit("ms")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize(TIME_ZONE).dt.as_unit("ms")
    text = values.astype("string").str.strip()
    has_offset = text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
    result = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ms, {TIME_ZONE}]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], utc=True, format="ISO8601")
        result[has_offset] = aware.dt.tz_convert(TIME_ZONE).dt.as_unit("ms")
    if (~has_offset).any():
        naive = pd.to_datetime(text[~has_offset], format="ISO8601")
        result[~has_offset] = naive.dt.tz_localize(TIME_ZONE).dt.as_unit("ms")
    return result


def _content_hash(frame: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(frame[CONTENT_COLUMNS], index=False)


def plan_ledger_rows(incoming: pd.DataFrame, current: pd.DataFrame) -> LedgerPlan:
    """The signed rows that move each dose of `incoming` from its `current` state.

    Both frames hold normalised states (`normalise_states`); `current` has at most one row
    per dose_id (its stored latest state).
    """
    batch = incoming.assign(_hash=_content_hash(incoming))
    # Same (dose_id, version) twice in the batch: a duplicate if identical, else a conflict.
    distinct = batch.groupby(["dose_id", "version"], sort=False)["_hash"].transform("nunique")
    conflicting_rows = int((distinct > 1).sum())
    conflicts = batch.loc[distinct > 1, ["dose_id", "version"]].drop_duplicates()
    batch = batch.loc[distinct == 1]
    batch = batch.sort_values(["dose_id", "version"], kind="stable")
    batch = batch.drop_duplicates("dose_id", keep="last")

    stored = current.assign(_hash=_content_hash(current))[["dose_id", "version", "_hash"]]
    joined = batch.merge(stored, on="dose_id", how="left", suffixes=("", "_stored"))
    stored_version = joined["version_stored"]
    is_new = stored_version.isna()
    advances = is_new | (joined["version"] > stored_version)
    same_version = joined["version"] == stored_version
    clash = same_version & (joined["_hash"] != joined["_hash_stored"])
    conflicts = pd.concat([conflicts, joined.loc[clash, ["dose_id", "version"]]])
    conflicting_rows += int(clash.sum())

    moving = joined.loc[advances, STATE_COLUMNS]
    cancelled_ids = joined.loc[advances & ~is_new, "dose_id"]
    cancels = current.loc[current["dose_id"].isin(cancelled_ids), STATE_COLUMNS]
    rows = pd.concat([cancels.assign(sign=-1), moving.assign(sign=1)], ignore_index=True)
    rows["sign"] = rows["sign"].astype("int8")
    return LedgerPlan(
        rows=rows,
        new=int(is_new.sum()),
        changed=int((advances & ~is_new).sum()),
        stale=len(incoming) - conflicting_rows - int(advances.sum()),
        conflicts=conflicts.reset_index(drop=True),
    )


@dataclass
class WriteReport:
    """What `write_states` did: doses new, changed (corrected or voided), stale, the
    conflicting (dose_id, version) pairs refused, and signed rows written."""

    new: int
    changed: int
    stale: int
    conflicts: pd.DataFrame
    written: int


def write_states(warehouse: Warehouse, states: pd.DataFrame, batch: str) -> WriteReport:
    """Bring the warehouse up to `states` (any order, any versions); one writer at a time.

    The batch is staged in ``ledger_stage`` and written by one ``INSERT … SELECT`` that joins
    the stored states inside ClickHouse (``ledger_stage_plan``, the SQL twin of
    `plan_ledger_rows`); `batch` names the input range in logs and the staging token.
    """
    incoming = normalise_states(states)
    warehouse.command("TRUNCATE TABLE {db:Identifier}.ledger_stage")
    if not incoming.empty:
        warehouse.insert_frame(
            # scratch table without a deduplication window: the token only names the batch
            "ledger_stage", incoming, dedup_token=f"stage:{batch}",
            column_names=STATE_COLUMNS,
        )  # fmt: skip
    return write_staged(warehouse)


def write_staged(warehouse: Warehouse) -> WriteReport:
    """Write what is in ``ledger_stage`` (filled by `write_states` or by the ETL's own
    INSERT … SELECT) as signed rows, and report what it did.

    A batch of doses the ledger has never seen, each staged once, needs no plan: its rows
    are written as they are (ad hoc, per 1,000,000 new rows: the plan took 0.4-0.5 s, the
    check that skips it 0.2 s). The
    planned rows go to ``ledger_pending`` first and reach the ledger (and its views) by
    `flush_pending`; rows left pending by an insert that never returned are recovered first
    (`recover_pending`), so a crash between the ledger and its views heals on the next
    write (schema 0013)."""
    recover_pending(warehouse)
    staged = int(warehouse.scalar("SELECT count() FROM {db:Identifier}.ledger_stage"))
    if not staged:
        return WriteReport(0, 0, 0, pd.DataFrame(columns=["dose_id", "version"]), 0)
    repeated, stored = warehouse.rows(sql_beside(__file__, "stage_all_new.sql"))[0]
    if not repeated and not stored:  # all new, each once: every row is written as it is
        warehouse.command(sql_beside(__file__, "write_pending_new.sql"))
        flush_pending(warehouse)
        return WriteReport(staged, 0, 0, pd.DataFrame(columns=["dose_id", "version"]), staged)
    warehouse.command("TRUNCATE TABLE {db:Identifier}.ledger_plan")
    warehouse.command(
        "INSERT INTO {db:Identifier}.ledger_plan SELECT * FROM {db:Identifier}.ledger_stage_plan"
    )
    outcomes = dict(warehouse.rows(sql_beside(__file__, "stage_outcomes.sql")))
    conflicts = warehouse.frame(sql_beside(__file__, "stage_conflicts.sql"))
    warehouse.command(sql_beside(__file__, "write_pending.sql"))
    flush_pending(warehouse)
    new, changed = int(outcomes.get("new", 0)), int(outcomes.get("changed", 0))
    conflicting_rows = int(conflicts["rows"].sum()) if len(conflicts) else 0
    return WriteReport(
        new=new,
        changed=changed,
        stale=staged - conflicting_rows - new - changed,
        conflicts=conflicts.drop(columns="rows", errors="ignore").reset_index(drop=True),
        written=new + 2 * changed,
    )


def insert_pending(warehouse: Warehouse) -> int:
    """Insert ``ledger_pending`` into the ledger under a token derived from its content
    (the same rows always form the same blocks and carry the same token); returns rows."""
    rows, digest = warehouse.rows(sql_beside(__file__, "pending_digest.sql"))[0]
    if rows:
        token = f"ledger:{int(rows)}:{int(digest)}"
        warehouse.command(sql_beside(__file__, "write_signed.sql"), dedup_token=token)
    return int(rows)


def recover_pending(warehouse: Warehouse) -> int:
    """Finish a signed insert that never returned (rows left in ``ledger_pending``): insert
    them again under the same token, then recompute from the ledger what the batch touched
    in the ledger itself and in every view (`HEALED`), and empty ``ledger_pending``.

    The same-token replay alone is not enough: a process killed while the engine commits a
    part can leave the part's deduplication entry written and the part itself gone, and the
    replay of that block is then dropped for good (seen under kill -9 as site_hourly cells
    short of the ledger). So each target is compared with the ledger on the batch's cells
    and the difference is inserted (under a token of its own: never deduplicated). A kill
    during recovery leaves the rows pending, and the next start recovers again: differences
    are computed from what is stored, so recovering twice adds nothing. Returns rows found
    pending (0: the last insert returned, nothing to do)."""
    rows = insert_pending(warehouse)
    if not rows:
        return 0
    for target in HEALED:
        warehouse.command(
            sql_beside(__file__, f"heal/{target}.sql"),
            dedup_token=f"heal:{target}:{uuid.uuid4().hex}",
        )
    warehouse.command("TRUNCATE TABLE {db:Identifier}.ledger_pending")
    # (no per-table counts: chDB reports 0 written rows for INSERT … SELECT)
    log.warning(
        "recovered an interrupted ledger insert of %d signed rows: %s recomputed from the "
        "ledger for the batch", rows, ", ".join(HEALED),
    )  # fmt: skip
    return rows


def flush_pending(warehouse: Warehouse) -> int:
    """Insert whatever ``ledger_pending`` holds, then empty it; returns rows flushed."""
    rows = insert_pending(warehouse)
    if rows:
        warehouse.command("TRUNCATE TABLE {db:Identifier}.ledger_pending")
    return rows
