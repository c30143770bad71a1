-- site_hourly recomputed from dose_ledger on the (hour, site) cells the pending batch
-- touches: the difference is inserted where it is not zero. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.site_hourly (hour, province_code, site_id, doses)
WITH touched AS
(
    SELECT DISTINCT toStartOfHour(administered_at) AS hour, site_id
    FROM {db:Identifier}.ledger_pending
)
SELECT hour, province_code, site_id, sum(doses) AS delta
FROM
(
    SELECT toStartOfHour(administered_at) AS hour, province_code, site_id,
           toInt64(sign) AS doses
    FROM {db:Identifier}.dose_ledger
    WHERE status = 'valid'
      -- whole cells, and only the ledger's partitions the batch reaches
      AND toStartOfHour(administered_at) BETWEEN (SELECT min(hour) FROM touched) AND (SELECT max(hour) FROM touched)
      AND (toStartOfHour(administered_at), site_id) IN (SELECT hour, site_id FROM touched)
    UNION ALL
    SELECT hour, province_code, site_id, -doses
    FROM {db:Identifier}.site_hourly
    WHERE (hour, site_id) IN (SELECT hour, site_id FROM touched)
)
GROUP BY hour, province_code, site_id
HAVING delta != 0
