-- The current state (+1 row of the latest version, void or valid) of the given doses.
-- Parameters: db (Identifier), dose_ids (Array(String)).
SELECT
    dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
    vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.dose_ledger FINAL
WHERE dose_id IN {dose_ids:Array(String)} AND sign = 1
