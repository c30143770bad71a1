"""The ETL: sources (registry stream, file drops) → transform → load → checkpoint.
Built in the ETL issue; the warehouse side it writes through is `warehouse.ledger`.
"""
