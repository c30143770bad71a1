"""Bulk writes into the registry: the fast paths the simulator uses.

SQLite gets ``executemany`` with whole-step batches; PostgreSQL gets ``COPY … FROM STDIN``
fed with CSV that Arrow writes in one vectorised call. Both run inside the caller's
transaction, so a day's rows and their change sequence numbers commit together.
Values are converted once, column-wise: instants (timezone-aware) to UTC text to the whole
second, calendar dates (naive, at midnight) to ISO text; naive times of day are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, text

from registry.db import allocate_changes


@cache
def _clock_texts(suffix: str) -> npt.NDArray[np.object_]:
    """ "HH:MM:SS" + suffix for every second of a day (built once)."""
    return np.array(
        [
            f"{h:02d}:{m:02d}:{x:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for x in range(60)
        ],
        dtype=object,
    )


def _utc_text(values: pd.Series, suffix: str = "") -> pd.Series:
    """Aware instants as UTC text ``YYYY-MM-DD HH:MM:SS`` (whole seconds, the precision sites
    record), built from a per-day prefix and a per-second table: ~10x faster than strftime."""
    present = values.notna().to_numpy()
    seconds = values.dt.tz_convert("UTC").to_numpy(dtype="datetime64[s]").astype(np.int64)
    days, second_of_day = np.divmod(np.where(present, seconds, 0), 86_400)
    unique_days, which = np.unique(days, return_inverse=True)
    prefixes = np.array([f"{np.datetime64(int(d), 'D')} " for d in unique_days], dtype=object)
    text = prefixes[which] + _clock_texts(suffix)[second_of_day]
    return pd.Series(text, index=values.index, dtype=object).where(present, None)


def _prepared(frame: pd.DataFrame, dialect: str) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = _utc_text(values) if dialect == "sqlite" else values.dt.tz_convert("UTC")
        elif pd.api.types.is_float_dtype(values.dtype) and values.isna().any():
            present = values.dropna()
            if (present == present.round()).all():  # integers with gaps, e.g. transfer ids
                out[column] = values.astype("Int64")
        elif pd.api.types.is_datetime64_dtype(values.dtype):
            if (values.dropna() != values.dropna().dt.normalize()).any():
                raise ValueError(f"column {column} holds naive times; registry times are instants")
            days = values.to_numpy(dtype="datetime64[D]")  # a calendar date
            out[column] = pd.Series(np.datetime_as_string(days), index=values.index, dtype=object)
    return out


def _python_values(values: pd.Series) -> list[Any]:
    """A column as Python values for the driver, missing values as None (column-wise, in C
    where possible: much faster than converting row by row)."""
    if values.isna().any():
        return values.astype(object).where(values.notna(), None).tolist()
    return values.tolist()


#: SQLite tables loaded through an untyped, unconstrained staging table and one
#: ``INSERT … SELECT``: SQLite rebuilds a CHECK's ``IN (…)`` list each time a statement runs,
#: i.e. for every row of an ``executemany``, but once for an ``INSERT … SELECT``. Every
#: constraint still checks every row (the staging table has no affinity, so values reach
#: the real columns exactly as a direct insert would send them). Staging the other tables
#: (no lists, or two-value ones) was measured and gained nothing.
STAGED_TABLES = frozenset({"stock_movements"})


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` (as `_prepared` leaves it for PostgreSQL) as headerless CSV.

    The columns are made one chunk each first: Arrow 26's CSV writer, given a string column
    whose chunks include an empty one (pandas' string columns after concatenations), writes
    bytes from outside the column (seen: NUL bytes and other columns' text). The NUL check
    stays as a guard."""
    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            table = table.set_column(
                index, column.name, table[index].cast(pa.timestamp("us", "UTC"))
            )
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    data = sink.getvalue().to_pybytes()
    if b"\x00" in data:  # a NUL cannot be in registry text; never let COPY see one
        raise ValueError("CSV for COPY holds a NUL byte")
    return data


@dataclass(frozen=True)
class Write:
    """Rows for one table: inserted, or (with `key`) updating the rows they name. The writer
    stamps them with change sequence numbers when it writes them (`sequenced`; a table
    without ``change_seq``, such as the correction audit, is not)."""

    table: str
    frame: pd.DataFrame
    key: str | None = None
    sequenced: bool = True


class BulkWriter:
    """Writes DataFrames into registry tables on one open connection (one transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.counts: dict[str, int] = {}

    def stamp(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with fresh change sequence numbers in ``change_seq`` (row order)."""
        if frame.empty:
            return frame.assign(change_seq=pd.Series(dtype="int64"))
        first = allocate_changes(self.connection, len(frame))
        return frame.assign(change_seq=np.arange(first, first + len(frame), dtype="int64"))

    def insert(self, table: str, frame: pd.DataFrame) -> None:
        """Insert every row of `frame` (its columns are the table's columns)."""
        if frame.empty:
            return
        prepared = _prepared(frame, self.dialect)
        columns = list(prepared.columns)
        if self.dialect == "postgresql":
            self._copy(table, columns, prepared)
        else:
            self._executemany(table, columns, prepared)
        self.counts[table] = self.counts.get(table, 0) + len(frame)

    def _executemany(self, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
        placeholders = ", ".join("?" for _ in columns)
        names = ", ".join(columns)
        rows = list(zip(*(_python_values(frame[column]) for column in columns), strict=True))
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if table not in STAGED_TABLES:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
                return
            stage = f"temp.stage_{table}"
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {stage} ({names})")
            cursor.executemany(f"INSERT INTO {stage} VALUES ({placeholders})", rows)
            cursor.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM {stage}")
            cursor.execute(f"DELETE FROM {stage}")
        finally:
            cursor.close()

    def _copy(self, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
        """COPY in CSV written by Arrow's C++ writer (about 12x faster than pandas' to_csv).
        Arrow quotes every string and leaves nulls unquoted and empty, which is exactly
        PostgreSQL's CSV reading of NULL versus the empty string; instants go as UTC with
        microseconds, PostgreSQL's own precision."""
        data = _csv_bytes(frame)
        raw = self.connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.copy(sql) as copy:
                copy.write(data)

    def update(self, table: str, key: str, frame: pd.DataFrame) -> None:
        """Update rows of `table` identified by `key` with the other columns of `frame`."""
        if frame.empty:
            return
        prepared = _prepared(frame, self.dialect)
        columns = [c for c in prepared.columns if c != key]
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        self.connection.execute(
            text(f"UPDATE {table} SET {assignments} WHERE {key} = :{key}"),
            prepared.astype(object).where(prepared.notna(), None).to_dict("records"),
        )
