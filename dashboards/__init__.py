"""The internal dashboards for Ministry officials, served at ``/internal/``: the app is put
together by :func:`dashboards.app.create_dashboards` (docs/dashboards.md, "Where things are").
"""
