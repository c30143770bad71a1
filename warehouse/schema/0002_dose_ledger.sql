-- dose_ledger: every state a dose record has had, as signed rows (the dose facts).
--
-- A dose record (dose_id) has versions; the highest version is its current state, and a
-- state may be `void`. The loader (warehouse/ledger.py) writes, for each new state, a +1 row
-- for the new state and a -1 row that cancels the previous state with exactly the previous
-- values. Sums of `sign` therefore count each dose once in its latest state whatever the
-- number of corrections, so the materialized aggregates below stay exact without FINAL.
-- VersionedCollapsingMergeTree(sign, version) drops cancelled pairs at merge time and
-- `FINAL` does so at query time (that is how vax.doses_current reads it).
--
-- How it is queried:
--   * by citizen (certificate status and lookup): WHERE citizen_key = … -> ORDER BY leads
--     with citizen_key, which is also the cluster's sharding key, so all doses of a person
--     live on one shard and in one granule range;
--   * by dose_id (the loader's lookup of the current state of the doses in a batch):
--     served by the bloom-filter skip index on dose_id;
--   * scans by time for backfills and reconciliation -> PARTITION BY month of
--     administration (~10 M rows a month at national scale; a cancel row copies the
--     previous administered_at, so it always lands in the partition of the row it cancels).
-- Insert deduplication is on (non_replicated_deduplication_window): a retried batch with
-- the same token lands once.

CREATE TABLE IF NOT EXISTS {{ local('dose_ledger') }} {{ on_cluster }}
(
    dose_id         String,
    version         UInt32,
    sign            Int8,
    status          Enum8('valid' = 1, 'void' = 2),
    citizen_key     String,
    birth_year      UInt16,
    sex             Enum8('M' = 1, 'F' = 2, 'O' = 3),
    province_code   LowCardinality(String),
    site_id         LowCardinality(String),
    vaccine_code    LowCardinality(String),
    lot_number      String,
    dose_number     UInt8,
    administered_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    recorded_at     DateTime64(3, 'Asia/Ho_Chi_Minh'),
    source          LowCardinality(String),
    loaded_at       DateTime64(3, 'Asia/Ho_Chi_Minh') DEFAULT now64(3),
    INDEX dose_id_bloom dose_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ engine('VersionedCollapsingMergeTree', 'sign', 'version') }}
PARTITION BY toYYYYMM(administered_at)
ORDER BY (citizen_key, dose_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('dose_ledger', 'cityHash64(citizen_key)') }}
