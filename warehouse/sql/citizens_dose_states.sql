-- Current dose states of several people at once (citizen_dose_states.sql is one person's):
-- the dose_ids the citizen index (citizen_doses) holds for their keys, read from
-- dose_state_kv by point gets (schema 0017). warehouse/citizens.py keeps, for each person,
-- the valid ones still theirs. One thread: an index read and a few gets. The keys go in as a subquery: `IN arrayMap(…)` over the
-- parameter would not use the index (a scan of every part), the subquery does. The cast to
-- FixedString(16) matters: a set of plain Strings misses every key whose last byte is zero.
-- Parameters: db (Identifier), citizen_keys (Array(String), 32 hex digits each).
SELECT dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
       vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.dose_state_kv
WHERE dose_id IN (
    SELECT dose_id FROM {db:Identifier}.citizen_doses
    WHERE citizen_key IN (SELECT toFixedString(unhex(arrayJoin({citizen_keys:Array(String)})), 16))
)
SETTINGS max_threads = 1
