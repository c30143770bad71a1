-- etl_rejects: input rows the ETL refused, with a machine-readable reason (dead letters).
--
-- Queried by the data-quality dashboard: counts by reason and province over time, and a few
-- examples per reason; by engineers: "what happened to source position X". ORDER BY
-- (source, position, reason) makes that lookup direct and lets ReplacingMergeTree fold a
-- replayed batch's rejects into one row each (insert deduplication already drops exact
-- replays). `record` holds the refused input with identity fields (CCCD, name, date of
-- birth, phone) removed by the ETL: this table carries no personal data. Not partitioned:
-- rejects are a small fraction of input and must fold across time.

CREATE TABLE IF NOT EXISTS {{ local('etl_rejects') }} {{ on_cluster }}
(
    source        LowCardinality(String),
    position      String,
    dose_id       String,
    province_code LowCardinality(String),
    reason        LowCardinality(String),
    detail        String,
    record        String,
    batch_token   String,
    rejected_at   DateTime64(3, 'Asia/Ho_Chi_Minh') DEFAULT now64(3)
)
ENGINE = {{ engine('ReplacingMergeTree', 'rejected_at') }}
ORDER BY (source, position, reason)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('etl_rejects', 'cityHash64(source, position)') }}
