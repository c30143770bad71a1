-- One person's current dose states: the dose_ids the citizen index (citizen_doses) holds for
-- the key, read from dose_state_kv by point gets (schema 0017). warehouse/citizens.py keeps
-- the valid ones still this person's. One thread: an index read and a few gets. For one key
-- the equality costs about 1.5 ms less than the set of citizens_dose_states.sql.
-- Parameters: db (Identifier), citizen_key (String, 32 hex digits).
SELECT dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
       vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.dose_state_kv
WHERE dose_id IN (
    SELECT dose_id FROM {db:Identifier}.citizen_doses
    WHERE citizen_key = unhex({citizen_key:String})
)
SETTINGS max_threads = 1
