-- etl_raw, one batch of input as read, was first created here (a MergeTree); 0011 made it a
-- Memory table and creates it as it is now. The validation rules, the view etl_raw_checked
-- first defined here, are the repeatable views/etl_raw_checked.sql.

-- citizen_identity: the identity fields the certificate lookup needs, by citizen key.
--
-- Restricted: never joined into analytics, never exported. How it is queried: by
-- citizen_key (the lookup hashes the CCCD a citizen types in, with the same key), hence
-- ORDER BY citizen_key; ReplacingMergeTree keeps the latest details per person (read
-- with FINAL). The phone is kept only as a keyed hash, to check the number a code is
-- sent to.

CREATE TABLE IF NOT EXISTS {{ local('citizen_identity') }} {{ on_cluster }}
(
    citizen_key   String,
    full_name     String,
    date_of_birth Date32,
    sex           Enum8('M' = 1, 'F' = 2, 'O' = 3),
    phone_hash    String,
    updated_at    DateTime64(3, 'Asia/Ho_Chi_Minh') DEFAULT now64(3)
)
ENGINE = {{ engine('ReplacingMergeTree', 'updated_at') }}
ORDER BY citizen_key
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('citizen_identity', 'cityHash64(citizen_key)') }}

-- etl_reference: the codes input is checked against (kind 'province' or 'vaccine'); the
-- loader refreshes it from geo/ and the product list before it validates. How it is
-- queried: the rules (etl_raw_checked) read one kind's codes at a time, hence ORDER BY
-- (kind, code); tiny, read whole, not partitioned.

CREATE TABLE IF NOT EXISTS {{ db }}.etl_reference {{ on_cluster }}
(
    kind LowCardinality(String),
    code String
)
ENGINE = MergeTree
ORDER BY (kind, code);
