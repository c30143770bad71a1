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
-- Filled by a materialized view from dose_ledger, in (dose_id, sign) order within each
-- insert: a +1 row is the dose's new state and replaces the stored one; a -1 row (the
-- cancel of the state it repeats) stores that state as void, and the +1 that follows it in
-- the same insert, if any, replaces it. So after every insert a dose's row is its live state,
-- or a void when nothing of it is live — as doses_current has it. The ledger stays the
-- source of truth: recovery after an unclean stop applies the interrupted batch here again
-- (warehouse.ledger.HEALED). Existing states are copied in once below (FINAL: the live rows).
--
-- Like identity_kv (0016), complete only with one replica per shard (docs/scaling.md).

CREATE TABLE IF NOT EXISTS {{ local('dose_state_kv') }} {{ on_cluster }}
(
    dose_id         String,
    version         UInt32,
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
ENGINE = EmbeddedRocksDB
PRIMARY KEY dose_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{ local('dose_state_kv_mv') }} {{ on_cluster }}
TO {{ local('dose_state_kv') }} AS
SELECT dose_id, version, if(sign = 1, status, 'void') AS status, citizen_key, birth_year, sex,
       province_code, site_id, vaccine_code, lot_number, dose_number, administered_at,
       recorded_at, source
FROM {{ local('dose_ledger') }}
ORDER BY dose_id, sign;

{{ distributed('dose_state_kv', 'cityHash64(citizen_key)') }}

INSERT INTO {{ local('dose_state_kv') }}
SELECT dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
       vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {{ local('dose_ledger') }} FINAL
WHERE sign = 1;
