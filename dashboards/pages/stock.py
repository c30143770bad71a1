"""Vaccine stock: stock on hand by level, product and lot; days of supply; lots expiring
within 30 days; wastage (open and closed vial); stock-out days; discrepancies between the
stock records (unbalanced transfers, administered vs recorded doses); alerts. Indicator
definitions (:data:`dashboards.stock.DEFINITIONS`) are on the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pandas as pd
from dash import html

from dashboards import data, stock, throughput
from dashboards.columns import (
    DAY,
    DETAIL,
    DIFFERENCE,
    LOT,
    PRODUCT,
    PROVINCE,
    PROVINCE_NAME,
    SITE,
)
from dashboards.data import read
from dashboards.i18n import text
from dashboards.names import with_names
from dashboards.reads import day_end, days_ending
from dashboards.view import Column, Context, Page, Table, card, definitions, table_block
from web.formatting import Lang, number, percent, pick

NAME: Final = "stock"
PATH: Final = "/internal/stock"
WASTAGE_DAYS: Final = 30
RECONCILE_DAYS: Final = 7

LEVEL: Final = Column("level")
EXPIRY: Final = Column("expiry_date", "day")
QUANTITY: Final = Column("quantity", "int")


def alerts(
    low: pd.DataFrame,
    expiring: pd.DataFrame,
    outs: pd.DataFrame,
    silent: pd.DataFrame,
    lang: Lang,
) -> pd.DataFrame:
    """One row per thing to act on: ``alert, province_code, place, vaccine_code, detail``."""
    rows: list[dict[str, Any]] = []
    for r in low.itertuples():
        rows.append({"alert": text("alert.low_cover", lang), "province_code": r.province_code, "place": r.site_id or r.level,
                     "vaccine_code": r.vaccine_code, "detail": f"{number(r.on_hand, lang)} / {number(r.daily_use, lang, 1)}"})  # fmt: skip
    for r in expiring.itertuples():
        key = "alert.expired" if r.days_left < 0 else "alert.expiring"
        rows.append({"alert": text(key, lang), "province_code": r.province_code, "place": r.site_id or r.level,
                     "vaccine_code": r.vaccine_code, "detail": f"{r.lot_number}: {number(r.quantity, lang)} ({r.days_left:+d})"})  # fmt: skip
    for r in outs[outs["on_hand"] <= 0].itertuples():
        rows.append({"alert": text("alert.stock_out", lang), "province_code": r.province_code, "place": r.site_id,
                     "vaccine_code": r.vaccine_code, "detail": str(r.stock_out_days)})  # fmt: skip
    for r in silent.itertuples():
        rows.append({"alert": text("alert.silent", lang), "province_code": r.province_code, "place": r.site_id,
                     "vaccine_code": "", "detail": str(r.silent_minutes)})  # fmt: skip
    return pd.DataFrame(rows, columns=["alert", "province_code", "place", "vaccine_code", "detail"])


@dataclass(frozen=True)
class Figures:
    """What the page's steps share: stock on hand, days of supply, places under cover, lots
    expiring, wastage, stock-outs, silent sites and the differing administered doses."""

    held: pd.DataFrame
    supply: pd.DataFrame
    low: pd.DataFrame
    expiring: pd.DataFrame
    waste: pd.DataFrame
    outs: pd.DataFrame
    silent: pd.DataFrame
    differing: pd.DataFrame


def read_figures(context: Context) -> Figures:
    """The page's reads for the day of "now" and the indicators of dashboards.stock."""
    province, today = context.province, context.now.date()
    held = read("stock_on_hand", province=province, stop=day_end(today))
    supply = stock.with_supply_days(
        read("stock_supply", province=province, **days_ending(today, stock.SUPPLY_WINDOW_DAYS))
    )
    low_sites = stock.with_supply_days(
        read(
            "stock_low_sites",
            province=province,
            **days_ending(today, stock.SUPPLY_WINDOW_DAYS),
            days=stock.SUPPLY_WINDOW_DAYS,
            threshold=stock.LOW_COVER_DAYS,
        )
    ).assign(level="site")
    low = pd.concat(
        [stock.low_cover(supply[supply["level"] != "site"]), low_sites], ignore_index=True
    )
    waste = stock.with_rates(
        read("stock_wastage", province=province, **days_ending(today, WASTAGE_DAYS))
    )
    outs = read(
        "stock_outs",
        province=province,
        first=today - timedelta(days=stock.STOCK_OUT_WINDOW_DAYS - 1),
        days=stock.STOCK_OUT_WINDOW_DAYS,
    )
    activity = throughput.site_activity(
        read("sites", province=province),
        read("site_hours", province=province, **days_ending(today)),
        context.now,
        context.silent_hours,
    )
    reconcile = data.administered_vs_doses(province, today, RECONCILE_DAYS)
    reconcile = reconcile.assign(difference=reconcile["stock_administered"] - reconcile["doses"])
    return Figures(
        held=held,
        supply=supply,
        low=low,
        expiring=stock.expiring(held, today),
        waste=waste,
        outs=outs,
        silent=activity[activity["silent"]],
        differing=reconcile[reconcile["difference"] != 0],
    )


def cards(figures: Figures, lang: Lang) -> html.Div:
    """Total stock, places under cover, lots expiring and the overall wastage rate."""
    total = int(figures.held["quantity"].sum())
    low, expiring = len(figures.low), len(figures.expiring)
    rate = stock.overall_wastage_rate(figures.waste)
    return html.Div(
        [
            card(text("st.total_stock", lang), number(total, lang), "st-total", total),
            card(text("st.low_cover", lang), number(low, lang), "st-low", low),
            card(text("st.expiring_count", lang), number(expiring, lang), "st-expiring", expiring),
            card(
                text("st.wastage_rate", lang),
                "–" if pd.isna(rate) else percent(100 * rate, lang),
                "st-wastage",
                rate,
            ),
        ],
        className="cards",
    )


def tables(figures: Figures, context: Context) -> list[Table]:
    """The page's tables, alerts first."""
    lang, f = context.lang, figures
    alerting = alerts(f.low, f.expiring, f.outs, f.silent, lang)
    return [
        Table(
            "alerts",
            text("st.alerts", lang),
            with_names(alerting, lang),
            [Column("alert"), PROVINCE, PROVINCE_NAME, Column("place"), PRODUCT, DETAIL],
        ),
        Table(
            "on_hand",
            text("st.on_hand", lang),
            with_names(f.held, lang),
            [LEVEL, PROVINCE, PROVINCE_NAME, SITE, PRODUCT, LOT, EXPIRY, QUANTITY],
        ),
        Table(
            "supply",
            text("st.supply", lang),
            with_names(f.supply.sort_values("days_of_supply"), lang),
            [
                LEVEL,
                PROVINCE,
                PROVINCE_NAME,
                SITE,
                PRODUCT,
                Column("on_hand", "int"),
                Column("daily_use", "float"),
                Column("days_of_supply", "float"),
            ],
        ),
        Table(
            "expiring",
            text("st.expiring", lang),
            with_names(f.expiring, lang),
            [
                LEVEL,
                PROVINCE,
                PROVINCE_NAME,
                SITE,
                PRODUCT,
                LOT,
                EXPIRY,
                QUANTITY,
                Column("days_left", "int"),
            ],
        ),
        Table(
            "wastage",
            text("st.wastage", lang),
            with_names(f.waste, lang),
            [
                PROVINCE,
                PROVINCE_NAME,
                PRODUCT,
                Column("administered", "int"),
                Column("open_vial", "int"),
                Column("closed_vial", "int"),
                Column("wastage_rate", "pct"),
                Column("open_vial_rate", "pct"),
                Column("closed_vial_rate", "pct"),
            ],
        ),
        Table(
            "stock_out",
            text("st.stock_out", lang),
            with_names(f.outs, lang),
            [
                PROVINCE,
                PROVINCE_NAME,
                SITE,
                PRODUCT,
                Column("stock_out_days", "int"),
                Column("on_hand", "int", label="on_hand_now"),
            ],
        ),
        Table(
            "transfers",
            text("st.transfers", lang),
            read("unbalanced_transfers", province=context.province),
            [
                Column("transfer_id"),
                PRODUCT,
                LOT,
                Column("sent", "int"),
                Column("received", "int"),
                DIFFERENCE,
                Column("places"),
                Column("first_moved_at", "time", label="when"),
            ],
        ),
        Table(
            "administered",
            text("st.administered", lang),
            with_names(f.differing, lang),
            [
                DAY,
                PROVINCE,
                PROVINCE_NAME,
                PRODUCT,
                Column("stock_administered", "int"),
                Column("doses", "int", label="doses_recorded"),
                DIFFERENCE,
            ],
        ),
    ]


def build(context: Context) -> Page:
    """The page: read the stock figures, then cards and tables, each a step."""
    figures = read_figures(context)
    shown = tables(figures, context)
    lang = context.lang
    return Page(
        NAME,
        body=[
            cards(figures, lang),
            *[table_block(NAME, table, context, PATH) for table in shown],
            definitions(lang, [pick(pair, lang) for pair in stock.DEFINITIONS.values()]),
        ],
        tables={table.key: table for table in shown},
    )
