"""What the open-data API (``/api/v1/``) promises its users: the query parameters of each
endpoint, the columns of its rows, the limits, the licence and the headers that carry the
sample fraction. `portal.api` checks requests and builds responses against these constants
and `portal.openapi` describes them, so the two cannot drift apart; both import this module
and neither imports the other's internals the other way round."""

from __future__ import annotations

from typing import Final

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
}

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
#: endpoint -> the columns of its rows (JSON keys, CSV header), in order
FIELDS: Final = {
    "coverage": COVERAGE_FIELDS,
    "timeseries": TIMESERIES_FIELDS,
    "vaccines": VACCINE_FIELDS,
    "areas": AREA_FIELDS,
}
