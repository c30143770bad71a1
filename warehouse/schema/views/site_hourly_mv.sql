-- site_hourly_mv: feeds site_hourly (0008) on every insert into dose_ledger, sum(sign) of
-- valid states per local hour and site (heal twin: warehouse/sql/heal/site_hourly.sql).
-- Re-created when this text changes; site_hourly keeps its rows.

DROP VIEW IF EXISTS {{ local('site_hourly_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('site_hourly_mv') }} {{ on_cluster }}
TO {{ local('site_hourly') }} AS
SELECT
    toStartOfHour(administered_at) AS hour,
    province_code,
    site_id,
    sum(sign) AS doses
FROM {{ local('dose_ledger') }}
WHERE status = 'valid'
GROUP BY hour, province_code, site_id;
