"""The two languages of the web apps, Vietnamese (default) and English, and how numbers and
dates are written in each.

Numbers and dates are formatted with Babel for the language's locale (``1.234.567`` and
``4 thg 8, 2021`` in Vietnamese, ``1,234,567`` and ``4 Aug 2021`` in English). The public
portal's texts are in :mod:`portal.i18n`, the internal dashboards' in :mod:`dashboards.i18n`.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Final, Literal

from babel.dates import format_date, format_datetime
from babel.numbers import get_decimal_symbol, get_group_symbol

Lang = Literal["vi", "en"]
LANGS: Final[tuple[Lang, ...]] = ("vi", "en")
DEFAULT_LANG: Final[Lang] = "vi"
LOCALES: Final[dict[Lang, str]] = {"vi": "vi_VN", "en": "en_GB"}


def lang_of(value: object) -> Lang:
    """The language a query value asks for; anything unknown is Vietnamese."""
    return "en" if str(value).lower().startswith("en") else "vi"


@lru_cache(maxsize=len(LANGS))
def _marks(lang: Lang) -> dict[int, str]:
    """The locale's grouping and decimal marks (from Babel's CLDR data) as a translation
    of Python's ``,`` and ``.``."""
    locale = LOCALES[lang]
    return str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})


def number(value: float, lang: Lang, decimals: int = 0) -> str:
    """`value` with the locale's grouping and decimal marks (``1.234.567`` / ``1,234,567``),
    as Babel's ``format_decimal`` writes it (a unit test checks), at a fraction of its cost:
    pages format thousands of numbers."""
    return f"{value:,.{decimals}f}".translate(_marks(lang))


def percent(value: float, lang: Lang, decimals: int | None = None) -> str:
    """`value` (already in percent, 0–100) as ``56,3%`` / ``56.3%``; by default one decimal,
    two below 1 % (so small shares do not all read 0,0 %)."""
    if decimals is None:
        decimals = 2 if 0 < abs(value) < 1 else 1
    return f"{number(value, lang, decimals)}%"


def _decimals(value: float, most: int) -> int:
    """The fewest decimals (up to `most`) that write `value` as it is."""
    for decimals in range(most + 1):
        if abs(round(value, decimals) - value) < 10.0 ** -(most + 2):
            return decimals
    return most


def share(fraction: float, lang: Lang) -> str:
    """A fraction of the whole (0–1) as a percentage with the decimals it needs: ``1%``,
    ``0,03%`` / ``0.03%``, ``12,5%``."""
    value = fraction * 100
    return percent(value, lang, _decimals(value, 4))


def plain(value: float, lang: Lang) -> str:
    """A number with the decimals it needs (up to 6): ``0,01`` / ``0.01``, ``1``."""
    return number(value, lang, _decimals(value, 6))


def day(value: date, lang: Lang, style: str = "medium") -> str:
    """A date in the locale's `style` (``short``, ``medium``, ``long``)."""
    return format_date(value, format=style, locale=LOCALES[lang])


def moment(value: datetime, lang: Lang) -> str:
    """A local date and time, medium style."""
    return format_datetime(value, format="medium", locale=LOCALES[lang])


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """One of a page's own ``(Vietnamese, English)`` texts."""
    return pair[1] if lang == "en" else pair[0]
