-- dose_visits_mv: feeds dose_visits (0015) with the ledger's signed rows of valid states, no
-- aggregation on insert (heal twin: warehouse/sql/heal/dose_visits.sql).
-- Re-created when this text changes; dose_visits keeps its rows.

DROP VIEW IF EXISTS {{ local('dose_visits_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('dose_visits_mv') }} {{ on_cluster }}
TO {{ local('dose_visits') }} AS
SELECT
    toDate(administered_at) AS day,
    province_code,
    site_id,
    citizen_key,
    administered_at,
    toInt32(sign) AS doses
FROM {{ local('dose_ledger') }}
WHERE status = 'valid';
