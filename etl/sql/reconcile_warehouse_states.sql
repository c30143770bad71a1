-- The net states of some doses (every source, every status): each distinct state with the
-- sum of its signs, when not zero (normally one state per dose, net 1).
-- Parameters: db (Identifier), ids (Array(String)).
SELECT dose_id, version, toString(status) AS status, citizen_key, birth_year,
       toString(sex) AS sex, province_code, site_id, vaccine_code, lot_number, dose_number,
       administered_at, recorded_at, source, sum(sign) AS net
FROM {db:Identifier}.dose_ledger
WHERE dose_id IN {ids:Array(String)}
GROUP BY dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
         vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
HAVING net != 0
