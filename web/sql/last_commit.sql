-- When the ETL last committed data (NULL when never): the "updated at" of the data stamp.
-- Parameters: db (Identifier).
SELECT max(committed_at) AS committed_at, count() AS commits
FROM {db:Identifier}.etl_checkpoints
