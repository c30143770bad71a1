-- Two narrow tables the internal dashboards read in place of scans of the ledger.
--
-- dose_visits: live doses by local day, site and citizen — "which citizens got a dose at
-- this site on this day, and when". How it is queried: the throughput page joins one day's
-- desk check-ins and registrations to that day's doses (check-in → vaccination time, the
-- registrations funnel), per province or everywhere, hence ORDER BY (day, province_code,
-- site_id, citizen_key, administered_at): a day is a contiguous range (~60 k rows at the
-- national rate) where the ledger, ordered by dose_id, made it a scan of a whole year's
-- partition. Monthly partitions, like site_hourly.
-- Fed like site_hourly, by views/dose_visits_mv.sql (the ledger's signed rows of valid
-- states, no aggregation on insert): a correction adds -1 for the old state and +1 for the new one, a void only the -1, so
-- sum(doses) per key is the number of live doses there at all times; SummingMergeTree
-- folds the rows at merge time and drops keys that net to zero. Always read with
-- sum(doses) … GROUP BY … HAVING sum(doses) > 0. No dose_id: the dashboards need the
-- citizen, site and time of each live dose, not its identity (two live doses of one
-- citizen at one site at the same instant are one row with doses = 2).
-- Sharded by citizen_key like the ledger, the check-ins and the registrations, so the
-- joins stay on one shard.

CREATE TABLE IF NOT EXISTS {{ local('dose_visits') }} {{ on_cluster }}
(
    day             Date,
    province_code   LowCardinality(String),
    site_id         LowCardinality(String),
    citizen_key     String,
    administered_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    doses           Int32
)
ENGINE = {{ engine('SummingMergeTree', 'doses') }}
PARTITION BY toYYYYMM(day)
ORDER BY (day, province_code, site_id, citizen_key, administered_at)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('dose_visits', 'cityHash64(citizen_key)') }}

INSERT INTO {{ local('dose_visits') }}
SELECT toDate(administered_at), province_code, site_id, citizen_key, administered_at, toInt32(sign)
FROM {{ local('dose_ledger') }}
WHERE status = 'valid';

-- site_doses: doses and the latest dose hour per site over the whole campaign. How it is
-- queried: the data-quality page lists the sites that doses name but the site register does
-- not know (a few hundred rows at most, read whole), where site_hourly, ordered by
-- (province_code, site_id, hour), meant scanning every site-hour of the campaign; ORDER BY
-- (province_code, site_id) is the key it is read by. Not partitioned: one row per site.
-- Fed by views/site_doses_mv.sql from the ledger's signed rows of valid states: `doses`
-- sums sign (exact under corrections and voids), `last_hour` is the latest hour of any valid state written (a
-- voided dose's hour stays "seen"). Read with sum(doses), max(last_hour) … GROUP BY.

CREATE TABLE IF NOT EXISTS {{ local('site_doses') }} {{ on_cluster }}
(
    province_code LowCardinality(String),
    site_id       LowCardinality(String),
    doses         SimpleAggregateFunction(sum, Int64),
    last_hour     SimpleAggregateFunction(max, DateTime('Asia/Ho_Chi_Minh'))
)
ENGINE = {{ engine('AggregatingMergeTree') }}
ORDER BY (province_code, site_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('site_doses', 'rand()') }}

INSERT INTO {{ local('site_doses') }}
SELECT province_code, site_id, sum(toInt64(sign)), max(toStartOfHour(administered_at))
FROM {{ local('dose_ledger') }}
WHERE status = 'valid'
GROUP BY province_code, site_id;
