-- Per ETL source: the time (ms) of its latest commit and its number of commits. A table's
-- version is made of the sources that write it (dashboards.data.tables_version), so a dose
-- commit leaves the stock figures' cache standing.
-- Parameters: db (Identifier).
SELECT source, toUnixTimestamp64Milli(max(committed_at)) AS last_ms, count() AS commits
FROM {db:Identifier}.etl_checkpoints
GROUP BY source
ORDER BY source
