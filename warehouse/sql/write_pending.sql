-- The planned batch as signed rows into ledger_pending: for each 'new' or 'changed' dose a
-- +1 row with the winning state, and for each 'changed' dose a -1 row repeating the stored
-- state. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.ledger_pending
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT dose_id, version, toInt8(1), status, citizen_key, birth_year, sex, province_code,
       site_id, vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.ledger_plan
WHERE outcome IN ('new', 'changed')
UNION ALL
SELECT dose_id, stored_version, toInt8(-1), stored_status, stored_citizen_key,
       stored_birth_year, stored_sex, stored_province_code, stored_site_id,
       stored_vaccine_code, stored_lot_number, stored_dose_number, stored_administered_at,
       stored_recorded_at, stored_source
FROM {db:Identifier}.ledger_plan
WHERE outcome = 'changed'
SETTINGS async_insert = 0, insert_deduplicate = 0
