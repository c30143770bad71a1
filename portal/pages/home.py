"""Home: the national headline figures, the map of the 63 (or 34) provinces, the daily doses
and the province ranking, all as of a chosen day.

The map's geometry is sent once (with the page, and again only when the boundaries switch
between 63 and 34 provinces); a change of measure, denominator or day sends a ``Patch`` with
the new values and hover texts only. Callbacks are thin: each calls a ``*_view`` function
(plain, testable in an app context) that reads :mod:`portal.data` and builds with
:mod:`portal.figures`.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any, Final

import dash
import pandas as pd
from dash import ALL, Input, Output, Patch, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from portal import data, figures, geometry
from portal.i18n import text
from portal.layout import URL_ID, data_notes, href, lang_from, sample_notice, stamp, unavailable
from portal.metrics import DENOMINATORS, METRICS, SNAPSHOT_DAY, Denominator, Level, Metric
from warehouse.sample import WHOLE, Sample
from web.cache import DataUnavailableError
from web.data import updated_at
from web.formatting import Lang, day, lang_of, number, percent
from web.layout import attrs

dash.register_page(__name__, path="/", title="VaxViet — tiêm chủng COVID-19", name="Home")

METRIC_ID: Final = "home-metric"
DENOMINATOR_ID: Final = "home-denominator"
DATE_ID: Final = "home-date"
SNAPSHOT_ID: Final = "home-snapshot"
LATEST_ID: Final = "home-latest"
GEOGRAPHY_ID: Final = "home-geography"
MAP_ID: Final = "home-map"
HEADLINE_ID: Final = "home-headline"
DAILY_ID: Final = "home-daily"
TABLE_ID: Final = "home-table"
TABLE_BODY_ID: Final = "home-table-body"
SORT_ID: Final = "home-sort"
SORT_BUTTON: Final = "home-sort-button"
DOWNLOAD_ID: Final = "home-download"
DOWNLOAD_BUTTON_ID: Final = "home-download-button"
LANG_ID: Final = "home-lang"
LAST_DAY_ID: Final = "home-last-day"

GEOGRAPHIES: Final[dict[str, tuple[Level, str]]] = {
    "63": ("province", "properties.gso_code"),
    "34": ("province2025", "properties.new_gso_code"),
}
#: ranking table columns: (column, text key, kind)
TABLE_COLUMNS: Final = (
    ("population", "col.population", "count"),
    ("dose1", "col.dose1", "count"),
    ("pct_dose1", "col.pct_dose1", "pct"),
    ("full", "col.full", "count"),
    ("pct_full", "col.pct_full", "pct"),
    ("boosters", "col.boosters", "count"),
    ("pct_booster", "col.pct_booster", "pct"),
    ("doses", "col.doses", "count"),
    ("per100", "col.per100", "ratio"),
)
DEFAULT_SORT: Final = {"column": "pct_dose1", "descending": True}


def _as_of(value: str | None, fallback: date) -> date:
    """The date control's value as a date (the latest day when empty or unreadable)."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else fallback
    except ValueError:
        return fallback


# -- views: what each callback returns, as plain functions ---------------------------------


def map_figure(
    metric: Metric, denominator: Denominator, as_of: date, geography: str, lang: Lang
) -> Any:
    """The whole map figure; the boundaries by URL (:mod:`portal.geometry`)."""
    level, key = GEOGRAPHIES[geography]
    colours = figures.map_colours(data.coverage(as_of, level, denominator), metric, lang)
    return figures.choropleth(geometry.url(geography), key, colours)


def map_patch(
    metric: Metric, denominator: Denominator, as_of: date, geography: str, lang: Lang
) -> Patch:
    """Only what changes with the measure, denominator or day: values, hover, range."""
    level, _ = GEOGRAPHIES[geography]
    colours = figures.map_colours(data.coverage(as_of, level, denominator), metric, lang)
    patch = Patch()
    patch["data"][0]["z"] = colours["z"]
    patch["data"][0]["customdata"] = colours["customdata"]
    patch["data"][0]["zmax"] = colours["zmax"]
    patch["data"][0]["colorbar"]["title"]["text"] = colours["title"]
    return patch


def headline_view(as_of: date, lang: Lang) -> list[Any]:
    """The headline cards: totals with both denominators, and the doses around `as_of`."""
    total = data.coverage(as_of, "national", "total").iloc[0]
    adult = data.coverage(as_of, "national", "adult").iloc[0]
    recent = data.recent_doses(as_of)

    def card(key: str, count: int, metric: str | None, data_key: str) -> html.Div:
        lines = [html.Span(number(count, lang), className="figure", **attrs(data_value=str(count)))]
        if metric:
            lines.append(
                html.Span(
                    f"{percent(total[metric], lang)} {text('headline.of_total', lang)} · "
                    f"{percent(adult[metric], lang)} {text('headline.of_adult', lang)}",
                    className="share",
                )
            )
        else:
            lines.append(
                html.Span(
                    f"{number(total['per100'], lang, 1)} / 100 · {text('metric.per100', lang)}",
                    className="share",
                )
            )
        return html.Div([html.H2(text(key, lang)), *lines], className="card", id=data_key)

    return [
        card("headline.doses", int(total["doses"]), None, "headline-doses"),
        card("headline.dose1", int(total["dose1"]), "pct_dose1", "headline-dose1"),
        card("headline.full", int(total["full"]), "pct_full", "headline-full"),
        card("headline.boosters", int(total["boosters"]), "pct_booster", "headline-boosters"),
        html.Div(
            [
                html.H2(f"{text('headline.today', lang)} {day(as_of, lang)}"),
                html.Span(number(recent["today"], lang), className="figure"),
                html.Span(
                    f"{text('headline.yesterday', lang)}: {number(recent['yesterday'], lang)} · "
                    f"{text('headline.avg7', lang)}: {number(recent['avg7'], lang)}",
                    className="share",
                ),
            ],
            className="card",
            id="headline-recent",
        ),
    ]


def ranking(
    as_of: date, denominator: Denominator, geography: str, sort: dict[str, Any]
) -> pd.DataFrame:
    """The ranking table's rows, sorted, with their ``rank`` by the sorted column."""
    level, _ = GEOGRAPHIES[geography]
    table = data.coverage(as_of, level, denominator)
    column = sort.get("column") if sort.get("column") in table.columns else "pct_dose1"
    ordered = table.sort_values(
        [column, "area_code"], ascending=[not sort.get("descending", True), True], kind="stable"
    ).reset_index(drop=True)
    ordered.insert(0, "rank", range(1, len(ordered) + 1))
    return ordered


def table_body(rows: pd.DataFrame, geography: str, lang: Lang) -> list[html.Tr]:
    name = "name_en" if lang == "en" else "name_vi"

    def cell(value: Any, kind: str, capped: bool) -> html.Td:
        if kind == "count":
            shown = number(value, lang)
        elif kind == "pct":
            shown = percent(value, lang) + (" *" if capped and value >= 100.0 else "")
        else:
            shown = number(value, lang, 1)
        return html.Td(shown, className="number")

    body = []
    for row in rows.to_dict("records"):
        label: Any = row[name]
        if geography == "63":
            label = dcc.Link(row[name], href=href(f"/province/{row['area_code']}", lang))
        body.append(
            html.Tr(
                [
                    html.Td(str(row["rank"]), className="number"),
                    html.Th(label, scope="row"),
                    *[cell(row[c], kind, bool(row["capped"])) for c, _, kind in TABLE_COLUMNS],
                ],
                **attrs(data_code=row["area_code"]),
            )
        )
    return body


def table_csv(
    rows: pd.DataFrame, as_of: date, denominator: Denominator, sample: Sample = WHOLE
) -> str:
    """The ranking as CSV: plain numbers (full precision), one row per area, each saying the
    day, the denominator and the data's sample fraction (``population`` is the census ×
    it) and whether the data is simulated."""
    columns = ["rank", "area_code", "name_vi", "name_en", *[c for c, _, _ in TABLE_COLUMNS]]
    out = rows[[*columns, "capped"]].assign(
        as_of=as_of.isoformat(),
        denominator=denominator,
        sample_fraction=sample.fraction,
        simulated=str(sample.simulated).lower(),
    )
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, float_format="%.4f")
    return buffer.getvalue()


# -- layout ----------------------------------------------------------------------------------


def _sort_header(column: str, key: str, lang: Lang, sort: dict[str, Any]) -> html.Th:
    active = sort["column"] == column
    state = ("descending" if sort["descending"] else "ascending") if active else "none"
    arrow = {"descending": " ▼", "ascending": " ▲", "none": ""}[state]
    return html.Th(
        html.Button(
            text(key, lang) + arrow,
            id={"type": SORT_BUTTON, "column": column},
            className="sort-button",
            n_clicks=0,
        ),
        scope="col",
        **attrs(aria_sort=state),
    )


def table_head(lang: Lang, sort: dict[str, Any]) -> html.Thead:
    return html.Thead(
        html.Tr(
            [
                html.Th(text("col.rank", lang), scope="col"),
                html.Th(text("col.area", lang), scope="col"),
                *[_sort_header(c, key, lang, sort) for c, key, _ in TABLE_COLUMNS],
            ]
        ),
        id=f"{TABLE_ID}-head",
    )


def _radio(
    component_id: str, options: list[tuple[str, str]], value: str, label: str
) -> html.Fieldset:
    return html.Fieldset(
        [
            html.Legend(label, id=f"{component_id}-legend"),
            dcc.RadioItems(
                id=component_id,
                options=[{"label": shown, "value": v} for v, shown in options],
                value=value,
                className="radio",
                inputClassName="radio-input",
            ),
        ],
        className="control",
    )


def layout(**query: str) -> html.Div:
    lang = lang_from(query)
    try:
        days = data.span()
        updated = updated_at()
    except DataUnavailableError:
        return html.Div([html.H1(text("home.title", lang)), unavailable(lang)])
    first, last = days if days else (SNAPSHOT_DAY, SNAPSHOT_DAY)
    as_of, geography = last, "63"
    metric: Metric = "pct_dose1"
    denominator: Denominator = "total"
    national = data.timeseries("national", ("VN",))
    rows = ranking(as_of, denominator, geography, DEFAULT_SORT)
    controls = html.Div(
        [
            _radio(METRIC_ID, [(m, text(f"metric.{m}", lang)) for m in METRICS], metric,
                   text("control.metric", lang)),
            _radio(DENOMINATOR_ID, [(d, text(f"denominator.{d}", lang)) for d in DENOMINATORS],
                   denominator, text("control.denominator", lang)),
            html.Fieldset(
                [
                    html.Legend(text("control.date", lang)),
                    dcc.DatePickerSingle(
                        id=DATE_ID,
                        # the input's accessible name (Dash makes it its aria-label)
                        placeholder=text("control.date", lang),
                        date=as_of.isoformat(),
                        min_date_allowed=first.isoformat(),
                        max_date_allowed=last.isoformat(),
                        display_format="DD/MM/YYYY" if lang == "vi" else "D MMM YYYY",
                        first_day_of_week=1,
                        month_format="MM/YYYY" if lang == "vi" else "MMMM YYYY",
                    ),
                    html.Button(text("control.snapshot", lang), id=SNAPSHOT_ID, n_clicks=0,
                                className="button"),
                    html.Button(text("control.latest", lang), id=LATEST_ID, n_clicks=0,
                                className="button"),
                ],
                className="control",
            ),
            _radio(GEOGRAPHY_ID, [("63", text("geography.63", lang)),
                                  ("34", text("geography.34", lang))], geography,
                   text("control.geography", lang)),
        ],
        className="controls",
    )  # fmt: skip
    daily = figures.daily_doses(national, lang, marker=pd.Timestamp(as_of))
    return html.Div(
        [
            dcc.Store(id=LANG_ID, data=lang),
            dcc.Store(id=LAST_DAY_ID, data=last.isoformat()),
            dcc.Store(id=SORT_ID, data=DEFAULT_SORT),
            html.H1(text("home.title", lang)),
            *sample_notice(lang),
            stamp(days[1] if days else None, updated, lang),
            html.Section(headline_view(as_of, lang), id=HEADLINE_ID, className="cards",
                         **attrs(aria_live="polite")),
            controls,
            html.Section(
                [
                    html.H2(text("map.title", lang)),
                    html.P([text("map.hint", lang), " ",
                            html.A(text("table.title", lang), href=f"#{TABLE_ID}")]),
                    dcc.Graph(
                        id=MAP_ID,
                        figure=map_figure(metric, denominator, as_of, geography, lang),
                        config={"displayModeBar": False, "scrollZoom": False, "responsive": True},
                        className="map-graph",
                    ),
                ],
                className="map-section",
            ),
            html.Section(
                [
                    html.H2(text("daily.title", lang)),
                    dcc.Graph(id=DAILY_ID, figure=daily, config={"displayModeBar": False}),
                ]
            ),
            html.Section(
                [
                    html.H2(text("table.title", lang)),
                    html.Button(text("table.download", lang), id=DOWNLOAD_BUTTON_ID,
                                className="button", n_clicks=0),
                    dcc.Download(id=DOWNLOAD_ID),
                    html.Div(
                        html.Table(
                            [
                                table_head(lang, DEFAULT_SORT),
                                html.Tbody(table_body(rows, geography, lang), id=TABLE_BODY_ID),
                            ],
                            className="ranking",
                        ),
                        id=TABLE_ID,
                        className="table-scroll",
                        tabIndex="0",
                        role="region",
                        **attrs(aria_label=text("table.title", lang)),
                    ),
                    html.P(f"* {text('col.capped', lang)}", className="footnote"),
                ]
            ),
            data_notes(lang, ["denominator", "dose1", "full", "boosters", "cap", "2025"]),
        ]
    )  # fmt: skip


# -- callbacks: thin ---------------------------------------------------------------------------


@callback(
    Output(DATE_ID, "date"),
    Input(SNAPSHOT_ID, "n_clicks"),
    Input(LATEST_ID, "n_clicks"),
    State(LAST_DAY_ID, "data"),
    prevent_initial_call=True,
)
def jump_to_day(_snapshot: int, _latest: int, last_day: str) -> str:
    return SNAPSHOT_DAY.isoformat() if ctx.triggered_id == SNAPSHOT_ID else last_day


@callback(
    Output(MAP_ID, "figure"),
    Input(METRIC_ID, "value"),
    Input(DENOMINATOR_ID, "value"),
    Input(DATE_ID, "date"),
    Input(GEOGRAPHY_ID, "value"),
    State(LANG_ID, "data"),
    State(LAST_DAY_ID, "data"),
    prevent_initial_call=True,
)
def update_map(
    metric: Metric, denominator: Denominator, when: str, geography: str, lang: str, last: str
) -> Any:
    as_of = _as_of(when, date.fromisoformat(last))
    view = map_figure if ctx.triggered_id == GEOGRAPHY_ID else map_patch
    return view(metric, denominator, as_of, geography, lang_of(lang))


@callback(
    Output(HEADLINE_ID, "children"),
    Output(DAILY_ID, "figure"),
    Input(DATE_ID, "date"),
    State(LANG_ID, "data"),
    State(LAST_DAY_ID, "data"),
    prevent_initial_call=True,
)
def update_headline(when: str, lang: str, last: str) -> tuple[list[Any], Patch]:
    as_of = _as_of(when, date.fromisoformat(last))
    marker = Patch()
    marker["layout"]["shapes"][0]["x0"] = as_of.isoformat()
    marker["layout"]["shapes"][0]["x1"] = as_of.isoformat()
    return headline_view(as_of, lang_of(lang)), marker


@callback(
    Output(SORT_ID, "data"),
    Input({"type": SORT_BUTTON, "column": ALL}, "n_clicks"),
    State(SORT_ID, "data"),
    prevent_initial_call=True,
)
def change_sort(_clicks: list[int], sort: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(ctx.triggered_id, dict) or not any(_clicks):
        raise PreventUpdate
    column = ctx.triggered_id["column"]
    same = column == sort.get("column")
    return {"column": column, "descending": not sort["descending"] if same else True}


@callback(
    Output(TABLE_BODY_ID, "children"),
    Output(f"{TABLE_ID}-head", "children"),
    Input(DENOMINATOR_ID, "value"),
    Input(DATE_ID, "date"),
    Input(GEOGRAPHY_ID, "value"),
    Input(SORT_ID, "data"),
    State(LANG_ID, "data"),
    State(LAST_DAY_ID, "data"),
    prevent_initial_call=True,
)
def update_table(
    denominator: Denominator, when: str, geography: str, sort: dict[str, Any], lang: str, last: str
) -> tuple[list[html.Tr], Any]:
    chosen = lang_of(lang)
    rows = ranking(_as_of(when, date.fromisoformat(last)), denominator, geography, sort)
    return table_body(rows, geography, chosen), table_head(chosen, sort).children


@callback(
    Output(DOWNLOAD_ID, "data"),
    Input(DOWNLOAD_BUTTON_ID, "n_clicks"),
    State(DENOMINATOR_ID, "value"),
    State(DATE_ID, "date"),
    State(GEOGRAPHY_ID, "value"),
    State(SORT_ID, "data"),
    State(LAST_DAY_ID, "data"),
    prevent_initial_call=True,
)
def download(
    _clicks: int, denominator: Denominator, when: str, geography: str, sort: dict[str, Any],
    last: str,
) -> dict[str, Any]:  # fmt: skip
    as_of = _as_of(when, date.fromisoformat(last))
    rows = ranking(as_of, denominator, geography, sort)
    name = f"vaxviet-coverage-{GEOGRAPHIES[geography][0]}-{as_of.isoformat()}.csv"
    content = table_csv(rows, as_of, denominator, data.sample())
    return dict(content=content, filename=name, type="text/csv")


# A click on a province of the 63 opens its page, in the browser: Plotly's graph reports a
# (null) click when it mounts, and a server callback would cost every page view a request.
dash.clientside_callback(
    """
    function(click, geography, lang) {
        const none = window.dash_clientside.no_update;
        if (!click || geography !== '63' || !click.points || !click.points.length) {
            return none;
        }
        const code = String(click.points[0].location || '');
        if (!/^[0-9]{2}$/.test(code)) { return none; }
        const english = String(lang || '').toLowerCase().startsWith('en');
        return '/province/' + code + (english ? '?lang=en' : '');
    }
    """,
    Output(URL_ID, "href"),
    Input(MAP_ID, "clickData"),
    State(GEOGRAPHY_ID, "value"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)
