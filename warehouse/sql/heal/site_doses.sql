-- site_doses recomputed from dose_ledger for the sites of the pending batch: the
-- difference of the signed count, with the ledger's latest hour (a max: adding it again
-- changes nothing), inserted where either differs. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.site_doses (province_code, site_id, doses, last_hour)
WITH touched AS
(
    SELECT DISTINCT site_id FROM {db:Identifier}.ledger_pending
)
SELECT province_code, site_id, sum(doses) AS delta, max(last_hour) AS latest
FROM
(
    SELECT province_code, site_id, toInt64(sign) AS doses,
           toStartOfHour(administered_at) AS last_hour, 1 AS from_ledger
    FROM {db:Identifier}.dose_ledger
    WHERE status = 'valid' AND site_id IN (SELECT site_id FROM touched)
    UNION ALL
    SELECT province_code, site_id, -doses, last_hour, 0
    FROM {db:Identifier}.site_doses
    WHERE site_id IN (SELECT site_id FROM touched)
)
GROUP BY province_code, site_id
HAVING delta != 0
    OR maxIf(last_hour, from_ledger = 1) != maxIf(last_hour, from_ledger = 0)
