-- citizen_doses: a narrow index from citizen to dose_id, in place of the full by-citizen copy
-- of the ledger (doses_by_citizen, 0003).
--
-- Why: the copy repeated every ledger column sorted by a 32-character text key, and writing
-- it was half the cost of every ledger insert (measured per 1 M new doses: 5.7–6.3 CPU-s
-- with the copy, 3.0–3.3 with this index; docs/benchmarks.md). How it is queried: one
-- person's dose_ids by citizen_key (ORDER BY citizen_key, the 16 raw bytes of the key),
-- then their states by dose_id from dose_ledger (its primary key) — both primary-key
-- reads: `SELECT … FROM vax.doses_current WHERE citizen_key = {key:String} AND dose_id IN
-- (SELECT dose_id FROM vax.citizen_doses WHERE citizen_key = unhex({key:String}))`. Rows come only from +1
-- ledger rows; a correction that moves a dose to another person leaves the old pair, which
-- the state read then filters out (the index only narrows the search). ReplacingMergeTree:
-- the same pair written twice is kept once. Sharded like the ledger, by citizen. Fed by
-- views/citizen_doses_mv.sql; the ledger already stored is copied in once below.

CREATE TABLE IF NOT EXISTS {{ local('citizen_doses') }} {{ on_cluster }}
(
    citizen_key FixedString(16),
    dose_id     String
)
ENGINE = {{ engine('ReplacingMergeTree') }}
ORDER BY (citizen_key, dose_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('citizen_doses', 'cityHash64(lower(hex(citizen_key)))') }}

INSERT INTO {{ local('citizen_doses') }}
SELECT unhex(citizen_key), dose_id FROM {{ local('dose_ledger') }} WHERE sign = 1;

-- The by-citizen copy and its view go: doses_current (views/doses_current.sql) reads the
-- ledger itself.

DROP VIEW IF EXISTS {{ local('doses_by_citizen_mv') }} {{ on_cluster }} SYNC;

DROP TABLE IF EXISTS {{ table('doses_by_citizen') }} {{ on_cluster }} SYNC;

DROP TABLE IF EXISTS {{ local('doses_by_citizen') }} {{ on_cluster }} SYNC;
