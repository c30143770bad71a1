-- doses_current: exactly one row per live dose (latest version, voided doses excluded).
--
-- Public contract (docs/warehouse.md): other tools read this view. FINAL collapses each
-- cancelled state with its cancel row at query time, leaving the +1 row of the latest
-- state; voided states are filtered out. Filter on citizen_key for one person (primary key)
-- or prefer the aggregates (coverage_daily, site_hourly) for counts over many doses.

CREATE VIEW IF NOT EXISTS {{ table('doses_current') }} {{ on_cluster }} AS
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
