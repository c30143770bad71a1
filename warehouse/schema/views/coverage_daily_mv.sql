-- coverage_daily_mv: feeds coverage_daily (0007) on every insert into dose_ledger, counting
-- sum(sign) of valid states per local day, province, dose number, vaccine and age group.
-- Age is the age reached in the year of the dose ('unknown' without a birth year); groups
-- follow the campaign's phases. Recovery after an unclean stop recomputes the same cells
-- from the ledger (warehouse/sql/heal/coverage_daily.sql): change both together.
-- Re-created when this text changes; coverage_daily keeps its rows (a change to what the
-- view writes needs a numbered file that rebuilds the table from the ledger).

DROP VIEW IF EXISTS {{ local('coverage_daily_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('coverage_daily_mv') }} {{ on_cluster }}
TO {{ local('coverage_daily') }} AS
WITH toInt32(toYear(administered_at)) - toInt32(birth_year) AS age
SELECT
    toDate(administered_at) AS day,
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
GROUP BY day, province_code, dose_number, vaccine_code, age_group;
