-- ledger_pending: the signed rows of the batch being written, kept on disk until the ledger
-- insert that carries them has returned.
--
-- Why: a signed insert into dose_ledger fans out to its materialized views (citizen index,
-- coverage_daily, site_hourly), and a process killed in the middle can leave the ledger's
-- part committed and some views' parts not. A replay that planned again would find the
-- states stored, write nothing, and the aggregates would miss the batch for good. So the
-- loader first writes the planned rows here, then inserts them into dose_ledger with a
-- deduplication token derived from their content, then empties this table. If it finds
-- rows here when it starts a batch, the previous insert did not return: it inserts them
-- again with the same token — the ledger drops the duplicate block, and each view, which
-- deduplicates on its own (deduplicate_blocks_in_dependent_materialized_views), takes only
-- what it missed. How it is queried: read whole, in (dose_id, sign) order so that a replay
-- forms the same blocks; one writer, not replicated (on a cluster, the loader's node).

CREATE TABLE IF NOT EXISTS {{ db }}.ledger_pending {{ on_cluster }}
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
    source          LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (dose_id, sign);
