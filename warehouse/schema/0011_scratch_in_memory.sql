-- The loader's scratch tables move to memory (measured: see docs/benchmarks.md, "File-drop
-- loads").
--
-- etl_raw and ledger_stage hold one batch each and are emptied before the next: they need
-- neither sorting, compression, parts nor disk, so they are Memory tables. A crash loses
-- them, which costs nothing: the batch is replayed from its source (the checkpoint is
-- written after the batch's facts). A side benefit: a batch's raw CCCDs (etl_raw) are never
-- written to disk at all. The other scratch tables shaped by a view (etl_checked,
-- etl_checked_next, ledger_plan) are Memory tables too, created with their views
-- (views/etl_raw_checked.sql, views/ledger_stage_plan.sql).
--
-- etl_raw: one batch of input exactly as read (every field as text) with each row's
-- position in its source; the loader validates, pseudonymises and stages it in single
-- INSERT … SELECT statements (etl/sql/), through the rules of etl_raw_checked. It holds raw
-- identity fields only for the life of one batch.

DROP TABLE IF EXISTS {{ db }}.etl_raw {{ on_cluster }} SYNC;

CREATE TABLE {{ db }}.etl_raw {{ on_cluster }}
(
    position        UInt64,
    dose_id         Nullable(String),
    version         Nullable(String),
    status          Nullable(String),
    citizen_id      Nullable(String),
    full_name       Nullable(String),
    date_of_birth   Nullable(String),
    sex             Nullable(String),
    phone           Nullable(String),
    province_code   Nullable(String),
    site_id         Nullable(String),
    vaccine_code    Nullable(String),
    lot_number      Nullable(String),
    dose_number     Nullable(String),
    administered_at Nullable(String)
)
ENGINE = Memory;

-- ledger_stage: scratch for one batch of incoming dose states (the loader's input), in
-- memory: the ledger's state columns (no sign, no loaded_at). The loader truncates it,
-- inserts a batch, then plans the signed rows through ledger_stage_plan. Not replicated: it
-- is one writer's working table on the node it talks to (on a cluster each node has its
-- own).

DROP TABLE IF EXISTS {{ db }}.ledger_stage {{ on_cluster }} SYNC;

CREATE TABLE {{ db }}.ledger_stage {{ on_cluster }}
ENGINE = Memory
EMPTY AS SELECT * EXCEPT (sign, loaded_at) FROM {{ local('dose_ledger') }};
