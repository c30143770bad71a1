"""The officials' summary: ``GET /internal/api/v1/summary``, a small JSON document for their
own tools (a script, a spreadsheet, a wall screen) with the headline figures of the pages.

* **Access**: behind the dashboards' guard (:mod:`dashboards.auth`) like every
  ``/internal`` path, with the same login: the session cookie that ``POST
  /internal/login`` sets. Without one the answer is ``401 {"error": "login required"}``
  (JSON, never the login page).
* **Scope**: the logged-in user's province, applied inside every query; a national user
  may narrow it with ``?province=<GSO code>``, a provincial user naming any other province
  gets 403. An unknown code gets 400.
* **"Now"** (``as_of``) is the pages' "now" (:func:`dashboards.throughput.reference_time`):
  the wall clock to the minute while doses arrive, else the end of the last hour with
  doses.
* **Figures** reuse the pages' indicators and their cached reads (:mod:`dashboards.data`):
  site activity from :func:`dashboards.throughput.site_activity` (the throughput page's
  open and silent sites), wastage from :func:`dashboards.stock.with_rates` over the stock
  page's 30-day wastage read. Two reads are the summary's own: doses in the 24 h up to
  ``as_of`` and the site × product pairs active in the last 30 days and out of stock
  (:func:`site_products` is the reference for the latter's SQL).
* **Cost**: the document is memoized per data version, scope and minute
  (:func:`web.cache.memoize_derived`), and its reads are the pages' cached ones, so a
  repeated call costs a cache lookup.

Definitions and an example are in ``docs/dashboards.md`` ("The summary for officials' tools").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final

import flask
import pandas as pd

from dashboards import auth, data, stock, throughput
from dashboards.context import local_now
from dashboards.data import read
from dashboards.names import province_names
from dashboards.reads import days_ending
from geo.calendar import LOCAL_ZONE
from vaxviet.services import current_services
from web.cache import DataUnavailableError, is_stale, memoize_derived

PATH: Final = f"{auth.API_PREFIX}/v1/summary"
#: doses are counted over this span up to "now"
DOSES_SPAN: Final = timedelta(hours=24)
#: wastage and active site × product pairs: this many local days ending with "now"'s day
#: (the stock page's wastage window)
STOCK_DAYS: Final = 30


class SummaryError(Exception):
    """A request the summary refuses: an HTTP status and a message."""

    def __init__(self, status: int, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status, self.message, self.parameter = status, message, parameter


def site_products(daily: pd.DataFrame, as_of: date, days: int = STOCK_DAYS) -> tuple[int, int]:
    """The reference for ``stock_site_products.sql`` on the daily stock ledger (the input
    of :mod:`dashboards.stock`): (site × product pairs with a movement in the `days` days
    ending `as_of`, how many of them have a balance — every movement up to the end of
    `as_of`, all lots — of zero or less)."""
    day = pd.to_datetime(daily["day"])
    sites = daily[(daily["level"] == "site") & (day <= pd.Timestamp(as_of))]
    if sites.empty:
        return 0, 0
    first = pd.Timestamp(as_of - timedelta(days=days - 1))
    pairs = sites.assign(day=pd.to_datetime(sites["day"])).groupby(
        ["province_code", "site_id", "vaccine_code"]
    )
    frame = pairs.agg(on_hand=("quantity", "sum"), last_day=("day", "max"))
    active = frame[frame["last_day"] >= first]
    return len(active), int((active["on_hand"] <= 0).sum())


def figures(province: str, now: datetime, silent_hours: int) -> dict[str, Any]:
    """The summary's figures for a scope at "now" (naive local time, to the minute)."""
    today = now.date()
    hours = read("site_hours", province=province, **days_ending(today))
    activity = throughput.site_activity(
        read("sites", province=province), hours[hours["hour"] <= now], now, silent_hours
    )
    stop = now + timedelta(minutes=1)  # the whole minute of "now"
    doses = int(
        read("doses_between", province=province, start=stop - DOSES_SPAN, stop=stop)["doses"].sum()
    )
    waste = read("stock_wastage", province=province, **days_ending(today, STOCK_DAYS))
    rate = stock.overall_wastage_rate(waste)
    pairs = read("stock_site_products", province=province, **days_ending(today, STOCK_DAYS))
    active, outs = int(pairs["active"].sum()), int(pairs["stock_outs"].sum())
    return {
        "doses_last_24h": doses,
        "sites_open_now": int(activity["open_now"].sum()),
        "sites_silent_now": int(activity["silent"].sum()),
        "silent_site_hours": silent_hours,
        "wastage_rate_30d": None if pd.isna(rate) else rate,
        "stock_outs_now": outs,
        "site_products_active": active,
    }


cached_figures = memoize_derived(figures)


def summary(province: str, wall_clock: datetime, silent_hours: int) -> dict[str, Any]:
    """The summary document for a scope ("" = the whole country, already checked against
    the user) at `wall_clock` (naive local time, to the minute)."""
    now, live = throughput.reference_time(data.latest_hour(), wall_clock)
    sample = data.sample()
    return {
        "as_of": now.replace(tzinfo=LOCAL_ZONE).isoformat(),
        "live": live,
        "scope": province or "national",
        **cached_figures(province, now, silent_hours),
        "sample_fraction": sample.fraction,
        "simulated": sample.simulated,
    }


def requested_scope(args: Any) -> str:
    """The scope of this request: the user's province for a provincial user (asking for
    another one is refused), the one asked for or the whole country for a national user."""
    own = auth.scope()
    asked = args.get("province")
    if not asked or asked == own:
        return own
    if asked not in province_names("vi"):
        raise SummaryError(400, "unknown province code", "province")
    if own:
        raise SummaryError(403, "this province is outside your scope", "province")
    return str(asked)


def _answer(document: dict[str, Any], status: int = 200) -> flask.Response:
    response = flask.jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def view() -> flask.Response:
    """``GET /internal/api/v1/summary[?province=<code>]`` (the guard has checked the login)."""
    try:
        province = requested_scope(flask.request.args)
        document = summary(province, local_now(), current_services().settings.silent_site_hours)
    except SummaryError as error:
        refused = {"error": error.message}
        if error.parameter:
            refused["parameter"] = error.parameter
        return _answer(refused, error.status)
    except DataUnavailableError:
        response = _answer(
            {"error": "the data warehouse cannot be reached; retry later"}, status=503
        )
        response.headers["Retry-After"] = "30"
        return response
    document["stale"] = is_stale()
    return _answer(document)
