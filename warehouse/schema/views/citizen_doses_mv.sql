-- citizen_doses_mv: feeds the citizen index citizen_doses (0012) from the ledger's +1 rows,
-- the citizen key as its 16 raw bytes (heal twin: warehouse/sql/heal/citizen_doses.sql).
-- Re-created when this text changes; citizen_doses keeps its rows.

DROP VIEW IF EXISTS {{ local('citizen_doses_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('citizen_doses_mv') }} {{ on_cluster }}
TO {{ local('citizen_doses') }} AS
SELECT unhex(citizen_key) AS citizen_key, dose_id
FROM {{ local('dose_ledger') }}
WHERE sign = 1;
