"""The dashboard pages: each module has ``build(context) -> Page`` (see :mod:`dashboards.view`)."""
