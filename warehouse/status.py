"""What the warehouse is and holds: engine, version, schema and data versions, row counts.

Served by ``GET /healthz`` and the status page; never raises — an unreachable or
half-migrated warehouse is reported as ``degraded`` with the reason.
"""

from __future__ import annotations

from typing import Any

from warehouse.client import Warehouse
from warehouse.migrate import latest_version, schema_version
from warehouse.sqlfiles import sql_beside


def data_version(warehouse: Warehouse) -> str:
    """An opaque string that changes whenever the ETL commits new data ("0": none yet)."""
    row = warehouse.rows(sql_beside(__file__, "data_version.sql"))
    version, commits = row[0] if row else (0, 0)
    return f"{int(version or 0)}-{int(commits)}" if commits else "0"


def table_rows(warehouse: Warehouse) -> dict[str, int]:
    """Stored rows per table of the schema (metadata only, no scan)."""
    return {
        name: int(rows) for name, rows in warehouse.rows(sql_beside(__file__, "table_rows.sql"))
    }


def warehouse_status(warehouse: Warehouse | None, error: str = "") -> dict[str, Any]:
    """The health document. `warehouse` None (with `error`) means it could not be opened."""
    expected = latest_version()
    status: dict[str, Any] = {
        "status": "degraded",
        "engine": warehouse.engine if warehouse else None,
        "version": None,
        "database": warehouse.database if warehouse else None,
        "schema_version": None,
        "schema_expected": expected,
        "data_version": None,
        "tables": {},
    }
    if warehouse is None:
        status["reason"] = error or "warehouse not connected"
        return status
    try:
        status["version"] = warehouse.server_version()
        status["schema_version"] = schema_version(warehouse)
        if status["schema_version"] == expected:
            status["data_version"] = data_version(warehouse)
            status["tables"] = table_rows(warehouse)
            status["status"] = "ok"
        else:
            status["reason"] = (
                f"schema version {status['schema_version']}, expected {expected}: "
                "run `python -m warehouse migrate`"
            )
    except Exception as failure:  # health must answer whatever went wrong
        status["reason"] = f"warehouse query failed: {type(failure).__name__}: {failure}"
    return status
