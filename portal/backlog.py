"""The public backlog of citizens' correction requests, with small counts withheld (pure).

From the warehouse's counts (:func:`portal.queries.correction_counts`) this builds the one
table the corrections page and ``/api/v1/corrections`` publish:

* each province and the country (``VN``) over the whole span: requests received,
  approved, rejected and open now, and the median days from filing to resolution;
* the country per local month, from the first month with a request to the last: received,
  approved and rejected in the month, open at its end, the median of those resolved in it.

Per-province months are not published: most would be small, and withheld cells of a
province × month table can be worked out by combining its sums (below) in ways that cost
seconds to rule out at 63 provinces × dozens of months, where this table's few hundred
cells cost milliseconds.

What could point at a person is withheld:

* **primary suppression**: a count below :data:`MIN_CELL` (0–4 requests) is withheld, and
  a median needs at least :data:`MIN_CELL` requests resolved in its cell;
* **complementary suppression**: the counts are tied by sums (:func:`relations`): the
  country's are the sums of its provinces', the whole span's the sums of its months',
  received = approved + rejected + open, and the requests open at a month's end are those
  open at the end of the month before, plus those received, less those resolved. So more
  cells are withheld until **no withheld count can be worked out exactly** from the
  published ones by any combination of these sums (:func:`protect`: wherever a sum has one
  withheld cell its smallest shown cell goes too, then a null-space check of the sums over
  the withheld cells finds any withheld count still fixed and withholds more).

A withheld count's range can still be narrowed (counts are never negative), as with any
cell suppression; its exact value cannot be read off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import pandas as pd

#: counts below this are withheld; a median needs this many resolved requests
MIN_CELL: Final = 5
#: the counted columns, in order: filed, approved and rejected in the period, open at its end
COUNTS: Final = ("received", "approved", "rejected", "open")
RECEIVED, APPROVED, REJECTED, OPEN = range(len(COUNTS))
#: the whole span's period (the query's 1970-01-01)
TOTAL: Final = "total"
NATIONAL: Final = "VN"
#: columns of :func:`backlog`
COLUMNS: Final = (
    "area_code", "period", *COUNTS, "median_days", "suppressed", "complementary",
)  # fmt: skip
#: a singular value below this (× the largest) is zero: the sums' coefficients are ±1
TOLERANCE: Final = 1e-9


def months(counts: pd.DataFrame) -> list[str]:
    """Every month (``YYYY-MM``) from the first to the last with a request filed or resolved."""
    seen = pd.to_datetime(counts["period"])
    seen = seen[seen > pd.Timestamp(0)]
    if seen.empty:
        return []
    return [str(month) for month in pd.period_range(seen.min(), seen.max(), freq="M")]


def _cells(counts: pd.DataFrame, areas: Sequence[str], periods: Sequence[str]) -> pd.DataFrame:
    """The published cells in order — each area over the whole span, then the country per
    month — from `counts`, zeros where none; ``open`` now (the span) and at each month's end."""
    frame = counts.assign(
        period=[
            TOTAL if stamp <= pd.Timestamp(0) else f"{stamp:%Y-%m}"
            for stamp in pd.to_datetime(counts["period"])
        ]
    ).set_index(["area_code", "period"])
    keys = [(area, TOTAL) for area in areas] + [(NATIONAL, month) for month in periods]
    cells = frame.reindex(pd.MultiIndex.from_tuples(keys, names=["area_code", "period"]))
    for column in ("received", "approved", "rejected"):
        cells[column] = cells[column].fillna(0).astype("int64")
    cells["open"] = cells["received"] - cells["approved"] - cells["rejected"]
    monthly = cells.index.get_level_values("period") != TOTAL
    cells.loc[monthly, "open"] = cells.loc[monthly, "open"].cumsum()
    cells["median_days"] = cells["median_days"].astype("float64")
    return cells.reset_index()


def relations(areas: int, months: int) -> np.ndarray:
    """The sums tying the published counts, one signed row per sum (each row's cells sum to
    zero), over the cells of :func:`_cells` flattened with :data:`COUNTS` fastest: area 0 is
    the country, areas 1… its provinces, then the country's months in order."""
    width = len(COUNTS)
    rows: list[dict[int, int]] = []

    def cell(index: int, column: int) -> int:
        return index * width + column

    for area in range(areas):  # received = approved + rejected + open now
        rows.append({cell(area, RECEIVED): 1, cell(area, APPROVED): -1,
                     cell(area, REJECTED): -1, cell(area, OPEN): -1})  # fmt: skip
    for column in range(width):  # the country = the sum of its provinces
        rows.append({cell(0, column): 1} | {cell(a, column): -1 for a in range(1, areas)})
    first = areas  # the country's first month
    for month in range(months):  # open at the end = open before + received - resolved
        index = first + month
        row = {cell(index, RECEIVED): 1, cell(index, APPROVED): -1,
               cell(index, REJECTED): -1, cell(index, OPEN): -1}  # fmt: skip
        if month:
            row[cell(index - 1, OPEN)] = 1
        rows.append(row)
    if months:
        for column in (RECEIVED, APPROVED, REJECTED):  # the span = the sum of its months
            rows.append({cell(0, column): 1} | {cell(first + m, column): -1 for m in range(months)})
        rows.append({cell(0, OPEN): 1, cell(first + months - 1, OPEN): -1})  # open now
    matrix = np.zeros((len(rows), (areas + months) * width))
    for number, row in enumerate(rows):
        matrix[number, list(row)] = list(row.values())
    return matrix


def fixed(matrix: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The hidden cells whose value the shown ones determine through the sums of `matrix`:
    those on which every solution of the sums over the hidden cells agrees (every vector of
    the null space is 0 there)."""
    columns = np.flatnonzero(hidden)
    if not len(columns):
        return columns
    part = matrix[:, columns]
    part = part[np.any(part != 0, axis=1)]
    if not len(part):
        return np.array([], dtype=int)
    _, values, vt = np.linalg.svd(part)
    rank = int(np.sum(values > TOLERANCE * max(1.0, float(values[0]))))
    null = vt[rank:]  # rows: a basis of the null space
    free = np.any(np.abs(null) > 1e-9, axis=0) if len(null) else np.zeros(len(columns), bool)
    return columns[~free]


def protect(values: np.ndarray, hidden: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """`hidden` (flat, a copy) grown until no hidden count is determined by the shown ones:
    first, in every sum with exactly one hidden cell, its smallest shown cell (the first of
    equals) is hidden too; then, while :func:`fixed` finds a hidden cell still determined,
    the smallest shown cell of a sum holding it is hidden."""
    hidden = hidden.copy()
    members = [np.flatnonzero(row) for row in matrix]
    while True:
        changed = False
        for cells in members:
            shown = cells[~hidden[cells]]
            if len(cells) - len(shown) == 1 and len(shown):
                hidden[shown[np.argmin(values[shown])]] = True
                changed = True
        if changed:
            continue
        determined = fixed(matrix, hidden)
        if not len(determined):
            return hidden
        shown = _shown_beside(members, hidden, determined)
        if not len(shown):  # every sum touching a hidden cell is hidden whole
            shown = _shown_beside(members, hidden, np.flatnonzero(hidden))
        if not len(shown):
            return hidden
        hidden[shown[np.argmin(values[shown])]] = True


def _shown_beside(members: list[np.ndarray], hidden: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The shown cells of the sums that hold any of `cells`."""
    near = [row for row in members if np.isin(cells, row).any()]
    together = np.unique(np.concatenate(near)) if near else np.array([], dtype=int)
    return together[~hidden[together]]


def backlog(counts: pd.DataFrame, provinces: Sequence[str]) -> pd.DataFrame:
    """The published backlog (:data:`COLUMNS`): the country and `provinces` over the whole
    span (``period`` ``total``), then the country per month (``YYYY-MM``); withheld values
    are ``None``, and ``suppressed`` names the columns withheld because they are small
    (below :data:`MIN_CELL`; ``median_days``: fewer requests resolved), ``complementary``
    those withheld so that no small one can be worked out (space-separated; ``""``: none).

    `counts`: ``area_code``, ``period`` (the month's first day; 1970-01-01 for the whole
    span), ``received``, ``approved``, ``rejected``, ``median_days`` (of the requests
    resolved in the period); other rows are ignored."""
    areas = [NATIONAL, *provinces]
    periods = months(counts)
    cells = _cells(counts, areas, periods)
    values = cells[list(COUNTS)].to_numpy(dtype="int64")
    small = values < MIN_CELL
    matrix = relations(len(areas), len(periods))
    hidden = protect(values.ravel(), small.ravel(), matrix).reshape(values.shape)
    thin = ((cells["approved"] + cells["rejected"]) < MIN_CELL).to_numpy()

    names = np.array(COUNTS)
    table = cells[["area_code", "period"]].copy()
    for position, column in enumerate(COUNTS):
        table[column] = _objects(
            None if withheld else int(value)
            for value, withheld in zip(values[:, position], hidden[:, position], strict=True)
        )
    table["median_days"] = _objects(
        None if withheld or pd.isna(value) else float(value)
        for value, withheld in zip(cells["median_days"], thin, strict=True)
    )
    table["suppressed"] = [
        " ".join([*names[row], *(["median_days"] if median else [])])
        for row, median in zip(small, thin, strict=True)
    ]
    table["complementary"] = [" ".join(names[row]) for row in hidden & ~small]
    return table[list(COLUMNS)]


def _objects(values: Iterable[object]) -> pd.Series:
    """Python values as they are (ints and None, not floats and NaN)."""
    return pd.Series(list(values), dtype=object)
