-- Write the staged batch as signed rows: for each 'changed' dose a -1 row repeating the
-- stored state, and for each 'new' or 'changed' dose a +1 row with the winning state.
-- No deduplication token: the rows depend on what is stored, so a replay computes other
-- rows (none, if the first attempt landed); identical blocks are still dropped by the
-- table's content-hash deduplication. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT
    dose_id,
    row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12,
    row.13, row.14
FROM {db:Identifier}.ledger_plan
ARRAY JOIN arrayConcat(
    if(outcome = 'changed',
       [tuple(stored_version, toInt8(-1), toString(stored_status), stored_citizen_key,
              stored_birth_year, toString(stored_sex), toString(stored_province_code),
              toString(stored_site_id), toString(stored_vaccine_code), stored_lot_number,
              stored_dose_number, stored_administered_at, stored_recorded_at,
              toString(stored_source))],
       []),
    [tuple(version, toInt8(1), toString(status), citizen_key, birth_year, toString(sex),
           toString(province_code), toString(site_id), toString(vaccine_code), lot_number,
           dose_number, administered_at, recorded_at, toString(source))]
) AS row
WHERE outcome IN ('new', 'changed')
SETTINGS async_insert = 0, insert_deduplicate = 1, parallel_view_processing = 1,
         deduplicate_blocks_in_dependent_materialized_views = 1,
         distributed_foreground_insert = 1
