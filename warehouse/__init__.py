"""The warehouse: the only code that reaches ClickHouse (embedded chDB or a server).

``client`` opens it from a DSN, ``ddl`` renders the numbered schema files (single node or
cluster), ``migrate`` applies them, ``ledger`` writes dose states so counts stay exact under
corrections and voids, ``status`` reports health.
"""
