-- coverage_known_mv: feeds coverage_known (0023) on every insert into dose_ledger, counting
-- sum(sign) of valid states per local day of administration, local day of the state's
-- recorded_at (known_day), province, dose number, vaccine and age group. The age-group rule
-- is coverage_daily_mv's. Recovery after an unclean stop recomputes the same cells from the
-- ledger (warehouse/sql/heal/coverage_known.sql): change both together.
-- Re-created when this text changes; coverage_known keeps its rows (a change to what the
-- view writes needs a numbered file that rebuilds the table from the ledger).

DROP VIEW IF EXISTS {{ local('coverage_known_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('coverage_known_mv') }} {{ on_cluster }}
TO {{ local('coverage_known') }} AS
WITH toInt32(toYear(administered_at)) - toInt32(birth_year) AS age
SELECT
    toDate(administered_at) AS day,
    toDate(recorded_at) AS known_day,
    province_code,
    dose_number,
    vaccine_code,
    multiIf(
        birth_year = 0, 'unknown',
        age < 12, '0-11',
        age < 18, '12-17',
        age < 50, '18-49',
        age < 65, '50-64',
        '65+'
    ) AS age_group,
    sum(sign) AS doses
FROM {{ local('dose_ledger') }}
WHERE status = 'valid'
GROUP BY day, known_day, province_code, dose_number, vaccine_code, age_group;
