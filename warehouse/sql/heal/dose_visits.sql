-- dose_visits recomputed from dose_ledger for the citizens of the pending batch (their
-- doses found through citizen_doses, healed first): the difference is inserted where it
-- is not zero. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.dose_visits
    (day, province_code, site_id, citizen_key, administered_at, doses)
WITH touched AS
(
    SELECT DISTINCT citizen_key FROM {db:Identifier}.ledger_pending
)
SELECT day, province_code, site_id, citizen_key, administered_at,
       toInt32(sum(doses)) AS delta
FROM
(
    SELECT toDate(administered_at) AS day, province_code, site_id, citizen_key,
           administered_at, toInt64(sign) AS doses
    FROM {db:Identifier}.dose_ledger
    WHERE status = 'valid'
      AND dose_id IN
      (
          SELECT dose_id FROM {db:Identifier}.citizen_doses
          WHERE citizen_key IN (SELECT unhex(citizen_key) FROM touched)
      )
      AND citizen_key IN (SELECT citizen_key FROM touched)
    UNION ALL
    SELECT day, province_code, site_id, citizen_key, administered_at, -toInt64(doses)
    FROM {db:Identifier}.dose_visits
    WHERE citizen_key IN (SELECT citizen_key FROM touched)
)
GROUP BY day, province_code, site_id, citizen_key, administered_at
HAVING delta != 0
