"""The internal dashboards for Ministry officials, served at ``/internal/``.
Built in the dashboards issue; nothing here yet.
"""
