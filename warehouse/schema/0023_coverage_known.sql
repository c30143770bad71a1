-- coverage_known: doses per local day of administration x local day the state was recorded
-- (known_day = toDate(recorded_at)) x province x dose number x vaccine x age group. For the
-- states the ETL loads, recorded_at is the time it staged them (etl/sql/stage_valid.sql),
-- so known_day is the day the warehouse loaded the state, not the registry's own day.
--
-- What the platform knew on a past day X, in part: summed over known_day <= X, a cell is
-- the doses whose CURRENT state is valid and was recorded on or before X (called A(X)). A
-- dose recorded late (given on d0, recorded on d5) counts for day d0 from X = d5 on; a
-- correction recorded on d2 moves the dose to its new state's cell from X = d2 on (its
-- earlier state's -1 cancels the +1 in the earlier state's own known_day); a void removes
-- the dose for every X. What the table cannot give is the earlier state that was current
-- on X when it was superseded after X (a dose corrected after X counts from its new
-- recorded_at only): the ledger keeps no superseded states once merged, so that part comes
-- from the registry's history, not from here. Summed over every known_day it is
-- coverage_daily (0007).
--
-- Fed, like coverage_daily, by a materialized view (views/coverage_known_mv.sql) on every
-- insert into dose_ledger: sum(sign) of valid states, the age-group rule of
-- coverage_daily_mv. A cancel row carries the recorded_at of the state it cancels, so it
-- lands in the same known_day as that state's +1 and they net to zero there. Recovery
-- after an unclean stop recomputes the batch's cells from the ledger
-- (warehouse/sql/heal/coverage_known.sql).
-- SummingMergeTree merges lazily: always read with sum(doses) … GROUP BY.
-- How it is queried: "as known on day X" (portal/sql/province_daily_known.sql): every row
-- with known_day <= X, summed per (day, province_code, …), hence ORDER BY (known_day, day,
-- province_code, dose_number, vaccine_code, age_group): a past X is a prefix range of the
-- primary key, and live loads (recorded today) append at its end. Most doses are recorded
-- on the day they are given, so it holds about one to two rows per coverage_daily row; no
-- partitions, like coverage_daily.

CREATE TABLE IF NOT EXISTS {{ local('coverage_known') }} {{ on_cluster }}
(
    day           Date,
    known_day     Date,
    province_code LowCardinality(String),
    dose_number   UInt8,
    vaccine_code  LowCardinality(String),
    age_group     LowCardinality(String),
    doses         Int64
)
ENGINE = {{ engine('SummingMergeTree', 'doses') }}
ORDER BY (known_day, day, province_code, dose_number, vaccine_code, age_group)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('coverage_known', 'rand()') }}

-- Filled from the ledger already stored: its signed rows of valid states, as the view will
-- count them (pairs a merge removed summed to zero in their cell). Emptied first and not
-- deduplicated, so a run cut off before this file was recorded fills it again the same way
-- (nothing else writes it before its view is created, after the numbered files).
TRUNCATE TABLE IF EXISTS {{ local('coverage_known') }};

INSERT INTO {{ local('coverage_known') }}
    (day, known_day, province_code, dose_number, vaccine_code, age_group, doses)
SETTINGS insert_deduplicate = 0
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
    sum(toInt64(sign)) AS doses
FROM {{ local('dose_ledger') }}
WHERE status = 'valid'
GROUP BY day, known_day, province_code, dose_number, vaccine_code, age_group
HAVING doses != 0;
