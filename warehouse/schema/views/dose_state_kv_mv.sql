-- dose_state_kv_mv: writes each insert into dose_ledger to dose_state_kv (0017) in
-- (dose_id, sign) order: a +1 row is the dose's new state and replaces the stored one; a -1
-- row stores the state it cancels as void, and the +1 that follows it in the same insert,
-- if any, replaces it. So after every insert a dose's row is its live state, or a void when
-- nothing of it is live (heal twin: warehouse/sql/heal/dose_state_kv.sql).
-- Re-created when this text changes; dose_state_kv keeps its rows.

DROP VIEW IF EXISTS {{ local('dose_state_kv_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('dose_state_kv_mv') }} {{ on_cluster }}
TO {{ local('dose_state_kv') }} AS
SELECT dose_id, version, if(sign = 1, status, 'void') AS status, citizen_key, birth_year, sex,
       province_code, site_id, vaccine_code, lot_number, dose_number, administered_at,
       recorded_at, source
FROM {{ local('dose_ledger') }}
ORDER BY dose_id, sign;
