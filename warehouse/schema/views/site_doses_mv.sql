-- site_doses_mv: feeds site_doses (0015): per site, sum(sign) of valid states and the
-- latest hour of any valid state written (heal twin: warehouse/sql/heal/site_doses.sql).
-- Re-created when this text changes; site_doses keeps its rows.

DROP VIEW IF EXISTS {{ local('site_doses_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('site_doses_mv') }} {{ on_cluster }}
TO {{ local('site_doses') }} AS
SELECT
    province_code,
    site_id,
    sum(toInt64(sign)) AS doses,
    max(toStartOfHour(administered_at)) AS last_hour
FROM {{ local('dose_ledger') }}
WHERE status = 'valid'
GROUP BY province_code, site_id;
