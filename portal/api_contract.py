"""What the open-data API (``/api/v1/``) promises its users: the query parameters of each
endpoint, the columns of its rows, the limits, the licence and the headers that carry the
sample fraction. `portal.api` checks requests and builds responses against these constants
and `portal.openapi` describes them, so the two cannot drift apart; both import this module
and neither imports the other's internals the other way round."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Final

from portal.backlog import MIN_CELL
from portal.metrics import LEVELS, areas

LICENCE: Final = "CC BY 4.0"
LICENCE_URL: Final = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION: Final = "VaxViet open vaccination data (aggregates of the national dose records)"
CACHE_CONTROL: Final = "public, max-age=300"
MAX_AREAS: Final = 100
FORMATS: Final = ("json", "csv")
#: response headers saying what share of the country the data stands for (JSON and CSV)
SAMPLE_HEADER: Final = "X-Sample-Fraction"
SIMULATED_HEADER: Final = "X-Simulated"

#: endpoint -> the query parameters it accepts
PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    "coverage": ("level", "area", "date", "denominator", "format"),
    "timeseries": ("level", "area", "from", "to", "denominator", "format"),
    "vaccines": ("level", "area", "date", "format"),
    "areas": ("level", "format"),
    "corrections": ("level", "area", "by", "format"),
    "supply": ("level", "area", "from", "to", "format"),
}
#: endpoint -> the levels it answers, where not every level (portal.metrics.LEVELS)
ENDPOINT_LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "corrections": ("national", "province"),
    "supply": ("province",),  # stock is published per province, never per site
}
#: corrections: the whole span per area, or the country per month
CORRECTION_BY: Final = ("total", "month")
#: the methods every endpoint answers (the `Allow` header of a 405)
ALLOW: Final = "GET, HEAD, OPTIONS"

#: the days a `date`, `from` or `to` may name
EARLIEST: Final = date(2020, 1, 1)
LATEST: Final = date(2100, 12, 31)
#: a day from EARLIEST to LATEST written YYYY-MM-DD, and nothing else (a real day: 30-day
#: months, February 29 of leap years only; 2100 is not one). The document's pattern; the
#: API checks dates against it (Python's own ISO parser takes more, e.g. 20210804).
DATE_PATTERN: Final = (
    r"^(?:(?:20[2-9][0-9]|2100)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    r"|20(?:[2468][048]|[3579][26])-02-29)$"
)


def levels_of(endpoint: str) -> tuple[str, ...]:
    """The levels `endpoint` answers; the first is its default."""
    return ENDPOINT_LEVELS.get(endpoint, LEVELS)


def area_codes(level: str) -> tuple[str, ...]:
    """The codes of the areas of `level` (`VN`; the region slugs; 2-digit GSO codes)."""
    return tuple(str(code) for code in areas(level)["area_code"])  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def area_pattern(endpoint: str) -> str:
    """What `area` may be on `endpoint`, as the document's pattern: up to MAX_AREAS items,
    comma-separated, each a code of one of the endpoint's levels or empty, spaces around
    items ignored. (Which of these codes the chosen `level` has is not the parameter's own
    business: a code of another level is well formed, and answered 404.)"""
    codes = sorted({code for level in levels_of(endpoint) for code in area_codes(level)})
    item = " *(?:(?:" + "|".join(re.escape(code) for code in codes) + ") *)?"
    return f"^{item}(?:,{item}){{0,{MAX_AREAS - 1}}}$"


COVERAGE_FIELDS: Final = (
    "date", "level", "area_code", "name_vi", "name_en", "denominator", "population",
    "dose1", "full", "boosters", "doses", "pct_dose1", "pct_full", "pct_booster", "per100",
    "capped",
)  # fmt: skip
TIMESERIES_FIELDS: Final = (
    "date", "level", "area_code", "doses", "dose1", "dose2", "boosters", "full",
    "cum_doses", "cum_dose1", "cum_full", "cum_boosters", "doses_avg7", "pct_dose1",
    "pct_full", "pct_booster",
)  # fmt: skip
VACCINE_FIELDS: Final = (
    "date",
    "level",
    "area_code",
    "vaccine_code",
    "vaccine_name",
    "doses",
    "share",
)
AREA_FIELDS: Final = (
    "level", "area_code", "name_vi", "name_en", "population_total", "population_adult",
)  # fmt: skip
CORRECTION_FIELDS: Final = (
    "level", "area_code", "name_vi", "name_en", "period", "received", "approved", "rejected",
    "open", "median_days", "suppressed", "complementary",
)  # fmt: skip
SUPPLY_FIELDS: Final = (
    "date", "level", "area_code", "name_vi", "name_en", "delivered", "on_hand",
    "days_of_supply", "pending", "doses", "doses_avg7",
)  # fmt: skip
#: endpoint -> the columns of its rows (JSON keys, CSV header), in order
FIELDS: Final = {
    "coverage": COVERAGE_FIELDS,
    "timeseries": TIMESERIES_FIELDS,
    "vaccines": VACCINE_FIELDS,
    "areas": AREA_FIELDS,
    "corrections": CORRECTION_FIELDS,
    "supply": SUPPLY_FIELDS,
}

#: what /api/v1/corrections withholds and why (its JSON `meta.suppression`; docs/api.md)
SUPPRESSION: Final = {
    "min_count": MIN_CELL,
    "median_min_resolved": MIN_CELL,
    "rule": f"A count below {MIN_CELL} (0 to {MIN_CELL - 1} requests) is null and named in "
    f"`suppressed`; a median needs {MIN_CELL} requests resolved in its row, else it is null "
    "and `suppressed` names median_days. More counts are null and named in `complementary` "
    "wherever the published sums (the country = the sum of its provinces; the whole span = "
    "the sum of its months; received = approved + rejected + open; open at a month's end = "
    "open before + received - approved - rejected) would let a withheld count be worked out "
    "exactly. Per-province months are not published.",
    "why": "Correction requests are about people's own vaccination records: a handful of "
    "requests in a province or a month could point at the people who filed them.",
}
