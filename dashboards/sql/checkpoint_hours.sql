-- ETL work per local hour in [start, stop): batches, rows read/loaded/rejected, seconds
-- spent in batches (rows/s = rows_read / seconds).
-- Parameters: db (Identifier), start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT
    toStartOfHour(committed_at) AS hour,
    count() AS batches,
    sum(rows_read) AS rows_read,
    sum(rows_loaded) AS rows_loaded,
    sum(rows_rejected) AS rows_rejected,
    sum(seconds) AS seconds
FROM {db:Identifier}.etl_checkpoints
WHERE committed_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND committed_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
GROUP BY hour
ORDER BY hour
