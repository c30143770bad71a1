"""Building blocks the dashboard pages share: the request context, tables that export as
CSV, figure cards, the data stamp.

A page is a function ``build(context) -> Page``: its components and its tables by key. The
page view renders ``Page.body``; the CSV export (``/internal/export/<page>/<table>.csv``)
builds the same page and writes the table's frame, so a download holds exactly the rows
the table shows (all of them; the page shows the first :data:`SHOWN_ROWS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import urlencode

import pandas as pd
from dash import dcc, html

from dashboards.i18n import text
from warehouse.sample import Sample
from web.formatting import Lang, day, moment, number, percent, share
from web.layout import attrs

SHOWN_ROWS: Final = 50
EXPORT_PATH: Final = "/internal/export"

Kind = Literal["text", "int", "float", "pct", "time", "day", "minutes"]


@dataclass(frozen=True)
class Context:
    """What every page is built for: the province scope (from the user, or chosen by a
    national user), the language, "now" and whether it is the live clock."""

    province: str
    lang: Lang
    now: datetime
    live: bool
    silent_hours: int
    updated: datetime | None = None
    clock: datetime | None = None  # the wall clock (pipeline lag); None: the same as now


@dataclass(frozen=True)
class Column:
    """A table's column: the frame's column `name`, how its values are shown (`kind`) and
    its heading, the text ``col.<label>`` of :mod:`dashboards.i18n` (`label` defaults to
    `name`; columns of one meaning share it whichever page shows them)."""

    name: str
    kind: Kind = "text"
    label: str = ""

    def heading(self, lang: Lang) -> str:
        return text(f"col.{self.label or self.name}", lang)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    frame: pd.DataFrame
    columns: Sequence[Column]
    link: str = ""  # a column whose values become drill-down links (?province=<value>)

    def csv(self) -> str:
        """Every row, the table's columns, raw values (days as YYYY-MM-DD, times local)."""
        frame = self.frame.reindex(columns=[column.name for column in self.columns])
        for column in self.columns:
            if column.kind == "day":
                frame[column.name] = pd.to_datetime(frame[column.name]).dt.strftime("%Y-%m-%d")
        return str(frame.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S"))


@dataclass
class Page:
    name: str
    body: list[Any] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)


def formatted(value: object, kind: Kind, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "–"
    if kind == "int":
        return number(float(value), lang)  # type: ignore[arg-type]
    if kind == "float":
        return number(float(value), lang, 1)  # type: ignore[arg-type]
    if kind == "minutes":
        return text("tp.minutes", lang, value=number(float(value), lang, 1))  # type: ignore[arg-type]
    if kind == "pct":
        return percent(100 * float(value), lang)  # type: ignore[arg-type]
    if kind == "time":
        return moment(pd.Timestamp(value).to_pydatetime(), lang)
    if kind == "day":
        return day(pd.Timestamp(value).date(), lang)
    return str(value)


def export_href(page: str, key: str, context: Context) -> str:
    query = {"province": context.province} if context.province else {}
    if context.lang == "en":
        query["lang"] = "en"
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{EXPORT_PATH}/{page}/{key}.csv{suffix}"


def page_href(path: str, lang: Lang, **query: str) -> str:
    values = {**query, **({"lang": "en"} if lang == "en" else {})}
    return f"{path}?{urlencode(values)}" if values else path


def table_block(page: str, table: Table, context: Context, path: str) -> html.Section:
    """A titled table with its CSV link; numbers right-aligned; drill-down links."""
    lang = context.lang
    head = html.Thead(
        html.Tr([html.Th(column.heading(lang), scope="col") for column in table.columns])
    )
    rows = []
    for record in table.frame.head(SHOWN_ROWS).to_dict("records"):
        cells = []
        for column in table.columns:
            shown = formatted(record.get(column.name), column.kind, lang)
            content: Any = shown
            if column.name == table.link and record.get(column.name):
                content = dcc.Link(
                    shown, href=page_href(path, lang, province=str(record[column.name]))
                )
            cells.append(html.Td(content, className="" if column.kind == "text" else "number"))
        rows.append(html.Tr(cells))
    total = len(table.frame)
    note = []
    if total > SHOWN_ROWS:
        note = [html.P(text("more_rows", lang, shown=SHOWN_ROWS, total=total), className="note")]
    body: list[Any] = (
        [html.Table([head, html.Tbody(rows)], id=f"{page}-{table.key}-table")]
        if total
        else [html.P(text("empty", lang), id=f"{page}-{table.key}-table", className="empty")]
    )
    return html.Section(
        [
            html.Div(
                [
                    html.H2(table.title),
                    html.A(
                        text("csv", lang),
                        href=export_href(page, table.key, context),
                        className="csv-link",
                        id=f"{page}-{table.key}-csv",
                        download="",
                    ),
                ],
                className="table-head",
            ),
            *body,
            *note,
        ],
        className="table-block",
    )


def card(title: str, value: str, card_id: str, raw: object = None) -> html.Div:
    return html.Div(
        [html.H2(title), html.Span(value, className="figure", **attrs(data_value=str(raw)))],
        className="card",
        id=card_id,
    )


def graph(figure_id: str, figure: dict[str, Any]) -> dcc.Graph:
    return dcc.Graph(
        id=figure_id,
        figure=figure,
        config={"displaylogo": False, "responsive": True},
        className="figure-block",
    )


def sample_notice(sample: Sample, lang: Lang) -> list[html.P]:
    """The plain statement that the data is a simulated sample, and of what fraction (no
    element for a real registry)."""
    if not sample.simulated:
        return []
    return [
        html.P(
            text("sample.simulated", lang, share=share(sample.fraction, lang)),
            className="banner sample-notice",
            role="note",
            id="dash-sample-notice",
            **attrs(data_fraction=repr(sample.fraction)),
        )
    ]


def stamp(context: Context, latest: datetime | None) -> html.P:
    lang = context.lang
    if latest is None:
        return html.P(text("stamp.none", lang), className="stamp", id="dash-stamp")
    parts = [f"{text('stamp.as_of', lang)} {moment(context.now, lang)}"]
    if context.updated is not None:
        parts.append(f"({text('stamp.updated', lang)} {moment(context.updated, lang)})")
    if not context.live:
        parts.append(text("stamp.replay", lang))
    return html.P(" ".join(parts), className="stamp", id="dash-stamp")


def definitions(lang: Lang, items: Sequence[str]) -> html.Details:
    return html.Details(
        [html.Summary(text("definitions", lang)), html.Ul([html.Li(item) for item in items])],
        className="definitions",
        open=True,
    )
