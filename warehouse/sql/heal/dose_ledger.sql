-- The rows of ledger_pending that dose_ledger does not hold. Once the pending batch is in,
-- each of its +1 rows leaves its (dose_id, version) at a net sign of 1 and each -1 row
-- leaves the cancelled (dose_id, version) at 0; a row whose pair is not there is missing
-- (its insert was cut off after the engine had already noted its block as written, so the
-- replay with the same token was dropped). Parameters: db (Identifier).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT p.dose_id, p.version, p.sign, p.status, p.citizen_key, p.birth_year, p.sex,
       p.province_code, p.site_id, p.vaccine_code, p.lot_number, p.dose_number,
       p.administered_at, p.recorded_at, p.source
FROM {db:Identifier}.ledger_pending AS p
LEFT JOIN
(
    SELECT dose_id, version, sum(sign) AS net
    FROM {db:Identifier}.dose_ledger
    WHERE dose_id IN (SELECT dose_id FROM {db:Identifier}.ledger_pending)
    GROUP BY dose_id, version
) AS l ON l.dose_id = p.dose_id AND l.version = p.version
WHERE (p.sign = 1 AND l.net = 0) OR (p.sign = -1 AND l.net = 1)
ORDER BY p.dose_id, p.sign
