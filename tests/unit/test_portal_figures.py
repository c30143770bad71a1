"""Figure builders and locale formatting on small inline data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from geo.provinces import provinces_geojson
from portal import figures, i18n, metrics
from web import formatting


def table(dose1_01: int = 1_000_000) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"day": pd.to_datetime(["2021-08-04"] * 2).astype("datetime64[s]"),
         "province_code": ["01", "95"], "dose1": [dose1_01, 2_000_000], "dose2": [0, 0],
         "boosters": [0, 0], "full": [0, 0], "doses": [dose1_01, 2_000_000]}
    )  # fmt: skip
    return metrics.coverage(metrics.totals_as_of(frame, date(2021, 8, 4)), "province")


def test_numbers_and_dates_follow_the_locale() -> None:
    assert formatting.number(1234567, "vi") == "1.234.567"
    assert formatting.number(1234567, "en") == "1,234,567"
    assert formatting.percent(56.34, "vi") == "56,3%"
    assert formatting.percent(56.34, "en") == "56.3%"
    assert "2021" in formatting.day(date(2021, 8, 4), "vi") and "Aug" in formatting.day(
        date(2021, 8, 4), "en"
    )
    assert formatting.lang_of("en") == "en" and formatting.lang_of("xx") == "vi"
    assert all(len(pair) == 2 and all(pair) for pair in i18n.TEXTS.values())


def test_sample_fractions_are_written_with_the_decimals_they_need() -> None:
    assert formatting.share(0.01, "vi") == "1%" and formatting.share(0.01, "en") == "1%"
    assert formatting.share(0.0003, "vi") == "0,03%" and formatting.share(0.0003, "en") == "0.03%"
    assert formatting.share(0.125, "en") == "12.5%" and formatting.share(1.0, "en") == "100%"
    assert formatting.plain(0.0003, "vi") == "0,0003" and formatting.plain(0.01, "en") == "0.01"


def test_map_colours_carry_values_names_and_the_cap_note() -> None:
    colours = figures.map_colours(table(), "pct_dose1", "vi")
    assert len(colours["locations"]) == 63 == len(colours["z"]) == len(colours["customdata"])
    by_code = dict(zip(colours["locations"], colours["customdata"], strict=True))
    hanoi = dict(zip(colours["locations"], colours["z"], strict=True))["01"]
    assert hanoi == round(1_000_000 * 100 / 8_053_663, 4)
    assert by_code["01"][0] == "Hà Nội" and by_code["01"][1] == formatting.percent(hanoi, "vi")
    assert by_code["95"][0] == "Bạc Liêu" and "⚠" in by_code["95"][2]  # 2 M > its population
    assert "⚠" not in by_code["01"][2]
    assert colours["zmax"] == 100.0
    english = figures.map_colours(table(), "per100", "en")
    assert english["customdata"][0][0] == "Hanoi" and english["zmax"] >= max(english["z"])


def test_choropleth_is_offline_and_joins_on_the_gso_code() -> None:
    colours = figures.map_colours(table(), "pct_full", "en")
    figure = go.Figure(figures.choropleth(provinces_geojson(), "properties.gso_code", colours))
    trace = figure.data[0]  # plotly validates the dict: every property name is real
    assert trace.type == "choroplethmap" and len(trace.geojson["features"]) == 63
    assert figure.layout.map.style == "white-bg"
    assert trace.colorscale[0][1] == "#00224e"  # Cividis: colour-blind safe
    assert set(trace.locations) == {f["properties"]["gso_code"] for f in trace.geojson["features"]}


def test_daily_figure_has_bars_and_the_average() -> None:
    frame = pd.DataFrame(
        {"day": pd.to_datetime(["2021-08-01", "2021-08-02"]).astype("datetime64[s]"),
         "province_code": ["01", "01"], "dose1": [5, 7], "dose2": [0, 0], "boosters": [0, 0],
         "full": [0, 0], "doses": [5, 7]}
    )  # fmt: skip
    series = metrics.timeseries(frame, "national")
    figure = figures.daily_doses(series, "vi")
    assert [t.type for t in figure.data] == ["bar", "scatter"]
    assert list(figure.data[0].y) == [5, 7] and list(figure.data[1].y) == [5, 6]
    assert figures.daily_doses(series.iloc[0:0], "vi").layout.annotations


def test_bars_print_locale_values() -> None:
    figure = figures.bars(["Mũi 1", "Mũi 2"], [1500, 20], "vi")
    assert list(figure.data[0].text) == ["1.500", "20"]
    assert list(figures.bars(["A"], [0.25], "en", share=True).data[0].text) == ["25.0%"]


def test_fast_number_formatting_agrees_with_babel() -> None:
    from babel.numbers import format_decimal

    for lang, locale in formatting.LOCALES.items():
        for value in (0, 7, 999, 1000, 1234567.891, 96_208_984, 0.456, 12.5, 99.95):
            for decimals in (0, 1, 2):
                pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
                expected = format_decimal(value, format=pattern, locale=locale)
                assert formatting.number(value, lang, decimals) == expected, (lang, value, decimals)
