-- dose_state_kv: the current state of every dose, by dose_id, as key-value gets for the
-- certificate lookup.
--
-- How it is queried: a person's dose_ids from the citizen index (citizen_doses), then their
-- states here, one statement per lookup. Read from dose_ledger (ORDER BY dose_id) the same
-- states cost a granule of 8192 rows × 15 columns in every active part per dose, then a
-- collapse of the signed rows: about two thirds of a lookup's server time at 50 M doses
-- (bench/certificates_lookup.py). EmbeddedRocksDB answers a PRIMARY KEY IN (…) with point
-- gets, and an insert replaces the row of its key.
--
-- Its columns are the ledger's state columns (no sign, no loaded_at). Filled by a
-- materialized view from dose_ledger (views/dose_state_kv_mv.sql), in (dose_id, sign) order
-- within each insert: a +1 row is the dose's new state and replaces the stored one; a -1
-- row (the cancel of the state it repeats) stores that state as void, and the +1 that
-- follows it in the same insert, if any, replaces it. So after every insert a dose's row is its live state,
-- or a void when nothing of it is live — as doses_current has it. The ledger stays the
-- source of truth: recovery after an unclean stop applies the interrupted batch here again
-- (warehouse.ledger.HEALED). Existing states are copied in once below (FINAL: the live rows).
--
-- Like identity_kv (0016), complete only with one replica per shard (docs/scaling.md).

CREATE TABLE IF NOT EXISTS {{ local('dose_state_kv') }} {{ on_cluster }}
ENGINE = EmbeddedRocksDB
PRIMARY KEY dose_id
EMPTY AS SELECT * EXCEPT (sign, loaded_at) FROM {{ local('dose_ledger') }};

{{ distributed('dose_state_kv', 'cityHash64(citizen_key)') }}

INSERT INTO {{ local('dose_state_kv') }}
SELECT * EXCEPT (sign, loaded_at) FROM {{ local('dose_ledger') }} FINAL WHERE sign = 1;
