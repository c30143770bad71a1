-- The three tables that hold a row for every dose or person (the ledger, dose_visits and the
-- restricted citizen_identity) merge their parts in wider steps: merge_selector_base 20
-- instead of ClickHouse's 5, so the Simple merge selector waits for about 20 parts of a size
-- before merging them rather than about 5. Each row is then rewritten roughly log20(n) instead
-- of log5(n) times as the table grows to n parts (for the campaign's 266 M doses in parts of
-- 1 M: about 2 times instead of 3.5), and merges are a large share of what a large load pays beyond
-- its inserts.
--
-- Measured side by side with the default (a national day in one Parquet drop): see
-- docs/etl.md. The cost is more parts at a time (up to about 20 per level instead of 5):
-- reads of these tables touch each part's index. The
-- certificate lookup reads citizen_doses and the RocksDB copies, which keep their default;
-- the small aggregate tables keep theirs too (their merges cost little and fewer parts
-- serve the dashboards better).

ALTER TABLE {{ local('dose_ledger') }} {{ on_cluster }} MODIFY SETTING merge_selector_base = 20;

ALTER TABLE {{ local('dose_visits') }} {{ on_cluster }} MODIFY SETTING merge_selector_base = 20;

ALTER TABLE {{ local('citizen_identity') }} {{ on_cluster }} MODIFY SETTING merge_selector_base = 20;
