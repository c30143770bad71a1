"""What the open-data API (``/api/v1/``) promises its users: the query parameters of each
endpoint, the columns of its rows, the limits, the licence and the headers that carry the
sample fraction. `portal.api` checks requests and builds responses against these constants
and `portal.openapi` describes them, so the two cannot drift apart; both import this module
and neither imports the other's internals the other way round."""

from __future__ import annotations

from typing import Final

from portal.backlog import MIN_CELL

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
}
#: endpoint -> the levels it answers, where not every level (portal.metrics.LEVELS)
ENDPOINT_LEVELS: Final[dict[str, tuple[str, ...]]] = {"corrections": ("national", "province")}
#: corrections: the whole span per area, or the country per month
CORRECTION_BY: Final = ("total", "month")

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
#: endpoint -> the columns of its rows (JSON keys, CSV header), in order
FIELDS: Final = {
    "coverage": COVERAGE_FIELDS,
    "timeseries": TIMESERIES_FIELDS,
    "vaccines": VACCINE_FIELDS,
    "areas": AREA_FIELDS,
    "corrections": CORRECTION_FIELDS,
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
