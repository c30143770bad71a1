"""The OpenAPI 3.1 document of the open-data API (``/api/v1/openapi.json``), built from the
same constants the API checks its parameters against (`portal.api_contract`), so the two
cannot drift apart. The human page at ``/api`` renders from this document too."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from portal import api_contract as contract
from portal.metrics import DENOMINATORS, LEVELS

SUMMARIES: Final[dict[str, tuple[str, str]]] = {
    "coverage": (
        "Coverage of areas as of a day",
        "People with at least one dose, with a full primary series and with a booster, all "
        "doses, the population and the coverage percentages of each area of a level, counting "
        "every dose given up to and including `date`.",
    ),
    "timeseries": (
        "Daily series per area",
        "Doses per day (by kind), running totals, the 7-day average and coverage of each "
        "area, for every day of the campaign between `from` and `to`.",
    ),
    "vaccines": (
        "Vaccine mix",
        "Doses per vaccine product and area given up to and including `date`, and each "
        "product's share of the area's doses.",
    ),
    "areas": (
        "Areas of a level",
        "Codes, names and 2019 census population (total and 18+) of the areas of a level, "
        "× the data's sample fraction (`meta.sample_fraction`; 1 for real data).",
    ),
    "corrections": (
        "Backlog of citizens' correction requests",
        "Citizens' requests to correct their vaccination record (a missing dose, a dose that "
        "is not theirs, a wrong name, date of birth or sex), handled by the officials of a "
        "province: requests received, approved (resolved in the citizen's favour), rejected, "
        "open, and the median days from filing to resolution — per province and for the "
        "country over the whole span (`by=total`), or for the country per local month "
        "(`by=month`: received, approved and rejected in the month, open at its end, the "
        "median of those resolved in it). Counts are the data's own (not scaled by the sample "
        f"fraction). Small counts are withheld: a count below {contract.MIN_CELL} is null "
        f"and named in `suppressed`, a median needs {contract.MIN_CELL} resolved requests, and "
        "further counts are null and named in `complementary` where the published sums would "
        "otherwise let a withheld count be worked out (`meta.suppression` says the rule and "
        "why).",
    ),
    "supply": (
        "Supply, registrations and doses per province and day",
        "For each province and local day between `from` and `to`, side by side: doses "
        "delivered to the province from outside it (transfers from the national store or "
        "another province, direct deliveries; not moves within the province), the stock "
        "its store and sites hold at the end of the day (every product), days of supply "
        "(on hand ÷ the mean doses given a day over the 7 days ending that day; null when "
        "none was given), app registrations pending (made by the end of the day for a slot "
        "that day or later, not cancelled: the registry keeps only the current status, so "
        "for past days a lower bound) and valid doses given that day. Aggregates of the "
        "province's store and sites together: no site's stock is published. Counts are "
        "the data's own (not scaled by the sample fraction).",
    ),
}

#: What every population and percentage is measured against, said once for the document.
SAMPLE_NOTE: Final = (
    "Populations (`population`, `population_total`, `population_adult`) and every "
    "percentage and per-100 figure use the census population × the data's sample fraction: "
    "the share of the country the data stands for. Real records are the whole country "
    "(fraction 1); a simulated registry (the demo) holds a sample, e.g. 0.01 = 1 % of the "
    "campaign's doses, and counts are the sample's own. JSON says so in `meta` "
    f"(`sample_fraction`, `simulated`, `sample`); every response, CSV included, in the "
    f"headers `{contract.SAMPLE_HEADER}` and `{contract.SIMULATED_HEADER}`."
)

#: Descriptions of row fields that need one.
FIELD_DOCS: Final = {
    "population": "the denominator: census population (total or 18+) × the sample fraction",
    "population_total": "2019 census population × the sample fraction",
    "population_adult": "2019 census population aged 18+ × the sample fraction",
    "per100": "doses per 100 people of `population`",
    "period": "`total` (the whole span) or a local month `YYYY-MM`",
    "received": "requests filed in the period (null: withheld)",
    "approved": "requests approved in the period, i.e. resolved in the citizen's favour "
    "(null: withheld)",
    "rejected": "requests rejected in the period (null: withheld)",
    "open": "requests open at the end of the period; now, for `total` and the latest month "
    "(null: withheld)",
    "median_days": "median days from filing to resolution of the requests resolved in the "
    f"period (null: fewer than {contract.MIN_CELL} of them)",
    "suppressed": f"the columns withheld because they count fewer than {contract.MIN_CELL} "
    "requests (median_days: fewer resolved), space-separated; empty when none",
    "complementary": "the columns withheld so that no small count can be worked out from "
    "the published sums, space-separated; empty when none",
    "delivered": "supply: doses that reached the province's store and sites that day from "
    "outside the province (national store, another province, direct deliveries)",
    "on_hand": "supply: doses held by the province's store and sites at the end of the day, "
    "every product",
    "days_of_supply": "supply: on_hand ÷ doses_avg7 (null: no dose given in the 7 days)",
    "pending": "supply: app registrations made by the end of the day for a slot that day or "
    "later, not cancelled (current status: a lower bound for past days)",
    "doses_avg7": "the mean doses a day over the 7 days ending that day (supply: their sum "
    "÷ 7, from the first day of the data on)",
}

META: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "endpoint": {"type": "string"},
        "level": {"type": "string"},
        "rows": {"type": "integer"},
        "data_version": {"type": "string"},
        "data_until": {"type": ["string", "null"], "format": "date"},
        "sample_fraction": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "description": "the share of the country the data stands for; populations are "
            "the census × this (1: real records of the whole country)",
        },
        "simulated": {
            "type": "boolean",
            "description": "true when the data is a simulated sample, not real records",
        },
        "sample": {
            "type": ["string", "null"],
            "description": "the registry's description of its sample (null for real data)",
        },
        "by": {"type": "string", "description": "corrections: `total` or `month`"},
        "suppression": {
            "type": "object",
            "description": "corrections: what is withheld and why (`min_count`, "
            "`median_min_resolved`, `rule`, `why`)",
        },
        "licence": {"type": "string"},
        "licence_url": {"type": "string"},
        "attribution": {"type": "string"},
        "definitions": {"type": "string"},
    },
    "required": ["endpoint", "rows", "data_version", "sample_fraction", "simulated"],
}

SAMPLE_HEADERS: Final = {
    contract.SAMPLE_HEADER: {
        "description": "the data's sample fraction (as `meta.sample_fraction`)",
        "required": True,
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
    contract.SIMULATED_HEADER: {
        "description": "`true` when the data is a simulated sample (as `meta.simulated`)",
        "required": True,
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
}


def _codes_by_level(levels: tuple[str, ...]) -> str:
    """Each level's area codes, in words, for the `area` parameter's description."""
    said = []
    for level in levels:
        codes = contract.area_codes(level)
        listed = (
            ", ".join(codes)
            if len(codes) <= 10
            else f"{len(codes)} two-digit GSO codes ({codes[0]} … {codes[-1]}: "
            f"/api/v1/areas?level={level})"
        )
        said.append(f"`{level}`: {listed}")
    return "; ".join(said)


def _parameter(endpoint: str, name: str) -> dict[str, Any]:
    """The documentation of query parameter `name` of `endpoint`: each says exactly which
    values it takes (an enum or a pattern), and the API refuses any other with a 400."""
    levels = contract.levels_of(endpoint)
    day = {"type": "string", "format": "date", "pattern": contract.DATE_PATTERN}
    days = f"{contract.EARLIEST} to {contract.LATEST}"
    docs: dict[str, dict[str, Any]] = {
        "level": {
            "description": (
                "national (VN), region (the six socio-economic regions), province (the 63 "
                "GSO provinces), province2025 (the 34 provinces from 2025-07-01)"
                if levels == LEVELS
                else "province (the 63 GSO provinces) only: stock is published per "
                "province, never per site"
                if levels == ("province",)
                else "national (VN) or province (the 63 GSO provinces); regions and the "
                "2025 provinces are not offered, so that withheld counts cannot be worked "
                "out from the differences between levels"
            ),
            "schema": {"type": "string", "enum": list(levels), "default": levels[0]},
            "example": "province",
        },
        "area": {
            "description": f"comma-separated area codes of the level, at most "
            f"{contract.MAX_AREAS} items (spaces around a code and empty items are ignored, a "
            "repeated code is answered once; rows come in the order asked); default, or "
            f"when empty: every area of the level. The codes of each level: "
            f"{_codes_by_level(levels)}. The pattern takes the codes of every level; a "
            "code the chosen level does not have (e.g. `level=national&area=01`) is "
            "answered 404 `unknown_area`, a code of no level 400.",
            "schema": {"type": "string", "pattern": contract.area_pattern(endpoint)},
            "example": "01,79",
        },
        "date": {
            "description": "count doses given up to and including this day (YYYY-MM-DD, "
            f"{days}); default: the latest day with data",
            "schema": day,
            "example": "2021-08-04",
        },
        "from": {
            "description": f"first day of the series (YYYY-MM-DD, {days}; running totals "
            "still start at the beginning of the campaign); default: the campaign's first. "
            "After `to`: no days, no rows",
            "schema": day,
            "example": "2021-07-25",
        },
        "to": {
            "description": f"last day of the series (YYYY-MM-DD, {days}); default: the "
            "latest day with data",
            "schema": day,
            "example": "2021-08-02",
        },
        "denominator": {
            "description": "population for percentages: total (2019 census) or adult (18+)",
            "schema": {"type": "string", "enum": list(DENOMINATORS), "default": "total"},
        },
        "by": {
            "description": "total: each area over the whole span; month: the country per "
            "local month (level=national only: `level=province&by=month` is answered 404 "
            "`not_published`)",
            "schema": {
                "type": "string",
                "enum": list(contract.CORRECTION_BY),
                "default": "total",
            },
        },
        "format": {
            "description": "json (rows under `data`, facts under `meta`) or csv (the same "
            "rows, a header line of the same names)",
            "schema": {"type": "string", "enum": list(contract.FORMATS), "default": "json"},
        },
    }
    return {"name": name, "in": "query", "required": False, **docs[name]}


FIELD_TYPES: Final[dict[str, str | list[str]]] = {
    "capped": "boolean",
    "share": "number",
    "doses_avg7": "number",
    "per100": "number",
    "period": "string",
    "suppressed": "string",
    "complementary": "string",
    "received": ["integer", "null"],
    "approved": ["integer", "null"],
    "rejected": ["integer", "null"],
    "open": ["integer", "null"],
    "median_days": ["number", "null"],
    "days_of_supply": ["number", "null"],
}


def _field_type(name: str) -> str | list[str]:
    if name in FIELD_TYPES:
        return FIELD_TYPES[name]
    if name.startswith("pct_"):
        return "number"
    if name in (
        "date",
        "level",
        "area_code",
        "name_vi",
        "name_en",
        "denominator",
    ) or name.startswith(("vaccine_",)):
        return "string"
    return "integer"


#: the error codes of each status (docs/api.md#errors)
ERROR_CODES: Final[dict[str, tuple[str, ...]]] = {
    "400": (
        "unknown_parameter", "invalid_value", "invalid_date", "date_out_of_range",
        "too_many_areas", "unknown_area",
    ),
    "404": ("unknown_area", "not_published", "not_found"),
    "405": ("method_not_allowed",),
    "503": ("data_unavailable",),
}  # fmt: skip
ERROR_WHEN: Final = {
    "400": "a parameter the endpoint does not take or given twice, or a value the "
    "parameter's schema does not allow: the parameter at fault and why",
    "404": "well-formed, but nothing to answer: an area code the chosen level does not "
    "have (`unknown_area`), or `by=month` below the country (`not_published`)",
    "405": "a method other than GET (HEAD and OPTIONS are answered too); `Allow` lists them",
    "503": "the data warehouse cannot be reached and nothing is cached; retry after "
    "`Retry-After` seconds",
}

CACHE_HEADERS: Final = {
    "Cache-Control": {
        "required": True,
        "schema": {"type": "string", "const": contract.CACHE_CONTROL},
    },
    "ETag": {
        "required": True,
        "description": "a hash of the answer (a strong entity tag: hex digits in quotes); "
        "send it back in If-None-Match to get a 304",
        "schema": {"type": "string", "pattern": '^"[0-9a-f]{16,64}"$'},
    },
    "Access-Control-Allow-Origin": {"required": True, "schema": {"type": "string", "const": "*"}},
}


def _meta(endpoint: str) -> dict[str, Any]:
    properties = dict(META["properties"])
    required = [name for name in properties if name not in ("by", "suppression")]
    if endpoint == "corrections":
        required += ["by", "suppression"]
        properties["by"] = {"type": "string", "enum": list(contract.CORRECTION_BY)}
    else:
        del properties["by"], properties["suppression"]
    return META | {"properties": properties, "required": required, "additionalProperties": False}


def _rows_schema(endpoint: str) -> dict[str, Any]:
    fields = contract.FIELDS[endpoint]
    row = {
        "type": "object",
        "properties": {
            name: {"type": _field_type(name)}
            | ({"description": FIELD_DOCS[name]} if name in FIELD_DOCS else {})
            for name in fields
        },
        "required": list(fields),
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"data": {"type": "array", "items": row}, "meta": _meta(endpoint)},
        "required": ["data", "meta"],
        "additionalProperties": False,
    }


def _operation(endpoint: str) -> dict[str, Any]:
    summary, description = SUMMARIES[endpoint]
    header_line = ",".join(contract.FIELDS[endpoint])
    return {
        "summary": summary,
        "description": description,
        "operationId": endpoint,
        "parameters": [_parameter(endpoint, name) for name in contract.PARAMETERS[endpoint]],
        "responses": {
            "200": {
                "description": f"the rows, as JSON or (format=csv) CSV; cached for "
                f"{contract.CACHE_CONTROL.rsplit('=', 1)[-1]} s",
                "headers": {
                    **CACHE_HEADERS,
                    **SAMPLE_HEADERS,
                    "Content-Disposition": {
                        "description": "CSV only: the file's name",
                        "schema": {
                            "type": "string",
                            "const": f'inline; filename="vaxviet-{endpoint}.csv"',
                        },
                    },
                },
                "content": {
                    "application/json": {"schema": _rows_schema(endpoint)},
                    "text/csv": {
                        "schema": {
                            "type": "string",
                            "description": "a header line of the JSON keys, then one line "
                            "a row (UTF-8; booleans true/false; withheld values empty)",
                            "pattern": f"^{re.escape(header_line)}\n",
                        }
                    },
                },
            },
            "304": {
                "description": "not modified (If-None-Match matched the ETag)",
                "headers": {"ETag": CACHE_HEADERS["ETag"]},
            },
            **{status: {"$ref": f"#/components/responses/Error{status}"} for status in ERROR_CODES},
        },
    }


def _error(status: str) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}
    }
    if status == "405":
        headers["Allow"] = {"required": True, "schema": {"type": "string", "const": contract.ALLOW}}
    if status == "503":
        headers["Retry-After"] = {"required": True, "schema": {"type": "integer", "minimum": 1}}
    return {
        "description": ERROR_WHEN[status],
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer", "const": int(status)},
                                "code": {"type": "string", "enum": list(ERROR_CODES[status])},
                                "message": {"type": "string", "minLength": 1},
                                "parameter": {
                                    "type": "string",
                                    "description": "the parameter at fault, when one is",
                                },
                            },
                            "required": ["status", "code", "message"],
                            "additionalProperties": False,
                        }
                    },
                    "required": ["error"],
                    "additionalProperties": False,
                }
            }
        },
    }


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VaxViet open data API",
            "version": "1",
            "description": "COVID-19 vaccination coverage of Viet Nam by area and day, "
            "aggregated from the national dose records, vaccine supply, registrations and "
            "doses per province and day, and the backlog of citizens' requests "
            f"to correct their records. {contract.ATTRIBUTION}. No personal data: counts only "
            "(small counts of correction requests withheld). Limits: no key and no rate limit; responses are cached for 5 "
            "minutes and carry an ETag, so please revalidate with If-None-Match. "
            + SAMPLE_NOTE
            + " This document is the contract, tested with a property-based tester driven by "
            "it: each parameter's schema says exactly which values it takes, and any other "
            "value is a 400; every answer (status, headers, JSON or CSV body, errors) is as "
            "described here.",
            "license": {"name": contract.LICENCE, "url": contract.LICENCE_URL},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            f"/{endpoint}": {"get": _operation(endpoint)} for endpoint in contract.PARAMETERS
        },
        "components": {"responses": {f"Error{status}": _error(status) for status in ERROR_CODES}},
    }


def document() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy)."""
    import copy

    return copy.deepcopy(_document())
