"""Site throughput: doses per hour per site today, hour × day, sites open / reporting /
silent, check-in to vaccination time, capacity use, top and bottom sites, the registrations
funnel and the booking backlog; province → site drill-down.

:func:`build` reads today's figures once (:func:`read_today`) and hands them to one step
per part of the page: the cards, the site activity tables, capacity use and ranks, the
visits (waits, funnel, backlog)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pandas as pd
from dash import html

from dashboards import throughput
from dashboards.columns import CAPACITY, LAST_HOUR, PROVINCE, PROVINCE_NAME, SITE, SITE_NAME
from dashboards.data import read
from dashboards.i18n import text
from dashboards.names import with_names
from dashboards.reads import days_ending
from dashboards.view import Column, Context, Page, Table, card, definitions, graph, table_block
from web.formatting import Lang, number

NAME: Final = "throughput"
PATH: Final = "/internal/"
HEATMAP_DAYS: Final = 14
HOURLY_ROWS: Final = 30

DOSES_TODAY: Final = Column("doses_today", "int")
#: the site count cards: (text, card id, the activity column counted)
SITE_COUNTS: Final = (
    ("tp.sites_open", "tp-open", "open_now"),
    ("tp.sites_active", "tp-active", "active_now"),
    ("tp.sites_silent", "tp-silent", "silent"),
)


def _hourly_figure(hours: pd.DataFrame, by: str, context: Context) -> dict[str, Any]:
    """Doses per hour today as a heatmap: one row per province (whole country) or per site
    (the `HOURLY_ROWS` busiest)."""
    totals = hours.groupby(by)["doses"].sum().sort_values(ascending=False).head(HOURLY_ROWS)
    rows = list(totals.index)[::-1]
    grid = (
        hours[hours[by].isin(rows)]
        .assign(h=hours["hour"].dt.hour)
        .pivot_table(index=by, columns="h", values="doses", aggfunc="sum", fill_value=0)
        .reindex(index=rows, columns=range(24), fill_value=0)
    )
    return {
        "data": [
            {
                "type": "heatmap",
                "z": grid.to_numpy().tolist(),
                "x": [f"{h:02d}:00" for h in range(24)],
                "y": rows,
                "colorscale": "Blues",
                "hovertemplate": "%{y} %{x}: %{z}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": text("tp.hourly", context.lang)},
            "height": max(260, 22 * len(rows) + 120),
            "margin": {"l": 90, "r": 10, "t": 40, "b": 40},
            "yaxis": {"type": "category"},
        },
    }


def _heatmap_figure(grid: pd.DataFrame, context: Context) -> dict[str, Any]:
    return {
        "data": [
            {
                "type": "heatmap",
                "z": grid.to_numpy().tolist(),
                "x": [f"{h:02d}" for h in grid.columns],
                "y": [d.strftime("%Y-%m-%d") for d in grid.index],
                "colorscale": "Blues",
                "hovertemplate": "%{y} %{x}h: %{z}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": text("tp.heatmap", context.lang)},
            "height": 420,
            "margin": {"l": 90, "r": 10, "t": 40, "b": 40},
            "xaxis": {"title": {"text": text("tp.hour", context.lang)}},
            "yaxis": {"type": "category"},
        },
    }


@dataclass(frozen=True)
class Today:
    """What the page's steps share: the site register, today's site hours up to "now", each
    site's activity (:func:`dashboards.throughput.site_activity`) and today's check-in
    waits (every ``level``)."""

    register: pd.DataFrame
    hours: pd.DataFrame
    activity: pd.DataFrame
    waits: pd.DataFrame


def read_today(context: Context) -> Today:
    province, now = context.province, context.now
    register = read("sites", province=province)
    hours = read("site_hours", province=province, **days_ending(now.date()))
    hours = hours[hours["hour"] <= now]
    activity = throughput.site_activity(register, hours, now, context.silent_hours)
    waits = read("checkin_waits", province=province, **days_ending(now.date()))
    return Today(register, hours, activity, waits)


def cards(today: Today, lang: Lang) -> html.Div:
    """Doses today, sites open, reporting and silent, and the overall check-in wait."""
    overall = today.waits[today.waits["level"] == "all"]
    median = float(overall["median_minutes"].iloc[0]) if len(overall) else float("nan")
    p90 = float(overall["p90_minutes"].iloc[0]) if len(overall) else float("nan")

    def minutes(value: float) -> str:
        return "–" if pd.isna(value) else text("tp.minutes", lang, value=number(value, lang, 1))

    counts = [
        ("tp.doses_today", "tp-doses-today", int(today.hours["doses"].sum())),
        *[
            (key, card_id, int(today.activity[column].sum()))
            for key, card_id, column in SITE_COUNTS
        ],
    ]
    return html.Div(
        [
            *[
                card(text(key, lang), number(value, lang), card_id, value)
                for key, card_id, value in counts
            ],
            card(text("tp.wait_median", lang), minutes(median), "tp-wait-median", median),
            card(text("tp.wait_p90", lang), minutes(p90), "tp-wait-p90", p90),
        ],
        className="cards",
    )


def activity_tables(today: Today, context: Context) -> list[Table]:
    """Sites open, reporting and silent: per province (the whole country) or per site (a
    province), then the silent sites."""
    lang, activity = context.lang, today.activity
    if context.province:
        where = Table(
            "sites",
            text("tp.sites", lang),
            activity.sort_values("site_id"),
            [
                SITE,
                SITE_NAME,
                Column("site_type"),
                CAPACITY,
                DOSES_TODAY,
                LAST_HOUR,
                Column("open_now"),
                Column("active_now"),
            ],
        )
    else:
        where = Table(
            "provinces",
            text("tp.provinces", lang),
            with_names(throughput.province_activity(activity), lang),
            [
                PROVINCE,
                PROVINCE_NAME,
                Column("sites", "int"),
                Column("open_now", "int"),
                Column("active_now", "int"),
                Column("silent", "int"),
                DOSES_TODAY,
            ],
            link="province_code",
        )
    silent = activity[activity["silent"]].sort_values(
        ["silent_minutes", "site_id"], ascending=[False, True]
    )
    return [
        where,
        Table(
            "silent",
            text("tp.silent", lang, hours=context.silent_hours),
            with_names(silent, lang),
            [SITE, SITE_NAME, PROVINCE_NAME, Column("silent_minutes", "int"), LAST_HOUR],
        ),
    ]


def capacity_tables(today: Today, context: Context) -> list[Table]:
    """Sites under half their capacity over the last days, and today's top and bottom."""
    lang, day = context.lang, context.now.date()
    totals = read(
        "site_totals", province=context.province, **days_ending(day, throughput.CAPACITY_DAYS)
    )
    use = throughput.capacity_use(today.register, totals)
    top, bottom = throughput.ranked(today.activity, context.now)
    ranked_columns = [SITE, SITE_NAME, PROVINCE_NAME, DOSES_TODAY, CAPACITY]
    return [
        Table(
            "under_capacity",
            text("tp.under", lang),
            with_names(throughput.under_capacity(use), lang),
            [
                SITE,
                SITE_NAME,
                PROVINCE_NAME,
                CAPACITY,
                Column("per_day", "float"),
                Column("use", "pct"),
            ],
        ),
        Table("top", text("tp.top", lang), with_names(top, lang), ranked_columns),
        Table("bottom", text("tp.bottom", lang), with_names(bottom, lang), ranked_columns),
    ]


def visit_tables(today: Today, context: Context) -> list[Table]:
    """Check-in to dose times and today's registrations funnel (per province, or per site
    within a province), and the booking backlog."""
    lang, province, now = context.lang, context.province, context.now
    level = "site" if province else "province"
    where = [PROVINCE, PROVINCE_NAME] + ([SITE] if province else [])
    link = "" if province else "province_code"
    funnel = throughput.funnel_rates(read("funnel", province=province, **days_ending(now.date())))
    hour = now.replace(minute=0, second=0, microsecond=0)
    backlog = throughput.backlog_days(read("backlog", province=province, now=hour))
    return [
        Table(
            "waits",
            text("tp.waits", lang),
            with_names(today.waits[today.waits["level"] == level], lang),
            [
                *where,
                Column("checkins", "int"),
                Column("median_minutes", "minutes"),
                Column("p90_minutes", "minutes"),
            ],
            link=link,
        ),
        Table(
            "funnel",
            text("tp.funnel", lang),
            with_names(funnel[funnel["level"] == level], lang),
            [
                *where,
                Column("registered", "int"),
                Column("checked_in", "int"),
                Column("vaccinated", "int"),
                Column("checked_in_share", "pct"),
                Column("vaccinated_share", "pct"),
                Column("cancelled", "int"),
            ],
            link=link,
        ),
        Table(
            "backlog",
            text("tp.backlog", lang),
            with_names(backlog, lang),
            [
                PROVINCE,
                PROVINCE_NAME,
                Column("upcoming", "int"),
                Column("next_7_days", "int"),
                Column("overdue", "int"),
                CAPACITY,
                Column("days_of_backlog", "float"),
            ],
        ),
    ]


def build(context: Context) -> Page:
    """The page: read today's figures, then cards, figures and tables, each a step."""
    today = read_today(context)
    day = context.now.date()
    totals = read("hour_totals", province=context.province, **days_ending(day, HEATMAP_DAYS))
    grid = throughput.heatmap(totals, day - timedelta(days=HEATMAP_DAYS - 1), day)
    by = "site_id" if context.province else "province_code"
    tables = [
        *activity_tables(today, context),
        *capacity_tables(today, context),
        *visit_tables(today, context),
    ]
    return Page(
        NAME,
        body=[
            cards(today, context.lang),
            graph("tp-hourly", _hourly_figure(today.hours, by, context)),
            graph("tp-heatmap", _heatmap_figure(grid, context)),
            *[table_block(NAME, table, context, PATH) for table in tables],
            definitions(
                context.lang, [text("tp.definitions", context.lang, hours=context.silent_hours)]
            ),
        ],
        tables={table.key: table for table in tables},
    )
