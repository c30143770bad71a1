-- doses_current: exactly one row per live dose (latest version, voided doses excluded).
--
-- Public contract (docs/warehouse.md): other tools read this view.
-- How it is queried: one person's doses (WHERE citizen_key = … AND dose_id IN the
-- citizen_doses index for that key, both primary-key reads), or scans by analysts; counts
-- over many doses should use the aggregates (coverage_daily, site_hourly) instead. FINAL
-- collapses each cancelled state with its cancel row at query time, leaving the +1 row of
-- the latest state; voided states are filtered out. It reads the ledger itself (on a
-- cluster, across the shards).

CREATE OR REPLACE VIEW {{ table('doses_current') }} {{ on_cluster }} AS
SELECT
    dose_id,
    version,
    citizen_key,
    birth_year,
    sex,
    province_code,
    site_id,
    vaccine_code,
    lot_number,
    dose_number,
    administered_at,
    recorded_at,
    source
FROM {{ table('dose_ledger') }} FINAL
WHERE sign = 1 AND status = 'valid';
