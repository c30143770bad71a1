"""Figure builders, pure: tables in, Plotly figures (or their parts) out.

The map is a MapLibre ``choroplethmap`` on ``map_style="white-bg"`` with the shipped
province boundaries: no tile, font or script is fetched from anywhere (DESIGN.md, "Offline
by construction"). The geometry goes to the browser once; a change of measure, denominator
or date only sends :func:`map_colours` (applied with a Dash ``Patch``).
Colours: Cividis, a sequential scale readable with every common colour-vision deficiency.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from portal.i18n import text
from portal.metrics import Metric
from web.formatting import Lang, number, percent

COLOURSCALE: Final = "Cividis"
#: Vietnam's centre and a zoom showing all of it (including the islands) in ~600 px
MAP_CENTRE: Final = {"lat": 15.9, "lon": 106.3}
MAP_ZOOM: Final = 4.1
LINE_COLOURS: Final = ("#00204c", "#7c7b78", "#d2a400")  # cividis ends and middle: distinct
FONT: Final = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"}


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (0.01 at least): the top of
    the colour scale, so that the map shows differences at any stage of the campaign (the
    colour bar prints the range)."""
    top = 0.01
    while top < value:
        for step in (2.0, 2.5, 2.0):  # 1 -> 2 -> 5 -> 10
            top *= step
            if top >= value:
                break
    return round(top, 6)


def _value(metric: Metric, value: float, lang: Lang) -> str:
    return number(value, lang, 1) if metric == "per100" else percent(value, lang)


def map_colours(table: pd.DataFrame, metric: Metric, lang: Lang) -> dict[str, Any]:
    """What changes with the measure, denominator, date or language: the areas' codes,
    values, hover texts and the colour range. Keys: ``locations``, ``z``, ``customdata``,
    ``zmax``, ``title``."""
    values = table[metric].astype(float).round(4)  # as the open-data API rounds
    name = table["name_en" if lang == "en" else "name_vi"]
    details = [
        "<br>".join(
            [
                f"{text('metric.pct_dose1', lang)}: {percent(row.pct_dose1, lang)}",
                f"{text('metric.pct_full', lang)}: {percent(row.pct_full, lang)}",
                f"{text('metric.pct_booster', lang)}: {percent(row.pct_booster, lang)}",
                f"{text('metric.per100', lang)}: {number(row.per100, lang, 1)}",
                f"{text('col.doses', lang)}: {number(row.doses, lang)}",
            ]
            + ([f"⚠ {text('col.capped', lang)}"] if row.capped else [])
        )
        for row in table.itertuples()
    ]
    highest = float(values.max()) if len(values) else 0.0
    zmax = nice_ceiling(highest) if metric == "per100" else min(100.0, nice_ceiling(highest))
    return {
        "locations": list(table["area_code"]),
        "z": [float(v) for v in values],
        "customdata": [
            [n, _value(metric, float(v), lang), d]
            for n, v, d in zip(name, values, details, strict=True)
        ],
        "zmax": zmax,
        "title": text(f"metric.{metric}", lang),
    }


def choropleth(
    geojson: Mapping[str, Any] | str, featureidkey: str, colours: Mapping[str, Any]
) -> dict[str, Any]:
    """The province map: `geojson` boundaries (a GeoJSON document, or the URL Plotly fetches
    it from) joined on `featureidkey`, coloured by `colours` (:func:`map_colours`). A plain
    figure dict: ``go.Figure`` would deep-copy and validate the boundaries on every call."""
    trace = {
        "type": "choroplethmap",
        "geojson": geojson,
        "featureidkey": featureidkey,
        "locations": colours["locations"],
        "z": colours["z"],
        "customdata": colours["customdata"],
        "zmin": 0,
        "zmax": colours["zmax"],
        "colorscale": COLOURSCALE,
        "marker": {"line": {"width": 0.6, "color": "#ffffff"}},
        "colorbar": {"title": {"text": colours["title"], "side": "right"}, "thickness": 12},
        "hovertemplate": "<b>%{customdata[0]}</b>: %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
    }
    layout = {
        "map": {"style": "white-bg", "center": MAP_CENTRE, "zoom": MAP_ZOOM},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "font": FONT,
        "dragmode": False,
        "uirevision": "map",
    }
    return {"data": [trace], "layout": layout}


def _empty(message: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        annotations=[{"text": message, "showarrow": False, "font": {"size": 14}}],
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=260,
        font=FONT,
    )
    return figure


def daily_doses(series: pd.DataFrame, lang: Lang, marker: pd.Timestamp | None = None) -> go.Figure:
    """Doses per day (bars) and their 7-day average (line), from one area's
    :func:`portal.metrics.timeseries`; `marker` draws the as-of day."""
    if series.empty:
        return _empty(text("stamp.none", lang))
    figure = go.Figure(
        [
            go.Bar(
                x=series["day"],
                y=series["doses"],
                name=text("daily.doses", lang),
                marker={"color": "#a6b4d0"},
            ),
            go.Scatter(
                x=series["day"],
                y=series["doses_avg7"],
                name=text("daily.avg7", lang),
                mode="lines",
                line={"color": LINE_COLOURS[0], "width": 2},
            ),
        ]
    )
    if marker is not None:
        figure.add_vline(x=marker, line_width=1, line_dash="dot", line_color="#444")
    figure.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        height=320,
        bargap=0,
        legend={"orientation": "h", "y": 1.1},
        separators=",." if lang == "vi" else ".,",
        font=FONT,
        hovermode="x unified",
    )
    return figure


def coverage_trend(lines: Mapping[str, pd.DataFrame], column: str, lang: Lang) -> go.Figure:
    """Coverage % (`column` of :func:`portal.metrics.timeseries`) over time, one line per
    labelled series (the province, its region, the country)."""
    if not lines or all(frame.empty for frame in lines.values()):
        return _empty(text("stamp.none", lang))
    figure = go.Figure(
        [
            go.Scatter(
                x=frame["day"],
                y=frame[column],
                name=label,
                mode="lines",
                line={"color": LINE_COLOURS[i % len(LINE_COLOURS)], "width": 3 if i == 0 else 2},
            )
            for i, (label, frame) in enumerate(lines.items())
        ]
    )
    figure.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        height=320,
        yaxis={"range": [0, 100], "ticksuffix": "%"},
        legend={"orientation": "h", "y": 1.12},
        separators=",." if lang == "vi" else ".,",
        font=FONT,
        hovermode="x unified",
    )
    return figure


def bars(labels: list[str], values: list[float], lang: Lang, share: bool = False) -> go.Figure:
    """Horizontal bars (dose-number split, vaccine mix), largest first, values printed."""
    if not labels:
        return _empty(text("stamp.none", lang))
    printed = [percent(100 * v, lang) if share else number(v, lang) for v in values]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            text=printed,
            textposition="auto",
            marker={"color": LINE_COLOURS[0]},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        height=max(160, 34 * len(labels) + 50),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"tickformat": ".0%" if share else ",d"},
        separators=",." if lang == "vi" else ".,",
        font=FONT,
    )
    return figure


def correction_trend(monthly: pd.DataFrame, lang: Lang) -> go.Figure:
    """The country's correction requests per month (:func:`portal.backlog.backlog`'s months):
    received and resolved (approved + rejected) as bars, open at the month's end as a line.
    A withheld value is a gap (resolved: when either part is withheld)."""
    if monthly.empty:
        return _empty(text("corrections.none", lang))

    def shown(values: pd.Series) -> list[float | None]:
        return [None if value is None or pd.isna(value) else float(value) for value in values]

    resolved = [
        None if a is None or r is None else float(a + r)
        for a, r in zip(monthly["approved"], monthly["rejected"], strict=True)
    ]
    months = list(monthly["period"])
    figure = go.Figure(
        [
            go.Bar(
                x=months,
                y=shown(monthly["received"]),
                name=text("corrections.received", lang),
                marker={"color": "#a6b4d0"},
            ),
            go.Bar(
                x=months,
                y=resolved,
                name=text("corrections.resolved", lang),
                marker={"color": LINE_COLOURS[0]},
            ),
            go.Scatter(
                x=months,
                y=shown(monthly["open"]),
                name=text("corrections.open_end", lang),
                mode="lines+markers",
                line={"color": LINE_COLOURS[2], "width": 2},
            ),
        ]
    )
    figure.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        height=320,
        barmode="group",
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.12},
        separators=",." if lang == "vi" else ".,",
        font=FONT,
        hovermode="x unified",
    )
    return figure
