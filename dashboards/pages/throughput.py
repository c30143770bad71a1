"""Site throughput: doses per hour per site today, hour × day, sites open / reporting /
silent, check-in to vaccination time, capacity use, top and bottom sites, the registrations
funnel and the booking backlog; province → site drill-down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import pandas as pd
from dash import html

from dashboards import throughput
from dashboards.data import read
from dashboards.i18n import text
from dashboards.names import with_names
from dashboards.reads import days_ending
from dashboards.view import Column, Context, Page, Table, card, definitions, graph, table_block
from web.formatting import number

NAME: Final = "throughput"
PATH: Final = "/internal/"
HEATMAP_DAYS: Final = 14
HOURLY_ROWS: Final = 30

SITE = Column("site_id", ("Mã điểm tiêm", "Site"))
SITE_NAME = Column("name", ("Tên điểm tiêm", "Site name"))
PROVINCE = Column("province_code", ("Mã tỉnh", "Province code"))
PROVINCE_NAME = Column("province_name", ("Tỉnh", "Province"))
DOSES_TODAY = Column("doses_today", ("Mũi hôm nay", "Doses today"), "int")
CAPACITY = Column("daily_capacity", ("Công suất/ngày", "Capacity/day"), "int")


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


def build(context: Context) -> Page:
    lang, province, now = context.lang, context.province, context.now
    today = now.date()
    register = read("sites", province=province)
    hours = read("site_hours", province=province, **days_ending(today))
    hours = hours[hours["hour"] <= now]
    activity = throughput.site_activity(register, hours, now, context.silent_hours)
    waits = read("checkin_waits", province=province, **days_ending(today))
    overall = waits[waits["level"] == "all"]
    median = float(overall["median_minutes"].iloc[0]) if len(overall) else float("nan")
    p90 = float(overall["p90_minutes"].iloc[0]) if len(overall) else float("nan")
    doses_today = int(hours["doses"].sum())

    def minutes(value: float) -> str:
        return "–" if pd.isna(value) else text("tp.minutes", lang, value=number(value, lang, 1))

    cards = [
        card(
            text("tp.doses_today", lang), number(doses_today, lang), "tp-doses-today", doses_today
        ),
        card(
            text("tp.sites_open", lang),
            number(int(activity["open_now"].sum()), lang),
            "tp-open",
            int(activity["open_now"].sum()),
        ),
        card(
            text("tp.sites_active", lang),
            number(int(activity["active_now"].sum()), lang),
            "tp-active",
            int(activity["active_now"].sum()),
        ),
        card(
            text("tp.sites_silent", lang),
            number(int(activity["silent"].sum()), lang),
            "tp-silent",
            int(activity["silent"].sum()),
        ),
        card(text("tp.wait_median", lang), minutes(median), "tp-wait-median", median),
        card(text("tp.wait_p90", lang), minutes(p90), "tp-wait-p90", p90),
    ]
    totals = read("hour_totals", province=province, **days_ending(today, HEATMAP_DAYS))
    grid = throughput.heatmap(totals, today - timedelta(days=HEATMAP_DAYS - 1), today)
    by = "site_id" if province else "province_code"

    page = Page(NAME)
    tables: list[Table] = []
    if not province:
        by_province = with_names(throughput.province_activity(activity), lang)
        tables.append(
            Table(
                "provinces",
                text("tp.provinces", lang),
                by_province,
                [
                    PROVINCE,
                    PROVINCE_NAME,
                    Column("sites", ("Số điểm tiêm", "Sites"), "int"),
                    Column("open_now", ("Đang mở", "Open now"), "int"),
                    Column("active_now", ("Có ghi nhận", "Reporting"), "int"),
                    Column("silent", ("Im lặng", "Silent"), "int"),
                    DOSES_TODAY,
                ],
                link="province_code",
            )
        )
    else:
        tables.append(
            Table(
                "sites",
                text("tp.sites", lang),
                activity.sort_values("site_id"),
                [
                    SITE,
                    SITE_NAME,
                    Column("site_type", ("Loại", "Type")),
                    CAPACITY,
                    DOSES_TODAY,
                    Column("last_hour", ("Giờ có mũi cuối", "Last dose hour"), "time"),
                    Column("open_now", ("Đang mở", "Open now")),
                    Column("active_now", ("Có ghi nhận", "Reporting")),
                ],
            )
        )
    silent = activity[activity["silent"]].sort_values(
        ["silent_minutes", "site_id"], ascending=[False, True]
    )
    tables.append(
        Table(
            "silent",
            text("tp.silent", lang, hours=context.silent_hours),
            with_names(silent, lang),
            [
                SITE,
                SITE_NAME,
                PROVINCE_NAME,
                Column("silent_minutes", ("Phút im lặng", "Minutes silent"), "int"),
                Column("last_hour", ("Giờ có mũi cuối", "Last dose hour"), "time"),
            ],
        )
    )
    use = throughput.capacity_use(
        register,
        read("site_totals", province=province, **days_ending(today, throughput.CAPACITY_DAYS)),
    )
    tables.append(
        Table(
            "under_capacity",
            text("tp.under", lang),
            with_names(throughput.under_capacity(use), lang),
            [
                SITE,
                SITE_NAME,
                PROVINCE_NAME,
                CAPACITY,
                Column("per_day", ("Mũi/ngày (7 ngày)", "Doses/day (7 days)"), "float"),
                Column("use", ("Công suất sử dụng", "Capacity used"), "pct"),
            ],
        )
    )
    top, bottom = throughput.ranked(activity, now)
    ranked_columns = [SITE, SITE_NAME, PROVINCE_NAME, DOSES_TODAY, CAPACITY]
    tables.append(Table("top", text("tp.top", lang), with_names(top, lang), ranked_columns))
    tables.append(
        Table("bottom", text("tp.bottom", lang), with_names(bottom, lang), ranked_columns)
    )
    level = "site" if province else "province"
    wait_rows = waits[waits["level"] == level]
    wait_columns = [PROVINCE, PROVINCE_NAME] + ([SITE] if province else [])
    tables.append(
        Table(
            "waits",
            text("tp.waits", lang),
            with_names(wait_rows, lang),
            [
                *wait_columns,
                Column(
                    "checkins", ("Lượt check-in có tiêm", "Check-ins followed by a dose"), "int"
                ),
                Column("median_minutes", ("Trung vị", "Median"), "minutes"),
                Column("p90_minutes", ("Phân vị 90", "p90"), "minutes"),
            ],
            link="" if province else "province_code",
        )
    )
    funnel = throughput.funnel_rates(read("funnel", province=province, **days_ending(today)))
    tables.append(
        Table(
            "funnel",
            text("tp.funnel", lang),
            with_names(funnel[funnel["level"] == level], lang),
            [
                *wait_columns,
                Column("registered", ("Đăng ký", "Registered"), "int"),
                Column("checked_in", ("Đã check-in", "Checked in"), "int"),
                Column("vaccinated", ("Đã tiêm", "Vaccinated"), "int"),
                Column("checked_in_share", ("% check-in", "% checked in"), "pct"),
                Column("vaccinated_share", ("% tiêm", "% vaccinated"), "pct"),
                Column("cancelled", ("Đã hủy", "Cancelled"), "int"),
            ],
            link="" if province else "province_code",
        )
    )
    backlog = throughput.backlog_days(
        read("backlog", province=province, now=now.replace(minute=0, second=0, microsecond=0))
    )
    tables.append(
        Table(
            "backlog",
            text("tp.backlog", lang),
            with_names(backlog, lang),
            [
                PROVINCE,
                PROVINCE_NAME,
                Column("upcoming", ("Lịch sắp tới", "Upcoming"), "int"),
                Column("next_7_days", ("Trong 7 ngày", "Next 7 days"), "int"),
                Column("overdue", ("Quá hạn chưa xử lý", "Overdue, unresolved"), "int"),
                Column("daily_capacity", ("Công suất/ngày", "Capacity/day"), "int"),
                Column("days_of_backlog", ("Số ngày tồn đọng", "Days of backlog"), "float"),
            ],
        )
    )
    page.tables = {table.key: table for table in tables}
    page.body = [
        html.Div(cards, className="cards"),
        graph("tp-hourly", _hourly_figure(hours, by, context)),
        graph("tp-heatmap", _heatmap_figure(grid, context)),
        *[table_block(NAME, table, context, PATH) for table in tables],
        definitions(lang, [text("tp.definitions", lang, hours=context.silent_hours)]),
    ]
    return page
