-- etl_checkpoints: one row per committed batch, per source (the ETL's memory).
--
-- The stream resumes from the highest committed `position` of its source (the registry's
-- change sequence; for a file drop, the number of rows consumed of that file, whose source
-- name carries the file's content hash). A row is written only after the batch's facts are
-- acknowledged, so a crash between the two replays the batch, and the ledger's state lookup
-- plus insert deduplication make the replay a no-op. Also the pipeline-health history
-- (rows/s, lag) and the platform's data version: the time of the latest commit.
-- How it is queried: "latest per source" and "history of one source", hence
-- ORDER BY (source, committed_at); small (one row per batch), so not partitioned.

CREATE TABLE IF NOT EXISTS {{ local('etl_checkpoints') }} {{ on_cluster }}
(
    source        LowCardinality(String),
    position      UInt64,
    batch_token   String,
    rows_read     UInt64,
    rows_loaded   UInt64,
    rows_rejected UInt64,
    seconds       Float64,
    committed_at  DateTime64(3, 'Asia/Ho_Chi_Minh') DEFAULT now64(3)
)
ENGINE = {{ engine('MergeTree') }}
ORDER BY (source, committed_at)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('etl_checkpoints', 'cityHash64(source)') }}
