-- The latest local hour with doses anywhere, as local wall-clock text ('' when none): "now"
-- for a campaign that has stopped reporting, and the stamp of the throughput page.
-- Parameters: db (Identifier).
SELECT if(count() = 0, '', toString(max(hour))) AS hour
FROM {db:Identifier}.site_hourly
