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
-- forms the same blocks; one writer, not replicated (on a cluster, the loader's node). Its
-- columns are the ledger's without loaded_at.

CREATE TABLE IF NOT EXISTS {{ db }}.ledger_pending {{ on_cluster }}
ENGINE = MergeTree
ORDER BY (dose_id, sign)
EMPTY AS SELECT * EXCEPT (loaded_at) FROM {{ local('dose_ledger') }};
