"""Built pages, memoized on the data version (:func:`web.cache.memoize_derived`): a page
costs its reads and pandas work once per data version, scope, language and "now" (to the
minute). Its tables feed the CSV exports (:func:`built`); its components, as Dash's JSON,
feed the page callback (:func:`body`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final

import plotly.utils

from dashboards.pages import BY_NAME, CLOCKED
from dashboards.view import Context, Page
from web.cache import memoize_derived, peek_derived

#: the cache audience of the dashboards (:func:`web.cache.use_audience`): they see the
#: data version their own warmer published (:mod:`dashboards.warm`)
AUDIENCE: Final = "dashboards"


def keyed(name: str, context: Context) -> Context:
    """`context` as page `name` is memoized under: only the pages that read the wall clock
    (the ETL lag) keep it, so a stopped campaign's other pages stay cached."""
    return context if name in CLOCKED else dataclasses.replace(context, clock=None)


@memoize_derived
def _built(name: str, context: Context) -> Page:
    return BY_NAME[name](context)


def built(name: str, context: Context) -> Page:
    """The page `name` for `context`, its components and its tables."""
    return _built(name, keyed(name, context))


@memoize_derived
def _body_json(name: str, context: Context) -> str:
    return json.dumps(_built(name, context).body, cls=plotly.utils.PlotlyJSONEncoder)


def body(name: str, context: Context) -> list[Any]:
    """The page's components as Dash's JSON (plain lists and dicts), memoized as one
    string: a cache hit costs a ``json.loads``, not the unpickling of thousands of
    component objects."""
    parts: list[Any] = json.loads(_body_json(name, keyed(name, context)))
    return parts


def ready_body(name: str, context: Context) -> list[Any] | None:
    """:func:`body` if it is cached at this data version, else None (nothing computed)."""
    boxed = peek_derived(_body_json, name, keyed(name, context))
    return None if boxed is None else list(json.loads(boxed[0]))
