-- dose_revisions: the doses' superseded versions, what a dose said before a correction or
-- a void replaced it, streamed from the registry's append-only table dose_versions (written
-- by its trigger on doses, registry migration 0005) by etl/operations.py with its own
-- checkpoint (source registry:dose_versions), like the sites.
--
-- For the figures "as published on" a day X: the doses known at X are the current valid
-- states recorded by X plus the versions here that were valid, recorded on or before X and
-- superseded after X (recorded_at <= X < superseded_at). The ledger keeps only each dose's
-- latest version, and a registry seeded before the ETL first ran never showed it the others.
--
-- Nothing personal: no citizen (the registry's table has none). The province is as the
-- registry reported it (the ledger's checks are the reader's to apply).
--
-- How it is queried: for a day X, the versions valid then (recorded_at <= X <
-- superseded_at, status 'valid'), counted like the doses by day given, province, dose number
-- and product, a scan of the whole table (a few thousand rows per million doses, not
-- partitioned). A version is written once and never changed, so the table holds one row per
-- (dose_id, version), the key a replayed batch repeats: ReplacingMergeTree by change_seq,
-- ORDER BY (dose_id, version), keeps one.

CREATE TABLE IF NOT EXISTS {{ local('dose_revisions') }} {{ on_cluster }}
(
    dose_id         String,
    version         UInt32,
    status          LowCardinality(String),
    province_code   LowCardinality(String),
    site_id         LowCardinality(String),
    vaccine_code    LowCardinality(String),
    dose_number     UInt8,
    administered_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    recorded_at     DateTime64(3, 'Asia/Ho_Chi_Minh'),
    superseded_at   DateTime64(3, 'Asia/Ho_Chi_Minh'),
    change_seq      UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY (dose_id, version)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('dose_revisions', 'cityHash64(dose_id)') }}
