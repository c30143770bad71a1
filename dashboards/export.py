"""``/internal/export/<page>/<table>.csv``: one table of a page, every row (the page shows
the first rows), the frame the table shows, behind the same guard and scope as the page."""

from __future__ import annotations

import flask

from dashboards.context import ScopeDeniedError, context_for
from dashboards.memo import built
from dashboards.pages import BY_NAME


def export(page: str, key: str) -> flask.Response:
    """The CSV of table `key` of page `page` for the logged-in user and the URL query."""
    if page not in BY_NAME:
        flask.abort(404)
    query = {name: flask.request.args.getlist(name) for name in flask.request.args}
    try:
        context = context_for(query)
    except ScopeDeniedError:
        flask.abort(403)
    table = built(page, context).tables.get(key)
    if table is None:
        flask.abort(404)
    name = f"vaxviet-{page}-{key}-{context.province or 'VN'}-{context.now:%Y%m%d-%H%M}.csv"
    response = flask.Response(table.csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
