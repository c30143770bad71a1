"""The web cache both apps share: data functions memoized on the data version, with jittered
expiry (the public portal's figures, the internal dashboards' figures and login throttle).

* Backend from ``VAX_CACHE_URL``: ``simple://`` (in-process, the default) or ``redis://…``
  (shared by every worker in production). Keys are prefixed ``vaxviet:``.
* Every memoized value is keyed on the warehouse it came from and the **data version** (the
  latest ETL commit, :func:`warehouse.status.data_version`), so a new load makes every old
  entry unreachable at once; expiry only bounds memory and is jittered (+0–20 %) so entries
  written together do not all expire together.
* The data version itself is cached for :data:`VERSION_SECONDS`, so a page view costs no
  warehouse query at all when its figures are cached.
* With a warmer running (:class:`web.warm.VersionWarmer`: :mod:`portal.warm`, :mod:`dashboards.warm`, started by ``python -m vaxviet serve``), visitors
  get the **published** version: the newest one whose pages the warmer has finished
  rendering. A new ETL commit reaches visitors only once its home page is built, so no
  visitor pays the cold queries. The warmer re-publishes every few seconds; if it stops,
  the publication expires after :data:`PUBLISHED_SECONDS` and visitors get the newest
  version directly again. Each **audience** has its own publication: the public portal's
  and the internal dashboards' (:func:`use_audience`), whose warmers build different
  pages, so each moves to a new version once its own pages are built.
* When the warehouse cannot be reached, the last value each function returned (kept under
  a version-less key) is served instead, and :func:`is_stale` tells the page to show a
  banner. Only aggregates are cached: no personal data ever goes in.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, ParamSpec, TypeVar
from urllib.parse import urlsplit

import flask
from flask_caching import Cache

from vaxviet.services import current_services
from warehouse.client import Warehouse
from warehouse.status import data_version as read_data_version

log = logging.getLogger("vaxviet.web")

P = ParamSpec("P")
R = TypeVar("R")

#: the one cache object; bound to each Flask server by :func:`init_cache`
CACHE: Final = Cache()
KEY_PREFIX: Final = "vaxviet:"
#: how long a memoized value lives (before jitter); the data version invalidates sooner
DATA_SECONDS: Final = 3600
JITTER: Final = 0.2
#: how long the data version is trusted before the warehouse is asked again
VERSION_SECONDS: Final = 5
#: the fallback copies live this long (a day): long enough to ride out an outage
LAST_SECONDS: Final = 86_400
#: how long a warmer's publication stands without being renewed
PUBLISHED_SECONDS: Final = 60
#: the public portal's audience (the default); see :func:`use_audience`
PORTAL_AUDIENCE: Final = "portal"

_warming = threading.local()  # set on the warmer's thread: it reads the newest version


class DataUnavailableError(Exception):
    """The warehouse cannot be reached and nothing is cached to show instead."""


def cache_config(url: str) -> dict[str, Any]:
    """flask-caching settings for a ``VAX_CACHE_URL``; ValueError for an unknown scheme."""
    scheme = urlsplit(url).scheme.lower()
    common = {"CACHE_KEY_PREFIX": KEY_PREFIX, "CACHE_DEFAULT_TIMEOUT": DATA_SECONDS}
    if scheme == "simple":
        return {**common, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
    if scheme in ("redis", "rediss"):
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    raise ValueError(f"VAX_CACHE_URL must be simple:// or redis://host:port/db, not {url!r}")


def init_cache(server: flask.Flask, url: str) -> None:
    CACHE.init_app(server, config=cache_config(url))


def jittered(seconds: int) -> int:
    return int(seconds * (1 + random.uniform(0, JITTER)))  # noqa: S311 (not security)


def _source(warehouse: Warehouse | None) -> str:
    services = current_services()
    described = warehouse.describe() if warehouse else services.settings.warehouse_dsn
    return hashlib.sha256(described.encode()).hexdigest()[:12]


def _mark_stale() -> None:
    if flask.has_request_context() or flask.has_app_context():
        flask.g.portal_stale = True


def is_stale() -> bool:
    """Whether this request was answered (in part) from fallback copies."""
    return bool(flask.g.get("portal_stale", False))


def _warehouse() -> Warehouse:
    warehouse = current_services().warehouse
    if warehouse is None:
        raise DataUnavailableError(current_services().warehouse_error or "warehouse not connected")
    return warehouse


@contextmanager
def newest_version() -> Iterator[None]:
    """Within this block, on this thread, :func:`data_version` is the newest version even
    when a warmer has published an older one (the warmer renders the new pages so)."""
    _warming.active = True
    try:
        yield
    finally:
        _warming.active = False


def use_audience(name: str) -> None:
    """Within this request (or app context), :func:`data_version` is the version published
    for audience `name` (``portal`` unless said otherwise: the internal dashboards say
    ``dashboards`` for their paths)."""
    flask.g.cache_audience = name


def audience() -> str:
    """The audience of this request: whose published version it reads."""
    if flask.has_app_context():
        return str(flask.g.get("cache_audience", PORTAL_AUDIENCE))
    return PORTAL_AUDIENCE


def publish(version: str, to: str = PORTAL_AUDIENCE) -> None:
    """Make `version` the one audience `to` sees (its warmer calls this once its pages are
    built, and again every few seconds while it runs)."""
    source = _source(current_services().warehouse)
    CACHE.set(f"published:{to}:{source}", version, timeout=PUBLISHED_SECONDS)


def data_version() -> str:
    """The version this request's audience sees: the one its warmer published while it
    runs, else the newest (see :func:`newest_version`)."""
    if not getattr(_warming, "active", False):
        source = _source(current_services().warehouse)
        published = CACHE.get(f"published:{audience()}:{source}")
        if published is not None:
            return str(published)
    return newest_data_version()


def newest_data_version() -> str:
    """The newest data version, from the cache when asked within the last few seconds; the
    last known one (and a stale mark) when the warehouse cannot be reached."""
    services = current_services()
    source = _source(services.warehouse)
    fresh_key, last_key = f"version:{source}", f"last:version:{source}"
    version = CACHE.get(fresh_key)
    if version is not None:
        return str(version)
    try:
        version = read_data_version(_warehouse())
    except Exception as error:
        last = CACHE.get(last_key)
        _mark_stale()
        if last is None:
            raise DataUnavailableError(str(error)) from error
        log.warning("warehouse unreachable, serving cached data version %s: %s", last, error)
        return str(last)
    CACHE.set(fresh_key, version, timeout=VERSION_SECONDS)
    CACHE.set(last_key, version, timeout=LAST_SECONDS)
    return version


def _arguments_key(arguments: tuple[Any, ...]) -> str:
    return hashlib.sha256(repr(arguments).encode()).hexdigest()[:16]


def memoize_data(function: Callable[..., R]) -> Callable[..., R]:
    """Memoize `function(warehouse, *args)` as ``f(*args)`` on (warehouse, data version,
    args); args must have a stable ``repr`` (dates, strings, tuples)."""
    name = function.__qualname__

    @functools.wraps(function)
    def cached(*arguments: Any) -> R:
        services = current_services()
        source = _source(services.warehouse)
        version = data_version()
        tail = f"{name}:{source}:{_arguments_key(arguments)}"
        key, last_key = f"data:{version}:{tail}", f"last:{tail}"
        boxed = CACHE.get(key)  # values travel in a 1-tuple, so a cached None is a hit
        if boxed is not None:
            return boxed[0]
        try:
            value = function(_warehouse(), *arguments)
        except Exception as error:
            last = CACHE.get(last_key)
            _mark_stale()
            if last is None:
                raise DataUnavailableError(f"{name}: {error}") from error
            log.warning("warehouse unreachable, serving the last %s: %s", name, error)
            return last[0]
        CACHE.set(key, (value,), timeout=jittered(DATA_SECONDS))
        CACHE.set(last_key, (value,), timeout=LAST_SECONDS)
        return value

    return cached


def memoize_derived(function: Callable[P, R]) -> Callable[P, R]:
    """Memoize a pure function of cached data on (data version, args): no warehouse read of
    its own, so it never goes stale by itself."""
    name = function.__qualname__

    @functools.wraps(function)
    def cached(*arguments: P.args, **keywords: P.kwargs) -> R:
        key = _derived_key(name, arguments, keywords)
        boxed = CACHE.get(key)
        if boxed is not None:
            return boxed[0]
        value = function(*arguments, **keywords)
        CACHE.set(key, (value,), timeout=jittered(DATA_SECONDS))
        return value

    return cached


def _derived_key(name: str, arguments: tuple[Any, ...], keywords: dict[str, Any]) -> str:
    source = _source(current_services().warehouse)
    return f"derived:{data_version()}:{name}:{source}:{_arguments_key((arguments, keywords))}"


def peek_derived(memoized: Callable[..., R], *arguments: Any, **keywords: Any) -> tuple[R] | None:
    """What the :func:`memoize_derived` function `memoized` holds for these arguments at
    this data version, in a 1-tuple, without computing it (None: not cached)."""
    boxed = CACHE.get(_derived_key(memoized.__qualname__, arguments, keywords))
    return None if boxed is None else (boxed[0],)
