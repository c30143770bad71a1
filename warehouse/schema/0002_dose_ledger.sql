-- dose_ledger: every state a dose record has had, as signed rows (the dose facts).
--
-- A dose record (dose_id) has versions; the highest version is its current state, and a
-- state may be `void`. The loader (warehouse/ledger.py) writes, for each new state, a +1 row
-- for the new state and a -1 row that cancels the previous state with exactly the previous
-- values. Sums of `sign` therefore count each dose once in its latest state whatever the
-- number of corrections, so the materialized aggregates below stay exact without FINAL.
-- VersionedCollapsingMergeTree(sign, version) drops cancelled pairs at merge time and
-- `FINAL` does so at query time.
--
-- How it is queried:
--   * by dose_id: the loader looks up the current state of every dose in a batch, so
--     ORDER BY dose_id makes that a primary-key lookup (dose ids are issued in time order,
--     so a batch of new doses touches only the newest granules);
--   * by citizen: not here — doses_by_citizen (0003) holds the same signed rows ordered by
--     citizen_key, and vax.doses_current reads it;
--   * scans for backfills and reconciliation -> PARTITION BY year of administration (a cancel
--     row copies the previous administered_at, so it lands in the partition of the row it
--     cancels; years keep the partition count, and the parts FINAL must visit, small).
-- Sharded by citizen_key on a cluster, like every per-dose table, so one person's doses
-- live on one shard.
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
    loaded_at       DateTime64(3, 'Asia/Ho_Chi_Minh') DEFAULT now64(3)
)
ENGINE = {{ engine('VersionedCollapsingMergeTree', 'sign', 'version') }}
PARTITION BY toYear(administered_at)
ORDER BY dose_id
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('dose_ledger', 'cityHash64(citizen_key)') }}
