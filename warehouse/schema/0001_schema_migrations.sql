-- The database, and the record of applied schema files.
--
-- How it is queried: `python -m warehouse migrate` reads this table whole (one row per
-- file, a few dozen rows) to learn which numbered files are applied and whether an
-- applied file was edited since (checksum). ORDER BY version: the only lookup. ReplacingMergeTree, so re-recording a
-- version after an interrupted run leaves one row. No partitioning: the table stays tiny.

CREATE DATABASE IF NOT EXISTS {{ db }} {{ on_cluster }};

CREATE TABLE IF NOT EXISTS {{ local('schema_migrations') }} {{ on_cluster }}
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'Asia/Ho_Chi_Minh')
)
ENGINE = {{ engine('ReplacingMergeTree', 'applied_at') }}
ORDER BY version;

{{ distributed('schema_migrations', 'version') }}
