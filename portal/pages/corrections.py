"""The backlog of citizens' requests to correct their vaccination record (``/corrections``):
the country's figures, a table of the 63 provinces, and the country month by month (a chart
of received against resolved requests and the backlog, with its table as the chart's text
alternative). Aggregates only, small counts withheld (:mod:`portal.backlog`); the same
figures are open data at ``/api/v1/corrections``. No callbacks: the page is built from the
cached backlog whenever Dash or the server renders it."""

from __future__ import annotations

import calendar
from typing import Any, Final

import dash
import pandas as pd
from dash import dcc, html

from portal import backlog, data, figures
from portal.i18n import text
from portal.layout import href, lang_from, sample_notice, unavailable
from web.cache import DataUnavailableError
from web.data import updated_at
from web.formatting import Lang, moment, number, pick
from web.layout import attrs

dash.register_page(
    __name__,
    path="/corrections",
    title="VaxViet — yêu cầu chỉnh sửa / corrections",
    name="Corrections",
)

HEADLINE_ID: Final = "corrections-headline"
TABLE_ID: Final = "corrections-table"
TREND_ID: Final = "corrections-trend"
MONTHS_ID: Final = "corrections-months"
NOTES_ID: Final = "corrections-notes"
GRAPH_CONFIG: Final[Any] = {"displayModeBar": False}
#: the columns of both tables: (column, text key, decimals)
COLUMNS: Final = (
    ("received", "corrections.received", 0),
    ("approved", "corrections.approved", 0),
    ("rejected", "corrections.rejected", 0),
    ("open", "corrections.open", 0),
    ("median_days", "corrections.median", 1),
)
#: what a withheld cell shows: a small count, and a value withheld for another reason
SMALL: Final = f"< {backlog.MIN_CELL}"
OTHER: Final = "—"

INTRO: Final = (
    "Công dân có thể yêu cầu sửa hồ sơ tiêm chủng của mình: một mũi tiêm bị thiếu, một mũi "
    "tiêm không phải của mình, hoặc họ tên, ngày sinh, giới tính sai. Cán bộ y tế của tỉnh "
    "xử lý từng yêu cầu: chấp thuận (hồ sơ được sửa) hoặc từ chối (kèm lý do). Trang này cho "
    "thấy số yêu cầu và tồn đọng — chỉ số liệu tổng hợp, không có dữ liệu cá nhân.",
    "Citizens can ask for their vaccination record to be corrected: a missing dose, a dose "
    "that is not theirs, or a wrong name, date of birth or sex. The province's health "
    "officials resolve each request: approved (the record is corrected) or rejected (with a "
    "reason). This page shows the requests and the backlog — aggregates only, no personal "
    "data.",
)
SUPPRESSION: Final = (
    f"Số nhỏ được ẩn: một ô có ít hơn {backlog.MIN_CELL} yêu cầu hiển thị “{SMALL}” (trong "
    "API là null), vì vài yêu cầu ở một tỉnh hay một tháng có thể chỉ ra người đã gửi. Số "
    f"ngày xử lý trung vị cần ít nhất {backlog.MIN_CELL} yêu cầu đã xử lý. Các ô “{OTHER}” "
    "cũng được ẩn, để không ai tính ngược ra một ô nhỏ từ các tổng (cả nước = tổng các "
    "tỉnh; cả giai đoạn = tổng các tháng; đã nhận = chấp thuận + từ chối + đang chờ). Số "
    "liệu theo tháng chỉ công bố cho cả nước.",
    f"Small counts are withheld: a cell with fewer than {backlog.MIN_CELL} requests shows "
    f"“{SMALL}” (null in the API), because a handful of requests in a province or a month "
    "could point at the people who filed them. A median number of days needs at least "
    f"{backlog.MIN_CELL} resolved requests. Cells showing “{OTHER}” are withheld too, so "
    "that no small count can be worked out from the totals (the country = the sum of its "
    "provinces; the whole span = the sum of its months; received = approved + rejected + "
    "open). Months are published for the whole country only.",
)
DEFINITIONS: Final = (
    "Đã nhận: số yêu cầu được gửi; chấp thuận: được giải quyết theo đề nghị của công dân; "
    "từ chối: bị từ chối kèm lý do; đang chờ xử lý: chưa được giải quyết (trong bảng theo "
    "tháng: vào cuối tháng). Số ngày xử lý: từ khi gửi đến khi có kết quả, trung vị của các "
    "yêu cầu đã xử lý (trong tháng đó). Một yêu cầu thuộc tỉnh có cán bộ xử lý nó: tỉnh của "
    "điểm tiêm với một mũi tiêm, tỉnh cư trú với họ tên, ngày sinh, giới tính. Tháng theo "
    "giờ Việt Nam. Số đếm là của dữ liệu, không nhân theo tỷ lệ mẫu.",
    "Received: requests filed; approved: resolved in the citizen's favour; rejected: refused "
    "with a reason; open: not resolved yet (in the monthly table: at the end of the month). "
    "Days to resolve: from filing to the decision, the median of the requests resolved (in "
    "that month). A request belongs to the province whose officials handle it: the site's "
    "province for a dose, the province of residence for a name, date of birth or sex. "
    "Months are local (Viet Nam time). Counts are the data's own, not scaled by a sample "
    "fraction.",
)
OPEN_DATA: Final = ("Cùng số liệu dưới dạng dữ liệu mở:", "The same figures as open data:")


def month_label(period: str, lang: Lang) -> str:
    """``2021-09`` as ``09/2021`` (Vietnamese) or ``Sep 2021`` (English)."""
    year, month = (int(part) for part in period.split("-"))
    return f"{calendar.month_abbr[month]} {year}" if lang == "en" else f"{month:02d}/{year}"


def figure(
    row: dict[str, Any], column: str, decimals: int, lang: Lang
) -> tuple[str, dict[str, Any]]:
    """One figure as shown, and its attributes: ``data-value``, or for a withheld one
    ``data-withheld`` (``small`` or ``complementary``: why) and no value."""
    value = row[column]
    if value is not None:
        exact = round(value, 4) if isinstance(value, float) else value  # as the API rounds
        return number(value, lang, decimals), attrs(data_value=str(exact))
    small = column in str(row["suppressed"]).split()
    shown = SMALL if small and column != "median_days" else OTHER
    return shown, attrs(data_withheld="small" if small else "complementary")


def cell(row: dict[str, Any], column: str, decimals: int, lang: Lang) -> html.Td:
    shown, attributes = figure(row, column, decimals, lang)
    withheld = "data-withheld" in attributes
    return html.Td(shown, className="number withheld" if withheld else "number", **attributes)


def _header(first: str, lang: Lang) -> html.Thead:
    return html.Thead(
        html.Tr(
            [html.Th(first, scope="col")]
            + [html.Th(text(key, lang), scope="col") for _, key, _ in COLUMNS]
        )
    )


def _row(label: Any, row: dict[str, Any], lang: Lang) -> html.Tr:
    cells = [cell(row, column, decimals, lang) for column, _, decimals in COLUMNS]
    return html.Tr(
        [html.Th(label, scope="row"), *cells],
        **attrs(data_area=row["area_code"], data_period=row["period"]),
    )


def headline(row: dict[str, Any], lang: Lang) -> html.Div:
    """The country's figures over the whole span, as cards."""
    cards = []
    for column, key, decimals in COLUMNS:
        shown, attributes = figure(row, column, decimals, lang)
        cards.append(
            html.Div(
                [html.H2(text(key, lang)), html.Span(shown, className="figure", **attributes)],
                className="card",
                id=f"corrections-{column}",
            )
        )
    return html.Div(cards, className="cards", id=HEADLINE_ID)


def province_table(table: pd.DataFrame, lang: Lang) -> html.Div:
    """The provinces over the whole span (each a link to its page), the country last."""
    from geo.provinces import load_provinces

    names = load_provinces().set_index("gso_code")["name_en" if lang == "en" else "name_vi"]
    totals = table[table["period"] == backlog.TOTAL].to_dict("records")
    body = [
        _row(dcc.Link(names[row["area_code"]], href=href(f"/province/{row['area_code']}", lang)),
             row, lang)
        for row in totals
        if row["area_code"] != backlog.NATIONAL
    ]  # fmt: skip
    country = [row for row in totals if row["area_code"] == backlog.NATIONAL]
    return html.Div(
        html.Table(
            [
                _header(text("col.area", lang), lang),
                html.Tbody(body),
                html.Tfoot([_row(text("province.national", lang), row, lang) for row in country]),
            ],
            className="ranking",
            id=TABLE_ID,
        ),
        # a table wider than a phone scrolls: the keyboard must reach it too (WCAG 2.1.1)
        className="table-scroll",
        tabIndex="0",
        role="region",
        **attrs(aria_label=pick(("Yêu cầu theo tỉnh", "Requests by province"), lang)),
    )


def month_table(monthly: pd.DataFrame, lang: Lang) -> html.Div:
    """The country per month (the chart's text alternative)."""
    rows = [_row(month_label(row["period"], lang), row, lang) for row in monthly.to_dict("records")]
    return html.Div(
        html.Table(
            [_header(pick(("Tháng", "Month"), lang), lang), html.Tbody(rows)],
            className="ranking",
            id=MONTHS_ID,
        ),
        className="table-scroll",
        tabIndex="0",
        role="region",
        **attrs(aria_label=pick(("Yêu cầu theo tháng", "Requests by month"), lang)),
    )


def corrections_view(lang: Lang) -> html.Div:
    """The page's figures (reads :func:`portal.data.corrections`)."""
    table = data.corrections()
    country = table[
        (table["area_code"] == backlog.NATIONAL) & (table["period"] == backlog.TOTAL)
    ].to_dict("records")[0]
    monthly = table[table["period"] != backlog.TOTAL]
    updated = updated_at()
    return html.Div(
        [
            html.P(
                f"{pick(('Cập nhật lúc', 'Updated at'), lang)} {moment(updated, lang)}",
                className="stamp",
            )
            if updated
            else None,
            headline(country, lang),
            html.H2(pick(("Theo tỉnh", "By province"), lang)),
            province_table(table, lang),
            html.H2(pick(("Cả nước theo tháng", "The whole country by month"), lang)),
            dcc.Graph(
                id=TREND_ID, figure=figures.correction_trend(monthly, lang), config=GRAPH_CONFIG
            ),
            month_table(monthly, lang),
        ]
    )


def notes(lang: Lang) -> html.Aside:
    api = "/api/v1/corrections"
    links = [f"{api}?level=province", f"{api}?level=province&format=csv", f"{api}?by=month"]
    api_links = [part for link in links for part in (" ", html.A(html.Code(link), href=link))]
    return html.Aside(
        [
            html.H2(text("notes.title", lang)),
            html.Ul(
                [
                    html.Li(pick(SUPPRESSION, lang), id="note-suppression"),
                    html.Li(pick(DEFINITIONS, lang), id="note-definitions"),
                    html.Li([pick(OPEN_DATA, lang), *api_links], id="note-api"),
                ]
            ),
        ],
        className="notes",
        id=NOTES_ID,
        **attrs(aria_label=text("notes.title", lang)),
    )


def layout(**query: str) -> html.Div:
    lang = lang_from(query)
    try:
        figures_part: Any = corrections_view(lang)
    except DataUnavailableError:
        figures_part = unavailable(lang)
    return html.Div(
        [
            html.H1(text("corrections.title", lang)),
            *sample_notice(lang),
            html.P(pick(INTRO, lang)),
            figures_part,
            notes(lang),
        ]
    )
