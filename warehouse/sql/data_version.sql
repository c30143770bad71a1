-- The data version: milliseconds since the epoch of the latest ETL commit (0 when none),
-- and the number of commits. Caches key on it, so a new load invalidates them at once.
-- Parameters: db (Identifier).
SELECT toUnixTimestamp64Milli(max(committed_at)) AS version, count() AS commits
FROM {db:Identifier}.etl_checkpoints
