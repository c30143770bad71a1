"""The open-data API for people (``/api``): endpoints, parameters, examples, limits, the
definitions and the licence, rendered from the same OpenAPI document machines read."""

from __future__ import annotations

from typing import Final

import dash
from dash import dcc, html

from portal.i18n import text
from portal.layout import data_notes, lang_from, sample_notice
from portal.openapi import document
from web.formatting import Lang, pick

dash.register_page(__name__, path="/api", title="VaxViet — dữ liệu mở / open data", name="API")

ENDPOINTS_ID: Final = "api-endpoints"

EXAMPLES: Final[dict[str, tuple[str, ...]]] = {
    "coverage": (
        "/api/v1/coverage?level=province&date=2021-08-04",
        "/api/v1/coverage?level=province&area=01,79&denominator=adult&format=csv",
    ),
    "timeseries": ("/api/v1/timeseries?level=region&from=2021-07-01&to=2021-12-31",),
    "vaccines": ("/api/v1/vaccines?level=national",),
    "areas": ("/api/v1/areas?level=province2025",),
    "corrections": (
        "/api/v1/corrections?level=province",
        "/api/v1/corrections?by=month&format=csv",
    ),
}
INTRO: Final = (
    "Mọi số liệu trên cổng này đều có thể tải về qua API mở: JSON hoặc CSV (cùng các dòng và "
    "cột), địa chỉ ổn định, không cần khoá. Tài liệu máy đọc được:",
    "Every figure on this portal can be downloaded through the open API: JSON or CSV (the "
    "same rows and columns), stable addresses, no key needed. Machine-readable description:",
)
LIMITS: Final = (
    "Giới hạn: tối đa 100 mã khu vực mỗi lần gọi; không giới hạn tần suất. Phản hồi được lưu "
    "đệm 5 phút và có ETag: hãy gửi lại với If-None-Match. Tham số sai trả về 400 (hoặc 404 "
    "cho một mã khu vực không tồn tại) với JSON nêu rõ tham số và lý do.",
    "Limits: at most 100 area codes per call; no rate limit. Responses are cached for 5 "
    "minutes and carry an ETag: revalidate with If-None-Match. A bad parameter gives a 400 "
    "(or a 404 for one unknown area code) with a JSON body naming the parameter and why.",
)
SAMPLE: Final = (
    "Dân số (`population`, `population_total`, `population_adult`) và mọi tỷ lệ dùng dân số "
    "Tổng điều tra nhân với tỷ lệ mẫu của dữ liệu — phần của cả nước mà dữ liệu đại diện: 1 "
    "với hồ sơ thật, nhỏ hơn với dữ liệu mô phỏng (ví dụ 0,01 = 1% số mũi của chiến dịch). "
    "JSON ghi trong `meta` (`sample_fraction`, `simulated`, `sample`); mọi phản hồi, kể cả "
    "CSV, ghi trong các header `X-Sample-Fraction` và `X-Simulated`.",
    "Populations (`population`, `population_total`, `population_adult`) and every percentage "
    "use the census population × the data's sample fraction — the share of the country the "
    "data stands for: 1 for real records, less for simulated data (e.g. 0.01 = 1 % of the "
    "campaign's doses). JSON says it in `meta` (`sample_fraction`, `simulated`, `sample`); "
    "every response, CSV included, in the headers `X-Sample-Fraction` and `X-Simulated`.",
)
LICENCE: Final = (
    "Giấy phép: CC BY 4.0 — được tự do sao chép, phân phối và dùng lại, kể cả cho mục đích "
    "thương mại, với điều kiện ghi nguồn “VaxViet”.",
    "Licence: CC BY 4.0 — free to copy, redistribute and reuse, commercially too, with "
    "attribution to “VaxViet”.",
)


def endpoint_view(path: str, operation: dict[str, object], lang: Lang) -> html.Section:
    parameters = operation["parameters"]
    assert isinstance(parameters, list)
    name = path.strip("/")
    return html.Section(
        [
            html.H2(html.Code(f"GET /api/v1{path}")),
            html.P(str(operation["description"])),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(pick(("Tham số", "Parameter"), lang)),
                                        html.Th(pick(("Ý nghĩa", "Meaning"), lang))])),
                    html.Tbody([
                        html.Tr([html.Td(html.Code(p["name"])), html.Td(p["description"])])
                        for p in parameters
                    ]),
                ]
            ),
            html.P(pick(("Ví dụ:", "Examples:"), lang)),
            html.Ul([html.Li(html.A(html.Code(e), href=e)) for e in EXAMPLES.get(name, ())]),
        ],
        id=f"api-{name}",
    )  # fmt: skip


def layout(**query: str) -> html.Div:
    lang = lang_from(query)
    spec = document()
    return html.Div(
        [
            html.H1(text("api.title", lang)),
            *sample_notice(lang),
            html.P([pick(INTRO, lang), " ", html.A(html.Code("/api/v1/openapi.json"),
                                                    href="/api/v1/openapi.json")]),
            html.P(pick(LIMITS, lang)),
            dcc.Markdown(pick(SAMPLE, lang), id="api-sample"),
            html.P(pick(LICENCE, lang), id="api-licence"),
            html.Div(
                [endpoint_view(path, item["get"], lang) for path, item in spec["paths"].items()],
                id=ENDPOINTS_ID,
            ),
            html.Div(data_notes(lang, ["denominator", "dose1", "full", "boosters", "cap", "2025"]),
                     id="definitions"),
            dcc.Markdown(
                pick(("Mã khu vực: `VN` (cả nước); vùng: chữ thường nối bằng `-` (ví dụ "
                      "`red-river-delta`); tỉnh: mã GSO 2 chữ số (`01` Hà Nội, `79` TP. Hồ Chí Minh).",
                      "Area codes: `VN` (the country); regions: lower-case words joined by `-` "
                      "(e.g. `red-river-delta`); provinces: 2-digit GSO codes (`01` Hà Nội, `79` "
                      "Ho Chi Minh City)."), lang)
            ),
        ]
    )  # fmt: skip
