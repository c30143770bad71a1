-- coverage_daily: doses per province x local day x dose number x vaccine x age group.
--
-- Fed by a materialized view (views/coverage_daily_mv.sql) on every insert into dose_ledger,
-- counting sum(sign) of valid states: a correction adds -1 for the old state and +1 for the
-- new one, a void adds only the -1, so the counts are exact at all times (rows that net to
-- zero disappear at merge).
-- SummingMergeTree merges lazily: always read with sum(doses) … GROUP BY.
-- `day` is the local (Asia/Ho_Chi_Minh) date: a dose at 23:59:59 belongs to that day.
-- How it is queried: national/provincial series and "as of day D" totals (day <= D),
-- hence ORDER BY (day, province_code, …); at most ~10 M rows for the whole campaign, so
-- no partitions.
-- People with >= 1 dose are counted as dose_number = 1. Age is the age reached in the year
-- of the dose ('unknown' without a birth year); groups follow the campaign's phases.

CREATE TABLE IF NOT EXISTS {{ local('coverage_daily') }} {{ on_cluster }}
(
    day           Date,
    province_code LowCardinality(String),
    dose_number   UInt8,
    vaccine_code  LowCardinality(String),
    age_group     LowCardinality(String),
    doses         Int64
)
ENGINE = {{ engine('SummingMergeTree', 'doses') }}
ORDER BY (day, province_code, dose_number, vaccine_code, age_group)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('coverage_daily', 'rand()') }}
