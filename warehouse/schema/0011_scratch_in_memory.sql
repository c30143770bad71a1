-- The loader's scratch tables move to memory, and its plan gets cheaper (measured: see
-- docs/benchmarks.md, "File-drop loads").
--
-- etl_raw, ledger_stage and ledger_plan hold one batch each and are emptied before the next:
-- they need neither sorting, compression, parts nor disk, so they become Memory tables.
-- A crash loses them, which costs nothing: the batch is replayed from its source (the
-- checkpoint is written after the batch's facts). A side benefit: a batch's raw CCCDs
-- (etl_raw) are never written to disk at all.
--
-- etl_checked (new) is etl_raw_checked evaluated once per batch, with the citizen key and
-- the phone hash computed there, and without the raw CCCD and phone: rejects, identity,
-- staging and the reason counts all read it instead of evaluating the rules four times.
--
-- ledger_stage_plan is rewritten to the same rules, with the work only where it is needed:
-- a dose_id staged once is its own winner; only dose_ids staged more than once (rare: a
-- batch holding a dose and its correction, or duplicates) go through the per-version
-- agreement check, the highest clean version and the join (warehouse.ledger.
-- plan_ledger_rows stays the reference the tests compare it with).

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

-- The rules, as in 0010, computed more cheaply: the first missing field by a multiIf
-- instead of an array of tuples per row, and the reject record only for refused rows.

CREATE OR REPLACE VIEW {{ db }}.etl_raw_checked {{ on_cluster }} AS
WITH
    trimBoth(ifNull(raw_dose_id, '')) AS id,
    trimBoth(ifNull(raw_citizen_id, '')) AS cccd,
    trimBoth(ifNull(raw_full_name, '')) AS name,
    trimBoth(ifNull(raw_date_of_birth, '')) AS born_text,
    upper(trimBoth(ifNull(raw_sex, ''))) AS sex_code,
    trimBoth(ifNull(raw_province_code, '')) AS province,
    trimBoth(ifNull(raw_site_id, '')) AS site,
    trimBoth(ifNull(raw_vaccine_code, '')) AS product,
    trimBoth(ifNull(raw_lot_number, '')) AS lot,
    trimBoth(ifNull(raw_dose_number, '')) AS dose_text,
    trimBoth(ifNull(raw_administered_at, '')) AS at_text,
    -- a calendar date written YYYY-MM-DD that round-trips (no lenient guesses)
    if(toString(toDate32OrNull(born_text)) = born_text, toDate32OrNull(born_text), NULL) AS born,
    toUInt8OrNull(dose_text) AS dose_no,
    toUInt32OrNull(trimBoth(ifNull(nullIf(raw_version, ''), '1'))) AS ver,
    lower(trimBoth(ifNull(nullIf(raw_status, ''), 'valid'))) AS state,
    parseDateTime64BestEffortOrNull(at_text, 3, 'Asia/Ho_Chi_Minh') AS at,
    multiIf(
        empty(id), 'dose_id', empty(cccd), 'citizen_id', empty(name), 'full_name',
        empty(born_text), 'date_of_birth', empty(sex_code), 'sex',
        empty(province), 'province_code', empty(site), 'site_id',
        empty(product), 'vaccine_code', empty(lot), 'lot_number',
        empty(dose_text), 'dose_number', empty(at_text), 'administered_at',
        ''
    ) AS missing,
    if(toYear(born) < 2000, if(sex_code = 'F', 1, 0), if(sex_code = 'F', 3, 2)) AS century_sex,
    multiIf(
        missing != '', 'missing_field',
        NOT match(cccd, '^[0-9]{12}$'), 'malformed_citizen_id',
        sex_code NOT IN ('M', 'F', 'O'), 'invalid_sex',
        born IS NULL, 'unparseable_date',
        toUInt8(substring(cccd, 5, 2)) != modulo(toYear(born), 100)
            OR (sex_code != 'O' AND toUInt8(substring(cccd, 4, 1)) != century_sex),
            'citizen_id_mismatch',
        province NOT IN (SELECT code FROM {{ db }}.etl_reference WHERE kind = 'province'),
            'unknown_province',
        dose_no IS NULL OR dose_no NOT BETWEEN 1 AND 5, 'dose_number_out_of_range',
        product NOT IN (SELECT code FROM {{ db }}.etl_reference WHERE kind = 'vaccine'),
            'unknown_vaccine',
        at IS NULL, 'unparseable_time',
        at > now64(3) + INTERVAL 5 MINUTE, 'future_time',
        ver IS NULL OR ver < 1, 'invalid_version',
        state NOT IN ('valid', 'void'), 'invalid_status',
        ''
    ) AS problem
SELECT
    position,
    id AS dose_id,
    cccd AS citizen_id,
    name AS full_name,
    born AS date_of_birth,
    sex_code AS sex,
    trimBoth(ifNull(raw_phone, '')) AS phone,
    province AS province_code,
    site AS site_id,
    product AS vaccine_code,
    lot AS lot_number,
    dose_no AS dose_number,
    ver AS version,
    state AS status,
    at AS administered_at,
    problem AS reason,
    multiIf(
        problem = 'missing_field', missing,
        problem = 'unknown_province', province,
        problem = 'unknown_vaccine', product,
        problem = 'dose_number_out_of_range', dose_text,
        problem IN ('unparseable_time', 'future_time'), at_text,
        problem = 'invalid_status', state,
        ''
    ) AS detail,
    if(problem = '', '', toJSONString(map(
        'dose_id', id, 'version', ifNull(raw_version, ''), 'status', ifNull(raw_status, ''),
        'province_code', province, 'site_id', site, 'vaccine_code', product,
        'lot_number', lot, 'dose_number', dose_text, 'administered_at', at_text
    ))) AS record
FROM (
    SELECT
        position,
        dose_id AS raw_dose_id, version AS raw_version, status AS raw_status,
        citizen_id AS raw_citizen_id, full_name AS raw_full_name,
        date_of_birth AS raw_date_of_birth, sex AS raw_sex, phone AS raw_phone,
        province_code AS raw_province_code, site_id AS raw_site_id,
        vaccine_code AS raw_vaccine_code, lot_number AS raw_lot_number,
        dose_number AS raw_dose_number, administered_at AS raw_administered_at
    FROM {{ db }}.etl_raw
);

CREATE TABLE IF NOT EXISTS {{ db }}.etl_checked {{ on_cluster }}
ENGINE = Memory
EMPTY AS
SELECT
    * EXCEPT (citizen_id, phone),
    '' AS citizen_key,
    '' AS phone_hash
FROM {{ db }}.etl_raw_checked;

DROP TABLE IF EXISTS {{ db }}.ledger_plan {{ on_cluster }} SYNC;

DROP TABLE IF EXISTS {{ db }}.ledger_stage {{ on_cluster }} SYNC;

CREATE TABLE {{ db }}.ledger_stage {{ on_cluster }}
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
ENGINE = Memory;

CREATE OR REPLACE VIEW {{ db }}.ledger_stage_plan {{ on_cluster }} AS
WITH
    staged AS (
        SELECT *,
               cityHash64(toString(status), citizen_key, birth_year, toString(sex),
                          toString(province_code), toString(site_id), toString(vaccine_code),
                          lot_number, dose_number, administered_at) AS content
        FROM {{ db }}.ledger_stage
    ),
    repeated AS (
        SELECT dose_id FROM {{ db }}.ledger_stage GROUP BY dose_id HAVING count() > 1
    ),
    clean_versions AS (
        SELECT dose_id, version FROM staged
        WHERE dose_id IN repeated
        GROUP BY dose_id, version
        HAVING min(content) = max(content)
    ),
    winners AS (
        SELECT dose_id, max(version) AS version FROM clean_versions GROUP BY dose_id
    ),
    incoming AS (
        SELECT * FROM staged WHERE dose_id NOT IN repeated
        UNION ALL
        SELECT * FROM (
            SELECT s.* FROM staged AS s
            INNER JOIN winners AS w ON s.dose_id = w.dose_id AND s.version = w.version
            ORDER BY s.dose_id
            LIMIT 1 BY s.dose_id
        )
    ),
    stored AS (
        SELECT dose_id, version AS stored_version, status AS stored_status,
               citizen_key AS stored_citizen_key, birth_year AS stored_birth_year,
               sex AS stored_sex, province_code AS stored_province_code,
               site_id AS stored_site_id, vaccine_code AS stored_vaccine_code,
               lot_number AS stored_lot_number, dose_number AS stored_dose_number,
               administered_at AS stored_administered_at, recorded_at AS stored_recorded_at,
               source AS stored_source,
               cityHash64(toString(status), citizen_key, birth_year, toString(sex),
                          toString(province_code), toString(site_id), toString(vaccine_code),
                          lot_number, dose_number, administered_at) AS stored_content
        FROM {{ table('dose_ledger') }} FINAL
        WHERE sign = 1 AND dose_id IN (SELECT dose_id FROM {{ db }}.ledger_stage)
    )
SELECT
    i.*,
    st.* EXCEPT (dose_id),
    multiIf(
        st.stored_version = 0, 'new',
        i.version > st.stored_version, 'changed',
        i.version = st.stored_version AND i.content != st.stored_content, 'conflict',
        'stale'
    ) AS outcome
FROM incoming AS i
LEFT JOIN stored AS st ON st.dose_id = i.dose_id
SETTINGS join_use_nulls = 0;

CREATE TABLE {{ db }}.ledger_plan {{ on_cluster }}
ENGINE = Memory
EMPTY AS SELECT * FROM {{ db }}.ledger_stage_plan;
