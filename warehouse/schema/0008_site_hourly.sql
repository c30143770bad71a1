-- site_hourly: doses per vaccination site x local hour (throughput).
--
-- Fed like coverage_daily, by views/site_hourly_mv.sql (sum of sign over valid states,
-- exact under corrections and voids); read with sum(doses) … GROUP BY. Queried per
-- province and site over a time window (today's hours, an hour x weekday heatmap, silent
-- sites), hence ORDER BY (province_code, site_id, hour) and monthly partitions (~8,000
-- sites x ~10 open hours a day at national scale: a few million rows a month; old months
-- can be dropped or moved whole).

CREATE TABLE IF NOT EXISTS {{ local('site_hourly') }} {{ on_cluster }}
(
    hour          DateTime('Asia/Ho_Chi_Minh'),
    province_code LowCardinality(String),
    site_id       LowCardinality(String),
    doses         Int64
)
ENGINE = {{ engine('SummingMergeTree', 'doses') }}
PARTITION BY toYYYYMM(hour)
ORDER BY (province_code, site_id, hour)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('site_hourly', 'rand()') }}
