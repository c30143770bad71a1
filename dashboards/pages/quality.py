"""Data quality and pipeline health: ETL lag and load rate from the checkpoints, the last
checkpoint per source, rejects by reason and province over time with examples (no personal
data), sites missing from the register, and the registry ↔ warehouse reconciliation when
the platform has it."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from typing import Any, Final

import pandas as pd
from dash import html

from dashboards import data
from dashboards.columns import (
    CHECKPOINT_COUNTS,
    DAY,
    DETAIL,
    DOSES,
    LAST_HOUR,
    PRODUCT,
    PROVINCE,
    PROVINCE_NAME,
    REASON,
    REJECTS,
    SITE,
    SOURCE,
)
from dashboards.data import read
from dashboards.i18n import text
from dashboards.names import with_names
from dashboards.reads import days_ending
from dashboards.view import Column, Context, Page, Table, card, graph, table_block
from web.formatting import Lang, number

NAME: Final = "quality"
PATH: Final = "/internal/quality"
HOURS_DAYS: Final = 2
RECORD_CHARS: Final = 300


def reconciliation_available() -> bool:
    """Whether the platform has the reconciliation command (``etl/reconcile.py``)."""
    return importlib.util.find_spec("etl.reconcile") is not None


def _rate(hours: pd.DataFrame) -> float:
    seconds = float(hours["seconds"].sum())
    return float(hours["rows_read"].sum()) / seconds if seconds > 0 else float("nan")


def _rejects_figure(daily: pd.DataFrame, context: Context) -> dict[str, Any]:
    by_reason = daily.groupby(["day", "reason"], as_index=False)["rejects"].sum()
    traces = [
        {
            "type": "bar",
            "name": reason,
            "x": [d.strftime("%Y-%m-%d") for d in part["day"]],
            "y": part["rejects"].tolist(),
        }
        for reason, part in by_reason.groupby("reason")
    ]
    return {
        "data": traces,
        "layout": {"barmode": "stack", "title": {"text": text("dq.rejects_reason", context.lang)}, "height": 320,
                   "margin": {"l": 50, "r": 10, "t": 40, "b": 40}},
    }  # fmt: skip


RECONCILE_DAYS: Final = 7
RECONCILE_COLUMNS: Final = [
    PROVINCE,
    PROVINCE_NAME,
    Column("day"),
    PRODUCT,
    Column("doses_registry", "int"),
    Column("doses_warehouse", "int"),
    Column("versions_registry", "int"),
    Column("versions_warehouse", "int"),
]


def _reconciliation_block(context: Context, page: Page) -> html.Section:
    """Registry vs warehouse per province × day × vaccine over the last days (the result of
    etl.reconcile.compare; a provincial scope sees its own cells only), or a labelled
    placeholder when the platform has no reconciliation."""
    lang, province = context.lang, context.province
    title = html.H2(text("dq.reconcile", lang))
    if not reconciliation_available():
        missing = html.P(text("dq.reconcile_missing", lang), className="banner", id="dq-reconcile")
        return html.Section([title, missing], className="table-block")
    try:
        found = data.reconciliation(context.now.date(), RECONCILE_DAYS)
    except Exception as error:  # the registry may be unreachable: say so, show no figures
        message = text("dq.reconcile_failed", lang, error=type(error).__name__)
        failed = html.P(message, className="banner", id="dq-reconcile")
        return html.Section([title, failed], className="table-block")
    differences = found["differences"]
    if province:
        differences = differences[differences["province_code"] == province]
    table = Table(
        "reconciliation",
        text("dq.reconcile_table", lang, days=RECONCILE_DAYS),
        with_names(differences, lang),
        RECONCILE_COLUMNS,
    )
    page.tables[table.key] = table
    verdict = text(
        "dq.reconcile_equal" if differences.empty else "dq.reconcile_differs",
        lang,
        days=RECONCILE_DAYS,
        cells=number(len(differences), lang),
        compared=number(found["cells"], lang),
        checkpoint=number(found["checkpoint"], lang),
        rejected=number(found["rejected"], lang),
        in_flight=number(found["in_flight"], lang),
    )
    shown = html.P(verdict, id="dq-reconcile", className="" if differences.empty else "banner")
    return html.Section(
        [title, shown, table_block(NAME, table, context, PATH)], className="table-block"
    )


def per_second(frame: pd.DataFrame) -> pd.Series:
    """Rows read per second of batch time, row by row (NaN where no time was spent)."""
    return frame["rows_read"] / frame["seconds"].where(frame["seconds"] > 0)


def read_pipeline(now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ETL's checkpoints per source (with their lag at `now`) and per hour over the
    last :data:`HOURS_DAYS` days, each with its rows per second."""
    sources = read("checkpoint_sources")
    sources = sources.assign(
        lag_seconds=(pd.Timestamp(now) - sources["last_committed_at"]).dt.total_seconds(),
        rows_per_second=per_second(sources),
    )
    hours = read("checkpoint_hours", **days_ending(now.date(), HOURS_DAYS))
    return sources, hours.assign(rows_per_second=per_second(hours))


def cards(
    sources: pd.DataFrame, hours: pd.DataFrame, daily: pd.DataFrame, now: datetime, lang: Lang
) -> html.Div:
    """The ETL lag, the load rate over the last 24 hours and the rows rejected."""
    lag = float(sources["lag_seconds"].min()) if len(sources) else float("nan")
    rate = _rate(hours[hours["hour"] > pd.Timestamp(now) - timedelta(days=1)])
    rejected = int(daily["rejects"].sum())
    lag_text = "–" if pd.isna(lag) else f"{number(lag / 60, lang, 1)} min"
    return html.Div(
        [
            card(text("dq.lag", lang), lag_text, "dq-lag", lag),
            card(
                text("dq.rate", lang), "–" if pd.isna(rate) else number(rate, lang), "dq-rate", rate
            ),
            card(text("dq.rejects_total", lang), number(rejected, lang), "dq-rejects", rejected),
        ],
        className="cards",
    )


def pipeline_tables(sources: pd.DataFrame, hours: pd.DataFrame, lang: Lang) -> list[Table]:
    """The last checkpoint per source, and the ETL's work per hour (newest first)."""
    return [
        Table(
            "sources",
            text("dq.sources", lang),
            sources,
            [
                SOURCE,
                Column("last_committed_at", "time"),
                Column("last_position", "int", label="position"),
                *CHECKPOINT_COUNTS,
                Column("lag_seconds", "int"),
            ],
        ),
        Table(
            "hours",
            text("dq.hours", lang),
            hours.sort_values("hour", ascending=False),
            [Column("hour", "time"), *CHECKPOINT_COUNTS],
        ),
    ]


def reject_tables(daily: pd.DataFrame, context: Context) -> list[Table]:
    """Rejects by day and reason, by province and reason, examples of each reason (cut to
    :data:`RECORD_CHARS`), and the sites doses name that the register does not hold."""
    lang, province = context.lang, context.province
    by_reason = (
        daily.groupby(["day", "reason"], as_index=False)["rejects"]
        .sum()
        .sort_values(["day", "reason"], ascending=[False, True])
    )
    by_province = daily.groupby(["province_code", "reason"], as_index=False)["rejects"].sum()
    examples = read("reject_examples", province=province)
    examples = examples.assign(record=examples["record"].astype(str).str.slice(0, RECORD_CHARS))
    unknown = read("unknown_sites", province=province)
    return [
        Table("rejects_reason", text("dq.rejects_reason", lang), by_reason, [DAY, REASON, REJECTS]),
        Table(
            "rejects_province",
            text("dq.rejects_province", lang),
            with_names(by_province, lang),
            [PROVINCE, PROVINCE_NAME, REASON, REJECTS],
        ),
        Table(
            "examples",
            text("dq.examples", lang),
            examples,
            [
                REASON,
                Column("rejected_at", "time", label="when"),
                SOURCE,
                Column("position"),
                Column("dose_id"),
                PROVINCE,
                DETAIL,
                Column("record"),
            ],
        ),
        Table(
            "unknown_sites",
            text("dq.unknown_sites", lang),
            with_names(unknown, lang),
            [PROVINCE_NAME, SITE, DOSES, LAST_HOUR],
        ),
    ]


def build(context: Context) -> Page:
    """The page: read the pipeline's checkpoints and the rejects, then cards, the rejects
    figure, the tables and the reconciliation, each a step."""
    lang = context.lang
    now = context.clock or context.now  # pipeline health is about the wall clock
    sources, hours = read_pipeline(now)
    daily = read("rejects_daily", province=context.province)
    tables = [*pipeline_tables(sources, hours, lang), *reject_tables(daily, context)]
    page = Page(NAME, tables={table.key: table for table in tables})
    page.body = [
        cards(sources, hours, daily, now, lang),
        html.P(text("dq.national_only", lang), className="note"),
        graph("dq-rejects-figure", _rejects_figure(daily, context)),
        *[table_block(NAME, table, context, PATH) for table in tables],
        _reconciliation_block(context, page),
    ]
    return page
