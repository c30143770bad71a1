"""The dashboard pages and their routes: each module has ``NAME``, ``PATH`` and
``build(context) -> Page`` (see :mod:`dashboards.view`); :data:`PAGES` and :data:`BY_NAME`
are the one list of them (the navigation, the page callback, the CSV exports, the memo).

Not a ``use_pages`` app: Dash's page registry is global to the process and belongs to the
portal; this app routes its three pages itself (:func:`dashboards.routes.render`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dashboards.pages import quality, stock, throughput
from dashboards.view import Context, Page

#: the first page, and where the brand links to
HOME: Final = throughput.PATH
#: path → (nav text key, page name), in the navigation's order
PAGES: Final[dict[str, tuple[str, str]]] = {
    throughput.PATH: ("nav.throughput", throughput.NAME),
    stock.PATH: ("nav.stock", stock.NAME),
    quality.PATH: ("nav.quality", quality.NAME),
}
#: page name → its build
BY_NAME: Final[dict[str, Callable[[Context], Page]]] = {
    throughput.NAME: throughput.build,
    stock.NAME: stock.build,
    quality.NAME: quality.build,
}
#: the pages that read the wall clock (the others are memoized without it)
CLOCKED: Final = frozenset({quality.NAME})
