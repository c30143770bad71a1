"""The reference codes input is checked against (``vax.etl_reference``): provinces and
vaccine products, refreshed before loading."""

from __future__ import annotations

import time

import pyarrow as pa

from warehouse.client import Warehouse


def refresh_reference(warehouse: Warehouse, provinces: list[str], vaccines: list[str]) -> None:
    """Replace the codes input is checked against."""
    warehouse.command("TRUNCATE TABLE {db:Identifier}.etl_reference")
    rows = pa.table(
        {
            "kind": ["province"] * len(provinces) + ["vaccine"] * len(vaccines),
            "code": [*provinces, *vaccines],
        }
    )
    warehouse.insert_arrow("etl_reference", rows, dedup_token=f"reference:{time.time_ns()}")
