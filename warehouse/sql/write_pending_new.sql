-- A staged batch of new doses, each staged once (stage_all_new.sql), into ledger_pending as
-- +1 rows: what write_pending.sql gives such a batch from the plan, without the plan.
-- Parameters: db (Identifier).
INSERT INTO {db:Identifier}.ledger_pending
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT dose_id, version, toInt8(1), status, citizen_key, birth_year, sex, province_code,
       site_id, vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.ledger_stage
SETTINGS async_insert = 0, insert_deduplicate = 0
