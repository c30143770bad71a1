-- dose_state_kv brought to the pending batch's outcome: its rows applied again, in the
-- order the view applies them ((dose_id, sign): a cancel stores the old state as void, the
-- new state then replaces it), so each dose of the batch ends in its planned state whatever
-- parts the interrupted insert left. Parameters: db (Identifier).
INSERT INTO {db:Identifier}.dose_state_kv
    (dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT dose_id, version, if(sign = 1, status, 'void'), citizen_key, birth_year, sex,
       province_code, site_id, vaccine_code, lot_number, dose_number, administered_at,
       recorded_at, source
FROM {db:Identifier}.ledger_pending
ORDER BY dose_id, sign
