"""One province (``/province/<gso_code>``): its figures as of the latest day, its coverage
over time beside its region and the country, doses per day, the dose-number split, the
vaccine mix, its vaccination sites and the province it belongs to since 2025-07-01."""

from __future__ import annotations

from typing import Any, Final

import dash
from dash import dcc, html

from geo.provinces import load_provinces
from portal import data, figures
from portal.i18n import text
from portal.layout import data_notes, href, lang_from, sample_notice, stamp, unavailable
from portal.metrics import SNAPSHOT_DAY, area_of, region_code
from web.cache import DataUnavailableError
from web.data import updated_at
from web.formatting import Lang, day, number, percent

dash.register_page(
    __name__,
    path_template="/province/<gso_code>",
    title="VaxViet — tỉnh / province",
    name="Province",
)

FACTS_ID: Final = "province-facts"
TREND_ID: Final = "province-trend"
TREND_FULL_ID: Final = "province-trend-full"
DAILY_ID: Final = "province-daily"
SPLIT_ID: Final = "province-split"
MIX_ID: Final = "province-mix"
GRAPH_CONFIG: Final[Any] = {"displayModeBar": False}


def _graph(component_id: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=component_id, figure=figure, config=GRAPH_CONFIG)


def province_view(code: str, lang: Lang) -> html.Div:
    """The page for a known province `code` (reads :mod:`portal.data`)."""
    from geo.products import campaign_products as vaccines

    province = load_provinces().set_index("gso_code").loc[code]
    name = province["name_en" if lang == "en" else "name_vi"]
    region = region_code(province["region6_en"])
    region_name = province["region6_en" if lang == "en" else "region6_vi"]
    days = data.span()
    as_of = days[1] if days else SNAPSHOT_DAY
    row = data.coverage(as_of, "province", "total").set_index("area_code").loc[code]
    adult = data.coverage(as_of, "province", "adult").set_index("area_code").loc[code]
    sites = data.site_counts(as_of, (code,))
    site_count = int(sites["sites"].sum())
    mix = data.vaccine_mix(as_of, (code,))

    own = data.timeseries("province", (code,))
    lines_dose1 = {
        name: own,
        region_name: data.timeseries("region", (region,)),
        text("province.national", lang): data.timeseries("national", ("VN",)),
    }
    split = mix.groupby("dose_number")["doses"].sum().sort_index()
    products = dict(zip(vaccines()["code"], vaccines()["name"], strict=True))
    by_product = mix.groupby("vaccine_code")["doses"].sum().sort_values(ascending=False)
    total = float(by_product.sum()) or 1.0

    def fact(label: str, value: str, key: str) -> list[Any]:
        return [html.Dt(label), html.Dd(value, id=f"province-{key}")]

    successor = province["new_2025_name_vi"]
    facts = html.Dl(
        [
            *fact(text("headline.doses", lang), number(row["doses"], lang), "doses"),
            *fact(
                text("headline.dose1", lang),
                f"{number(row['dose1'], lang)} · {percent(row['pct_dose1'], lang)} "
                f"{text('headline.of_total', lang)} · {percent(adult['pct_dose1'], lang)} "
                f"{text('headline.of_adult', lang)}",
                "dose1",
            ),
            *fact(
                text("headline.full", lang),
                f"{number(row['full'], lang)} · {percent(row['pct_full'], lang)} "
                f"{text('headline.of_total', lang)} · {percent(adult['pct_full'], lang)} "
                f"{text('headline.of_adult', lang)}",
                "full",
            ),
            *fact(
                text("headline.boosters", lang),
                f"{number(row['boosters'], lang)} · {percent(row['pct_booster'], lang)}",
                "boosters",
            ),
            *fact(text("province.sites", lang), number(site_count, lang), "sites"),
            *fact(text("province.region", lang), region_name, "region"),
            *fact(
                text("province.successor", lang),
                f"{successor} ({province['new_2025_gso_code']})",
                "successor",
            ),
            *fact(
                text("col.population", lang),
                number(row["population"], lang),  # the census × the sample fraction
                "population",
            ),
        ]
        + (fact("⚠", text("col.capped", lang), "capped") if row["capped"] else []),
        className="facts",
        id=FACTS_ID,
    )
    return html.Div(
        [
            html.P(dcc.Link(text("province.back", lang), href=href("/", lang))),
            html.H1(f"{name}"),
            *sample_notice(lang),
            stamp(days[1] if days else None, updated_at(), lang),
            facts,
            html.H2(text("province.compare", lang)),
            html.Div(
                [
                    html.Section(
                        [
                            html.H3(text("metric.pct_dose1", lang)),
                            _graph(
                                TREND_ID, figures.coverage_trend(lines_dose1, "pct_dose1", lang)
                            ),
                        ]
                    ),
                    html.Section(
                        [
                            html.H3(text("metric.pct_full", lang)),
                            _graph(
                                TREND_FULL_ID,
                                figures.coverage_trend(lines_dose1, "pct_full", lang),
                            ),
                        ]
                    ),
                ],
                className="grid2",
            ),
            html.H2(text("daily.title", lang)),
            _graph(DAILY_ID, figures.daily_doses(own, lang)),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(text("province.split", lang)),
                            _graph(
                                SPLIT_ID,
                                figures.bars(
                                    [text("dose.n", lang, n=int(n)) for n in split.index],
                                    [float(v) for v in split.to_numpy()],
                                    lang,
                                ),
                            ),
                        ]
                    ),
                    html.Section(
                        [
                            html.H2(text("province.mix", lang)),
                            _graph(
                                MIX_ID,
                                figures.bars(
                                    [products.get(c, c) for c in by_product.index],
                                    [float(v) / total for v in by_product.to_numpy()],
                                    lang,
                                    share=True,
                                ),
                            ),
                        ]
                    ),
                ],
                className="grid2",
            ),
            html.P(f"{text('control.date', lang)}: {day(as_of, lang, 'long')}", className="stamp"),
            data_notes(lang, ["denominator", "dose1", "full", "boosters", "cap", "2025"]),
        ]
    )


def layout(gso_code: str = "", **query: str) -> html.Div:
    lang = lang_from(query)
    if gso_code not in area_of("province"):
        return html.Div(
            [
                html.H1(text("province.title", lang)),
                html.P(text("province.unknown", lang), id="province-unknown"),
                html.P(dcc.Link(text("province.back", lang), href=href("/", lang))),
            ]
        )
    try:
        return province_view(gso_code, lang)
    except DataUnavailableError:
        return html.Div([html.H1(text("province.title", lang)), unavailable(lang)])
