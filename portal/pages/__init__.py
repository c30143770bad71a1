"""Portal pages: one module per page (``dash.register_page`` + ``layout``)."""
