"""The open-data API, ``/api/v1/`` (a Flask blueprint on the platform's server).

Endpoints (documented for machines at ``/api/v1/openapi.json``, for people at ``/api``):
``coverage``, ``timeseries``, ``vaccines``, ``areas``, ``corrections`` (the backlog of
citizens' correction requests, small counts withheld: :mod:`portal.backlog`) and ``supply``
(stock, registrations and doses per province and day: :mod:`portal.supply`). Every
endpoint answers JSON (``{"data": [...], "meta": {...}}``) or CSV (``format=csv``: the same
rows and columns).
Public input is checked by one pure function (:func:`parse_query`) before any query: a bad
parameter is a 400 with a JSON body naming it, never a 500. Responses carry an ``ETag``
(a hash of the body; ``If-None-Match`` gives a 304) and ``Cache-Control``; bodies are cached
on the data version like every figure of the portal.

Every population and percentage uses the data's **sample fraction** (the share of the
country the data stands for: 1.0 for real records, the seed's scale for a simulated
registry): JSON says it in ``meta`` (``sample_fraction``, ``simulated``, ``sample``), and
every response, CSV included, in the headers :data:`SAMPLE_HEADER` and
:data:`SIMULATED_HEADER`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import flask
import pandas as pd
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from portal import backlog, data, metrics
from portal.api_contract import (
    ALLOW,
    AREA_FIELDS,
    ATTRIBUTION,
    CACHE_CONTROL,
    CORRECTION_BY,
    CORRECTION_FIELDS,
    COVERAGE_FIELDS,
    DATE_PATTERN,
    EARLIEST,
    FORMATS,
    LATEST,
    LICENCE,
    LICENCE_URL,
    MAX_AREAS,
    PARAMETERS,
    SAMPLE_HEADER,
    SIMULATED_HEADER,
    SUPPLY_FIELDS,
    SUPPRESSION,
    TIMESERIES_FIELDS,
    VACCINE_FIELDS,
    area_codes,
    area_pattern,
    levels_of,
)
from portal.metrics import DENOMINATORS, Denominator, Level
from portal.openapi import document
from warehouse.sample import Sample
from web.cache import CACHE, DataUnavailableError, data_version, jittered

log = logging.getLogger("vaxviet.api")

api = flask.Blueprint("api_v1", __name__, url_prefix="/api/v1")

DECIMALS: Final = 4


class ApiError(Exception):
    """A request the API refuses: an HTTP status, a machine code, the parameter at fault."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter

    def document(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.parameter:
            error["parameter"] = self.parameter
        return {"error": error}


@dataclass(frozen=True)
class Query:
    """A checked request: every value valid, defaults filled in except dates that depend
    on the data (``None``: the latest day / the whole span)."""

    endpoint: str
    level: Level = "national"
    areas: tuple[str, ...] = ()
    day: date | None = None
    start: date | None = None
    end: date | None = None
    denominator: Denominator = "total"
    format: str = "json"
    by: str = "total"
    all_areas: tuple[str, ...] = field(default=(), repr=False)

    def key(self) -> str:
        return json.dumps(
            [self.endpoint, self.level, self.areas, str(self.day), str(self.start),
             str(self.end), self.denominator, self.format, self.by]
        )  # fmt: skip


DAY: Final = re.compile(DATE_PATTERN)
ISO_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(name: str, value: str) -> date:
    """A day as the document's pattern has it: YYYY-MM-DD exactly (not the other ISO forms
    Python reads), a real day, from EARLIEST to LATEST."""
    if DAY.fullmatch(value):
        return date.fromisoformat(value)
    try:
        parsed = date.fromisoformat(value) if ISO_DAY.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ApiError(
            400, "invalid_date", f"{name} must be a date YYYY-MM-DD, not {value!r}", name
        )
    raise ApiError(
        400, "date_out_of_range", f"{name} must be between {EARLIEST} and {LATEST}", name
    )


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ApiError(
            400, "invalid_value", f"{name} must be one of {', '.join(allowed)}, not {value!r}", name
        )
    return value


def single_values(args: MultiDict[str, str]) -> dict[str, str]:
    """The query's parameters, each given once (a parameter given twice is refused: which
    one would count?)."""
    for name in args:
        if len(args.getlist(name)) > 1:
            raise ApiError(400, "invalid_value", f"{name} is given more than once", name)
    return dict(args.items())


def _areas(endpoint: str, value: str) -> tuple[str, ...]:
    """The codes of `value` (comma-separated, spaces around them and empty items ignored,
    repeats answered once), in the order given, each a code of one of the endpoint's levels
    (the document's pattern; else a 400)."""
    items = value.split(",")
    if len(items) > MAX_AREAS:
        raise ApiError(400, "too_many_areas", f"at most {MAX_AREAS} areas per call", "area")
    known = {code for other in levels_of(endpoint) for code in area_codes(other)}
    areas = tuple(dict.fromkeys(item.strip(" ") for item in items if item.strip(" ")))
    unknown = [a for a in areas if a not in known]
    if unknown or not re.fullmatch(area_pattern(endpoint), value):
        raise ApiError(
            400, "unknown_area",
            f"area must be comma-separated area codes, and {(unknown or [value])[0]!r} is no "
            "area's code (see /api/v1/areas)", "area",
        )  # fmt: skip
    return areas


def parse_query(endpoint: str, args: Mapping[str, str]) -> Query:
    """Check and normalise the query parameters of `endpoint` (pure; raises ApiError).

    Every parameter is checked as the OpenAPI document describes it, each by itself: a
    value outside the document is a 400. Two rules tie parameters together, which the
    document's parameters cannot say: a well-formed area code the chosen level does not
    have, and `by=month` with `level=province` (not published), are 404s; `from` after `to`
    is no error, just no days."""
    allowed = PARAMETERS[endpoint]
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ApiError(
            400, "unknown_parameter",
            f"unknown parameter {unknown[0]!r}; {endpoint} accepts: {', '.join(allowed)}", unknown[0],
        )  # fmt: skip
    levels = levels_of(endpoint)
    level: Level = _choice("level", args.get("level", levels[0]), levels)  # type: ignore[assignment]
    areas = _areas(endpoint, args["area"]) if "area" in args else ()
    day = _date("date", args["date"]) if "date" in args else None
    start = _date("from", args["from"]) if "from" in args else None
    end = _date("to", args["to"]) if "to" in args else None
    denominator: Denominator = _choice(
        "denominator", args.get("denominator", "total"), DENOMINATORS
    )  # type: ignore[assignment]
    by = _choice("by", args.get("by", "total"), CORRECTION_BY)
    output = _choice("format", args.get("format", "json"), FORMATS)
    # every parameter is valid by itself: now what the level has (404s)
    codes = area_codes(level)
    missing = [a for a in areas if a not in codes]
    if missing:
        raise ApiError(
            404, "unknown_area",
            f"no {level} area with code {missing[0]!r} (see /api/v1/areas?level={level})", "area",
        )  # fmt: skip
    if by == "month" and level != "national":
        raise ApiError(
            404, "not_published",
            "by=month is published for the country only (level=national): a province's "
            "months would mostly be withheld (see /api#api-corrections)", "by",
        )  # fmt: skip
    return Query(
        endpoint=endpoint, level=level, areas=areas, day=day, start=start, end=end,
        denominator=denominator, format=output, by=by, all_areas=codes,
    )  # fmt: skip


# -- rows --------------------------------------------------------------------------------------


def _records(frame: pd.DataFrame, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    frame = frame[list(fields)].copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].round(DECIMALS)
        elif pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype("int64")
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _as_of(query: Query) -> date:
    if query.day is not None:
        return query.day
    return data.latest_day() or metrics.SNAPSHOT_DAY


def coverage_rows(query: Query) -> list[dict[str, Any]]:
    as_of = _as_of(query)
    table = data.coverage(as_of, query.level, query.denominator)
    if query.areas:
        table = table.set_index("area_code").loc[list(query.areas)].reset_index()
    table = table.assign(date=as_of.isoformat(), level=query.level, denominator=query.denominator)
    return _records(table, COVERAGE_FIELDS)


def timeseries_rows(query: Query) -> list[dict[str, Any]]:
    codes = query.areas or query.all_areas
    series = data.timeseries(query.level, tuple(codes), query.denominator)
    if query.start:
        series = series[series["day"] >= pd.Timestamp(query.start)]
    if query.end:
        series = series[series["day"] <= pd.Timestamp(query.end)]
    order = {code: i for i, code in enumerate(codes)}
    series = series.assign(
        date=series["day"].dt.strftime("%Y-%m-%d"), level=query.level,
        _order=series["area_code"].map(order),
    ).sort_values(["_order", "day"])  # fmt: skip
    return _records(series, TIMESERIES_FIELDS)


def vaccine_rows(query: Query) -> list[dict[str, Any]]:
    from geo.products import campaign_products as vaccines

    as_of = _as_of(query)
    shares = metrics.vaccine_shares(data.vaccine_mix(as_of), query.level, query.areas)
    names = dict(zip(vaccines()["code"], vaccines()["name"], strict=True))
    shares = shares.assign(
        date=as_of.isoformat(), level=query.level,
        vaccine_name=shares["vaccine_code"].map(names).fillna(shares["vaccine_code"]),
    )  # fmt: skip
    return _records(shares, VACCINE_FIELDS)


def area_rows(query: Query) -> list[dict[str, Any]]:
    return _records(data.areas(query.level).assign(level=query.level), AREA_FIELDS)


def correction_rows(query: Query) -> list[dict[str, Any]]:
    """The published backlog (:func:`portal.data.corrections`): the areas asked over the whole
    span, or the country per month; withheld values stay ``None`` (null; empty in CSV)."""
    table = data.corrections()
    names = metrics.areas(query.level).set_index("area_code")
    if query.by == "month":
        chosen = table[table["period"] != backlog.TOTAL]
    else:
        codes = list(query.areas or query.all_areas)
        chosen = table[table["period"] == backlog.TOTAL].set_index("area_code").loc[codes]
        chosen = chosen.reset_index()
    rows = []
    for record in chosen.to_dict("records"):
        area = names.loc[record["area_code"]]
        median = record["median_days"]
        rows.append(
            {
                **record,
                "level": query.level,
                "name_vi": area["name_vi"],
                "name_en": area["name_en"],
                "median_days": None if median is None else round(median, DECIMALS),
            }
        )
    return [{name: row[name] for name in CORRECTION_FIELDS} for row in rows]


def supply_rows(query: Query) -> list[dict[str, Any]]:
    """Supply, registrations and doses (:func:`portal.data.supply_table`) of the provinces
    asked (in the order asked, each day by day) between `from` and `to`; a null days of
    supply (no dose in the window) stays ``None`` (null; empty in CSV)."""
    table = data.supply_table()
    codes = list(query.areas or query.all_areas)
    chosen = table[table["province_code"].isin(codes)]
    if query.start:
        chosen = chosen[chosen["day"] >= pd.Timestamp(query.start)]
    if query.end:
        chosen = chosen[chosen["day"] <= pd.Timestamp(query.end)]
    names = metrics.areas("province").set_index("area_code")
    order = {code: i for i, code in enumerate(codes)}
    chosen = chosen.assign(
        date=chosen["day"].dt.strftime("%Y-%m-%d"), level=query.level,
        area_code=chosen["province_code"],
        name_vi=chosen["province_code"].map(names["name_vi"]),
        name_en=chosen["province_code"].map(names["name_en"]),
        _order=chosen["province_code"].map(order),
    ).sort_values(["_order", "day"], kind="stable")  # fmt: skip
    rows = _records(chosen, SUPPLY_FIELDS)
    for row in rows:
        if row["days_of_supply"] != row["days_of_supply"]:  # NaN: nothing given in the window
            row["days_of_supply"] = None
    return rows


ROWS: Final = {
    "coverage": (coverage_rows, COVERAGE_FIELDS),
    "timeseries": (timeseries_rows, TIMESERIES_FIELDS),
    "vaccines": (vaccine_rows, VACCINE_FIELDS),
    "areas": (area_rows, AREA_FIELDS),
    "corrections": (correction_rows, CORRECTION_FIELDS),
    "supply": (supply_rows, SUPPLY_FIELDS),
}


def to_csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    """The same rows as CSV (header = the JSON keys, booleans as true/false)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()})
    return buffer.getvalue()


def render(query: Query, version: str) -> tuple[bytes, str]:
    """The response body and its media type for a checked query."""
    build, fields = ROWS[query.endpoint]
    rows = build(query)
    if query.format == "csv":
        return to_csv(rows, fields).encode("utf-8"), "text/csv; charset=utf-8"
    sample = data.sample()
    meta = {
        "endpoint": query.endpoint,
        "level": query.level,
        "rows": len(rows),
        "data_version": version,
        "data_until": (lambda d: d.isoformat() if d else None)(data.latest_day()),
        "sample_fraction": sample.fraction,
        "simulated": sample.simulated,
        "sample": sample.description or None,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": ATTRIBUTION,
        "definitions": "/api#definitions",
    }
    if query.endpoint == "corrections":
        meta |= {"by": query.by, "suppression": SUPPRESSION}
    body = json.dumps({"data": rows, "meta": meta}, ensure_ascii=False, separators=(",", ":"))
    return body.encode("utf-8"), "application/json"


# -- HTTP ----------------------------------------------------------------------------------------


def _json_error(error: ApiError) -> flask.Response:
    response = flask.jsonify(error.document())
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.status == 503:
        response.headers["Retry-After"] = "30"
    if error.status == 405:
        response.headers["Allow"] = ALLOW
    return response


def sample_headers(sample: Sample) -> dict[str, str]:
    """The headers that say what share of the country the data stands for."""
    return {SAMPLE_HEADER: repr(sample.fraction), SIMULATED_HEADER: str(sample.simulated).lower()}


#: the methods an endpoint's rule takes (HEAD comes with GET); OPTIONS answered here, not by
#: Flask, whose answer would list the methods of the catch-all below too
ENDPOINT_METHODS: Final = ["GET", "OPTIONS"]


def _options() -> flask.Response:
    """What OPTIONS (a CORS preflight) is told: the methods, and that anyone may GET."""
    response = flask.Response(status=204)
    del response.headers["Content-Type"]  # no content
    response.headers["Allow"] = ALLOW
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = ALLOW
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _serve(endpoint: str) -> flask.Response:
    if flask.request.method == "OPTIONS":
        return _options()
    query = parse_query(endpoint, single_values(flask.request.args))
    try:
        version = data_version()
        key = f"api:{version}:{hashlib.sha256(query.key().encode()).hexdigest()[:24]}"
        cached = CACHE.get(key)
        if cached is None:
            cached = render(query, version)
            CACHE.set(key, cached, timeout=jittered(3600))
        sample = data.sample()
    except DataUnavailableError as error:
        raise ApiError(
            503, "data_unavailable", "the data warehouse cannot be reached; retry later"
        ) from error
    body, media_type = cached
    headers = sample_headers(sample)  # in the ETag too: a CSV body does not carry them
    etag = hashlib.sha256(body + repr(sorted(headers.items())).encode()).hexdigest()[:32]
    response = flask.Response(body, mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"{SAMPLE_HEADER}, {SIMULATED_HEADER}"
    response.headers.update(headers)
    if query.format == "csv":
        response.headers["Content-Disposition"] = f'inline; filename="vaxviet-{endpoint}.csv"'
    response.make_conditional(flask.request)
    return response


@api.route("/coverage", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def coverage() -> flask.Response:
    return _serve("coverage")


@api.route("/timeseries", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def timeseries() -> flask.Response:
    return _serve("timeseries")


@api.route("/vaccines", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def vaccines() -> flask.Response:
    return _serve("vaccines")


@api.route("/areas", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def areas() -> flask.Response:
    return _serve("areas")


@api.route("/corrections", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def corrections() -> flask.Response:
    return _serve("corrections")


@api.route("/supply", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def supply() -> flask.Response:
    return _serve("supply")


@api.route("/openapi.json", methods=ENDPOINT_METHODS, provide_automatic_options=False)
def openapi() -> flask.Response:
    if flask.request.method == "OPTIONS":
        return _options()
    response = flask.jsonify(document())
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


ANY_METHOD: Final = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@api.route("/", defaults={"rest": ""}, methods=ANY_METHOD)
@api.route("/<path:rest>", methods=ANY_METHOD)
def not_found(rest: str) -> flask.Response:
    if rest.strip("/") in (*PARAMETERS, "openapi.json"):
        raise ApiError(405, "method_not_allowed", f"the open-data API only answers {ALLOW}")
    raise ApiError(404, "not_found", f"no endpoint /api/v1/{rest}; see /api/v1/openapi.json")


@api.app_errorhandler(MethodNotAllowed)
def method_not_allowed(error: MethodNotAllowed) -> flask.Response | MethodNotAllowed:
    """A method no rule takes (TRACE, QUERY, any other word): routing refuses it before the
    catch-all above is reached, so before the blueprint's own handlers. Under the API's
    prefix it gets the API's answer (a 405 on an endpoint, a 404 elsewhere); the paths of
    other parts under the prefix (the certificates') and the rest of the platform keep
    theirs."""
    prefix = f"{api.url_prefix}/"
    path = flask.request.path
    if not path.startswith(prefix):
        return error
    rest = path.removeprefix(prefix)
    if rest.strip("/") in (*PARAMETERS, "openapi.json"):
        return _json_error(
            ApiError(405, "method_not_allowed", f"the open-data API only answers {ALLOW}")
        )
    rules = flask.current_app.url_map.iter_rules()
    if any(r.rule == path and not r.endpoint.startswith(f"{api.name}.") for r in rules):
        return error
    return _json_error(
        ApiError(404, "not_found", f"no endpoint /api/v1/{rest}; see /api/v1/openapi.json")
    )


@api.errorhandler(ApiError)
def api_error(error: ApiError) -> flask.Response:
    return _json_error(error)


@api.errorhandler(HTTPException)
def http_error(error: HTTPException) -> flask.Response:
    return _json_error(ApiError(error.code or 400, "http_error", error.description or str(error)))


@api.errorhandler(Exception)
def unexpected(error: Exception) -> flask.Response:
    log.exception("API failure")
    return _json_error(
        ApiError(500, "internal_error", "the server failed to answer; this is a bug")
    )
