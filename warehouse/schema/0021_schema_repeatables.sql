-- schema_repeatables: the record of applied repeatable files (warehouse/schema/views/), one
-- row per file: its name and the checksum of the text last applied.
--
-- How it is queried: `python -m warehouse migrate` reads it whole (a row per file) after the
-- numbered files and applies again each file whose text changed. ORDER BY name: the only
-- lookup. ReplacingMergeTree by applied_at, so re-recording a file leaves its latest row.
-- No partitioning: the table stays tiny.

CREATE TABLE IF NOT EXISTS {{ local('schema_repeatables') }} {{ on_cluster }}
(
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'Asia/Ho_Chi_Minh')
)
ENGINE = {{ engine('ReplacingMergeTree', 'applied_at') }}
ORDER BY name;

{{ distributed('schema_repeatables', 'cityHash64(name)') }}
