-- identity_kv: the certificate lookup's identity reads, as key-value gets.
--
-- How it is queried: only by citizen_key, one key per statement (the lookup's code request
-- and its confirm step), 2 reads per lookup. In citizen_identity (ReplacingMergeTree,
-- ORDER BY citizen_key) each read decompresses a granule of 8192 rows in every active part
-- and picks the latest row: 8–11 ms per read at 20 M people, most of a lookup's server
-- time (bench/certificates_lookup.py). EmbeddedRocksDB answers a PRIMARY KEY equality with a
-- point get, and an insert replaces the row of its key, so the table holds exactly the
-- latest details per person without FINAL or ORDER BY … LIMIT 1.
--
-- Filled by a materialized view (views/identity_kv_mv.sql) from citizen_identity (which
-- stays the restricted source of truth; the ETL writes there only), so every insert path —
-- ETL batches, replays, repairs — reaches it. Its columns are citizen_identity's. Inserts land in batch order, each with one row per person, and a later batch
-- is a later load: "the row loaded last wins", as before. Existing identities are copied
-- in once below (FINAL: one row per person).
--
-- Single node only as a complete copy: on a cluster the view fires on the replica that
-- takes the insert, and RocksDB tables do not replicate, so another replica's copy misses
-- those rows (docs/scaling.md says how lookups are served there).

CREATE TABLE IF NOT EXISTS {{ local('identity_kv') }} {{ on_cluster }}
ENGINE = EmbeddedRocksDB
PRIMARY KEY citizen_key
EMPTY AS SELECT * FROM {{ local('citizen_identity') }};

{{ distributed('identity_kv', 'cityHash64(citizen_key)') }}

INSERT INTO {{ local('identity_kv') }}
SELECT * FROM {{ local('citizen_identity') }} FINAL;
