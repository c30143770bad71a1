"""The public portal (Dash, multi-page): coverage map, trends, rankings, open data,
certificate lookup and verification. Served at ``/``.
"""
