"""Supply, registrations and doses side by side, per province (``/supply``): for a chosen
province, a chart of the doses delivered, the stock on hand, the days of supply, the
registrations pending and the doses given, day by day; for a chosen day, a table of all 63
provinces with the same figures. Aggregates of each province's store and sites together
(no site's stock is shown); the same figures are open data at ``/api/v1/supply``.

The chart's provinces come from the URL (``?province=01,79``: one chart each; Hà Nội by
default), as do the table's day (``?date=``; the latest by default) and the language; each
province's name in the table opens its chart. Picking another day redraws the table (one
callback, :func:`update_table`). Definitions: :mod:`portal.supply`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from plotly.subplots import make_subplots

from portal import data, metrics
from portal.figures import FONT, LINE_COLOURS
from portal.i18n import text
from portal.layout import href, lang_from, sample_notice, stamp, unavailable
from portal.supply import DEFINITIONS
from web.cache import DataUnavailableError
from web.data import updated_at
from web.formatting import Lang, day, lang_of, number, pick
from web.layout import attrs

dash.register_page(__name__, path="/supply", title="VaxViet — cung ứng / supply", name="Supply")

DATE_ID: Final = "supply-date"
LANG_ID: Final = "supply-lang"
CHARTS_ID: Final = "supply-charts"
TABLE_ID: Final = "supply-table"
TABLE_BODY_ID: Final = "supply-table-body"
TABLE_DAY_ID: Final = "supply-table-day"
NOTES_ID: Final = "supply-notes"
#: the province charted when the URL names none: Hà Nội
DEFAULT_PROVINCE: Final = "01"
#: at most this many charts on one page
MAX_CHARTS: Final = 6
GRAPH_CONFIG: Final[Any] = {"displayModeBar": False, "responsive": True}
#: the table's columns: (column, (vi, en), decimals)
COLUMNS: Final = (
    ("delivered", ("Nhận về", "Delivered"), 0),
    ("on_hand", ("Tồn kho cuối ngày", "On hand"), 0),
    ("days_of_supply", ("Số ngày đủ dùng", "Days of supply"), 1),
    ("pending", ("Đăng ký chờ tiêm", "Pending registrations"), 0),
    ("doses", ("Liều đã tiêm", "Doses given"), 0),
)
INTRO: Final = (
    "Vắc xin về tỉnh, tồn kho, đăng ký chờ tiêm và số liều đã tiêm, đặt cạnh nhau theo "
    "từng tỉnh và từng ngày, để thấy điểm nghẽn nằm ở đâu: thiếu vắc xin, thiếu người đăng "
    "ký, hay thiếu năng lực tiêm. Số liệu là tổng của kho tỉnh và các điểm tiêm trong tỉnh; "
    "không công bố tồn kho của từng điểm tiêm.",
    "Vaccine delivered to each province, its stock, the registrations waiting and the doses "
    "given, side by side for every province and day, to see what is holding a province "
    "back: too little vaccine, too few registrations, or too little capacity to vaccinate. "
    "Figures add up a province's store and its sites; no site's stock is published.",
)
COUNTS: Final = (
    "Số đếm là của dữ liệu, không nhân theo tỷ lệ mẫu; số ngày đủ dùng là một tỷ số nên "
    "không phụ thuộc tỷ lệ ấy.",
    "Counts are the data's own, not scaled by a sample fraction; days of supply is a ratio, "
    "which a fraction does not change.",
)
CHART_HINT: Final = (
    "Chọn tên một tỉnh trong bảng để xem biểu đồ của tỉnh đó.",
    "Select a province's name in the table to chart it.",
)
OPEN_DATA: Final = ("Cùng số liệu dưới dạng dữ liệu mở:", "The same figures as open data:")


def _day_of(value: object, first: date, last: date) -> date:
    """A day from the URL or the date control, within the data's days (the last when
    missing or unreadable)."""
    try:
        chosen = date.fromisoformat(str(value)[:10]) if value else last
    except ValueError:
        return last
    return min(max(chosen, first), last)


def provinces_of(value: object) -> tuple[str, ...]:
    """The known province codes of ``?province=`` (comma-separated; Hà Nội when none)."""
    known = set(metrics.areas("province")["area_code"])
    asked = [code.strip() for code in str(value or "").split(",")]
    codes = tuple(dict.fromkeys(code for code in asked if code in known))
    return codes[:MAX_CHARTS] or (DEFAULT_PROVINCE,)


def _names(lang: Lang) -> pd.Series:
    table = metrics.areas("province").set_index("area_code")
    return table["name_en" if lang == "en" else "name_vi"]


def shown_value(value: Any) -> str | None:
    """A figure as the API gives it (4 decimals; None for a missing days of supply)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float):
        return str(round(value, 4))
    return str(int(value))


def day_rows(as_of: date) -> pd.DataFrame:
    """The 63 provinces on `as_of`, in the order of their codes."""
    table = data.supply_table()
    return table[table["day"] == pd.Timestamp(as_of)].sort_values("province_code")


def table_body(as_of: date, lang: Lang) -> list[html.Tr]:
    names = _names(lang)
    body = []
    for row in day_rows(as_of).to_dict("records"):
        code = row["province_code"]
        cells = []
        for column, _, decimals in COLUMNS:
            exact = shown_value(row[column])
            cells.append(
                html.Td(
                    "—" if exact is None else number(row[column], lang, decimals),
                    className="number",
                    **attrs(data_value=exact or "", data_column=column),
                )
            )
        link = dcc.Link(
            names[code], href=href("/supply", lang, province=code, date=as_of.isoformat())
        )
        body.append(html.Tr([html.Th(link, scope="row"), *cells], **attrs(data_code=code)))
    return body


def table_caption(as_of: date, lang: Lang) -> str:
    return f"{pick(('Các tỉnh ngày', 'Provinces on'), lang)} {day(as_of, lang, 'long')}"


def chart(code: str, lang: Lang) -> go.Figure:
    """One province's figures over time: delivered (bars) and on hand; days of supply;
    doses given (bars) and registrations pending."""
    series = data.supply_table()
    series = series[series["province_code"] == code]
    say = {column: pick(label, lang) for column, label, _ in COLUMNS}
    figure = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=(
            pick(("Vắc xin nhận về và tồn kho (liều)", "Vaccine delivered and on hand (doses)"), lang),
            say["days_of_supply"],
            pick(("Liều đã tiêm và đăng ký chờ tiêm", "Doses given and pending registrations"), lang),
        ),
    )  # fmt: skip
    traces = (
        (1, go.Bar(x=series["day"], y=series["delivered"], name=say["delivered"],
                   marker={"color": "#a6b4d0"})),
        (1, go.Scatter(x=series["day"], y=series["on_hand"], name=say["on_hand"], mode="lines",
                       line={"color": LINE_COLOURS[0], "width": 2})),
        (2, go.Scatter(x=series["day"], y=series["days_of_supply"], name=say["days_of_supply"],
                       mode="lines", line={"color": LINE_COLOURS[1], "width": 2})),
        (3, go.Bar(x=series["day"], y=series["doses"], name=say["doses"],
                   marker={"color": "#7c7b78"})),
        (3, go.Scatter(x=series["day"], y=series["pending"], name=say["pending"], mode="lines",
                       line={"color": LINE_COLOURS[2], "width": 2})),
    )  # fmt: skip
    for row, trace in traces:
        figure.add_trace(trace, row=row, col=1)
    figure.update_layout(
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        height=620,
        bargap=0,
        legend={"orientation": "h", "y": -0.08},
        separators=",." if lang == "vi" else ".,",
        font=FONT,
        hovermode="x unified",
    )
    return figure


def charts(codes: tuple[str, ...], lang: Lang) -> html.Div:
    names = _names(lang)
    sections = []
    for code in codes:
        api = f"/api/v1/supply?area={code}"
        sections.append(
            html.Section(
                [
                    html.H3(names[code]),
                    dcc.Graph(id=f"supply-chart-{code}", figure=chart(code, lang),
                              config=GRAPH_CONFIG),
                    html.P([
                        pick(("Số liệu của biểu đồ:", "The chart's figures:"), lang), " ",
                        html.A(html.Code(f"{api}&format=csv"), href=f"{api}&format=csv"),
                    ]),
                ],
                className="supply-chart",
                **attrs(data_code=code),
            )
        )  # fmt: skip
    return html.Div(sections, id=CHARTS_ID)


def table(as_of: date, lang: Lang) -> html.Div:
    head = html.Thead(
        html.Tr(
            [html.Th(text("col.area", lang), scope="col")]
            + [html.Th(pick(label, lang), scope="col") for _, label, _ in COLUMNS]
        )
    )
    return html.Div(
        html.Table(
            [
                html.Caption(table_caption(as_of, lang), id=TABLE_DAY_ID),
                head,
                html.Tbody(table_body(as_of, lang), id=TABLE_BODY_ID),
            ],
            className="ranking",
            id=TABLE_ID,
        ),
        className="table-scroll",
        tabIndex="0",
        role="region",
        **attrs(aria_label=pick(("Các tỉnh trong ngày đã chọn", "Provinces on the chosen day"), lang)),
    )  # fmt: skip


def notes(lang: Lang) -> html.Aside:
    api = "/api/v1/supply"
    links = [f"{api}?area=01,79&from=2021-08-01&to=2021-08-31", f"{api}?format=csv"]
    api_links = [part for link in links for part in (" ", html.A(html.Code(link), href=link))]
    items = [
        html.Li(pick(DEFINITIONS[column], lang), id=f"note-{column}") for column, _, _ in COLUMNS
    ]
    return html.Aside(
        [
            html.H2(text("notes.title", lang)),
            html.Ul(
                [
                    *items,
                    html.Li(pick(COUNTS, lang), id="note-counts"),
                    html.Li([pick(OPEN_DATA, lang), *api_links], id="note-api"),
                ]
            ),
        ],
        className="notes",
        id=NOTES_ID,
        **attrs(aria_label=text("notes.title", lang)),
    )


def supply_view(query: dict[str, str], lang: Lang) -> html.Div:
    """The page's figures (reads :func:`portal.data.supply_table`)."""
    span = data.supply_span()
    if span is None:
        return html.Div(html.P(text("stamp.none", lang)))
    first, last = span
    as_of = _day_of(query.get("date"), first, last)
    codes = provinces_of(query.get("province"))
    return html.Div(
        [
            stamp(data.latest_day(), updated_at(), lang),
            html.H2(pick(("Theo thời gian", "Over time"), lang)),
            html.P(pick(CHART_HINT, lang)),
            charts(codes, lang),
            html.H2(pick(("Các tỉnh trong một ngày", "All provinces on one day"), lang)),
            html.Fieldset(
                [
                    html.Legend(text("control.date", lang)),
                    dcc.DatePickerSingle(
                        id=DATE_ID,
                        placeholder=text("control.date", lang),
                        date=as_of.isoformat(),
                        min_date_allowed=first.isoformat(),
                        max_date_allowed=last.isoformat(),
                        display_format="DD/MM/YYYY" if lang == "vi" else "D MMM YYYY",
                        first_day_of_week=1,
                        month_format="MM/YYYY" if lang == "vi" else "MMMM YYYY",
                    ),
                ],
                className="control",
            ),
            table(as_of, lang),
            dcc.Store(id=LANG_ID, data={"lang": lang, "first": first.isoformat(),
                                        "last": last.isoformat()}),
        ]
    )  # fmt: skip


def layout(**query: str) -> html.Div:
    lang = lang_from(query)
    try:
        figures_part: Any = supply_view(query, lang)
    except DataUnavailableError:
        figures_part = unavailable(lang)
    return html.Div(
        [
            html.H1(text("supply.title", lang)),
            *sample_notice(lang),
            html.P(pick(INTRO, lang)),
            figures_part,
            notes(lang),
        ]
    )


@callback(
    Output(TABLE_BODY_ID, "children"),
    Output(TABLE_DAY_ID, "children"),
    Input(DATE_ID, "date"),
    State(LANG_ID, "data"),
    prevent_initial_call=True,
)
def update_table(when: str, page: dict[str, str]) -> tuple[list[html.Tr], str]:
    lang = lang_of(page.get("lang", "vi"))
    first, last = date.fromisoformat(page["first"]), date.fromisoformat(page["last"])
    as_of = _day_of(when, first, last)
    return table_body(as_of, lang), table_caption(as_of, lang)
