-- Per ETL source: the last checkpoint (position, time), batches and rows, and the load rate.
-- Parameters: db (Identifier).
SELECT
    source,
    max(committed_at) AS last_committed_at,
    argMax(position, committed_at) AS last_position,
    count() AS batches,
    sum(rows_read) AS rows_read,
    sum(rows_loaded) AS rows_loaded,
    sum(rows_rejected) AS rows_rejected,
    sum(seconds) AS seconds
FROM {db:Identifier}.etl_checkpoints
GROUP BY source
ORDER BY last_committed_at DESC
