"""The portal's shared frame and helpers for pages.

The frame (built once in :mod:`portal.app`): a skip link, the header with the navigation
and the language link, the stale-data banner, ``<main>`` holding the page, the footer
with the licence. A page only reads its language from the query (:func:`lang_from`),
builds its links with :func:`href` and its texts with :func:`portal.i18n.text` (or its own
``(vi, en)`` pairs with :func:`web.formatting.pick`). Page modules keep their component IDs as
constants and prefix them with the page name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import parse_qs, urlencode

from dash import html

from portal import data, metrics
from portal.i18n import text
from warehouse.sample import Sample
from web.cache import DataUnavailableError
from web.formatting import Lang, day, lang_of, moment, number, plain, share
from web.layout import attrs

URL_ID = "url"
LANG_LINK_ID = "lang-link"
BANNER_ID = "stale-banner"
NAV_ID = "site-nav"
TAGLINE_ID = "site-tagline"
ROOT_ID = "portal-root"
SAMPLE_NOTICE_ID = "sample-notice"

#: (path, text key) of the navigation, in order
NAV_LINKS: tuple[tuple[str, str], ...] = (
    ("/", "nav.home"),
    ("/certificate", "nav.certificate"),
    ("/verify", "nav.verify"),
    ("/corrections", "nav.corrections"),
    ("/supply", "nav.supply"),
    ("/api", "nav.api"),
    ("/status", "nav.status"),
)


def lang_from(query: Mapping[str, object]) -> Lang:
    """The page language from its query parameters (``?lang=en``; Vietnamese otherwise)."""
    return lang_of(query.get("lang", "vi"))


def lang_of_search(search: str | None) -> Lang:
    """The language from a URL's query string (``?lang=en&…``)."""
    values = parse_qs((search or "").lstrip("?")).get("lang", ["vi"])
    return lang_of(values[0])


def href(path: str, lang: Lang, **query: str) -> str:
    """A link to `path` in `lang` (Vietnamese links carry no parameter)."""
    parameters = {**({"lang": "en"} if lang == "en" else {}), **query}
    return f"{path}?{urlencode(parameters)}" if parameters else path


def nav(lang: Lang, current: str = "") -> list[html.A]:
    return [
        html.A(
            text(key, lang),
            href=href(path, lang),
            className="nav-link",
            **attrs(aria_current="page" if path == current else None),
        )
        for path, key in NAV_LINKS
    ]


def stamp(last_day: object, updated: datetime | None, lang: Lang) -> html.P:
    """The "data as of" line: the last day with doses and when the ETL last committed."""
    if last_day is None:
        return html.P(text("stamp.none", lang), className="stamp")
    parts = [f"{text('stamp.as_of', lang)} {day(last_day, lang, 'long')}"]  # type: ignore[arg-type]
    if updated is not None:
        parts.append(f"({text('stamp.updated', lang)} {moment(updated, lang)})")
    return html.P(" ".join(parts), className="stamp")


def notes(
    lang: Lang, keys: Sequence[str], values: Mapping[str, object] | None = None
) -> html.Aside:
    """The data notes (denominators, definitions, the cap) as a list beside the figures;
    `values` fill the texts' ``{fields}``."""
    return html.Aside(
        [
            html.H2(text("notes.title", lang)),
            html.Ul(
                [
                    html.Li(text(f"notes.{key}", lang, **(values or {})), id=f"note-{key}")
                    for key in keys
                ]
            ),
        ],
        className="notes",
        **attrs(aria_label=text("notes.title", lang)),
    )


def _sample() -> Sample | None:
    """The data's sample fraction, or None when the warehouse cannot say (nothing cached)."""
    try:
        return data.sample()
    except DataUnavailableError:
        return None


def data_notes(lang: Lang, keys: Sequence[str]) -> html.Aside:
    """:func:`notes` with the figures they quote taken from the data: the census population
    (``geo/data/provinces.csv``) and, when the data is a sample, a note on the fraction and
    the population it stands for (after the ``denominator`` note)."""
    census = metrics.areas("national").iloc[0]
    values: dict[str, object] = {
        "population": number(census["population_total"], lang),
        "adult": number(census["population_adult"], lang),
    }
    sample = _sample()
    if sample is not None and sample.fraction < 1:
        scaled = metrics.areas("national", sample.fraction).iloc[0]
        values |= {
            "share": share(sample.fraction, lang),
            "fraction": plain(sample.fraction, lang),
            "sample_population": number(scaled["population_total"], lang),
        }
        at = keys.index("denominator") + 1 if "denominator" in keys else 0
        keys = [*keys[:at], "sample", *keys[at:]]
    return notes(lang, keys, values)


def sample_notice(lang: Lang) -> list[html.P]:
    """The plain statement that the figures are simulated or a sample of the country, and
    what fraction (no element for real data of the whole country)."""
    sample = _sample()
    if sample is None or (not sample.simulated and sample.fraction == 1):
        return []
    if sample.simulated:
        key = "sample.simulated" if sample.fraction < 1 else "sample.simulated_whole"
    else:
        key = "sample.partial"
    return [
        html.P(
            text(key, lang, share=share(sample.fraction, lang)),
            id=SAMPLE_NOTICE_ID,
            className="banner sample-notice",
            role="note",
            **attrs(
                data_fraction=repr(sample.fraction), data_simulated=str(sample.simulated).lower()
            ),
        )
    ]


def unavailable(lang: Lang) -> html.Div:
    """What a page shows instead of its figures when there is nothing to show."""
    return html.Div(text("banner.unavailable", lang), className="banner", role="alert")
