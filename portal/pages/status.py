"""Platform status: the warehouse engine, its version, schema and data versions, row counts.

The same document as ``GET /healthz``, for people.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from vaxviet.services import current_services

dash.register_page(__name__, path="/status", title="VaxViet — trạng thái / status", name="Status")

STATUS_TABLE_ID = "status-table"
ROWS_TABLE_ID = "status-rows"

_FIELDS = [
    ("status", "Trạng thái / Status"),
    ("engine", "Máy kho dữ liệu / Warehouse engine"),
    ("version", "Phiên bản / Version"),
    ("database", "Cơ sở dữ liệu / Database"),
    ("schema_version", "Phiên bản lược đồ / Schema version"),
    ("data_version", "Phiên bản dữ liệu / Data version"),
    ("reason", "Lý do / Reason"),
]


def status_view(document: dict[str, Any]) -> html.Div:
    """The status document as two tables (pure: testable without a server)."""
    facts = [
        html.Tr([html.Th(label, scope="row"), html.Td(str(document[key]))])
        for key, label in _FIELDS
        if document.get(key) is not None
    ]
    counts = [
        html.Tr([html.Td(name), html.Td(f"{rows:,}", className="number")])
        for name, rows in sorted(document.get("tables", {}).items())
    ]
    return html.Div(
        [
            html.H1("Trạng thái nền tảng / Platform status"),
            html.Table(html.Tbody(facts), id=STATUS_TABLE_ID),
            html.H2("Số dòng theo bảng / Rows per table"),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th("Bảng / Table"), html.Th("Dòng / Rows")])),
                    html.Tbody(counts),
                ],
                id=ROWS_TABLE_ID,
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    services = current_services()
    return status_view(services.warehouse_health())
