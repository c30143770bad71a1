-- etl_raw: one batch of input exactly as read (every field as text), the ETL's scratch.
--
-- How it is queried: the loader truncates it, inserts a batch with each row's position in
-- its source, then validates, pseudonymises and stages it in single INSERT … SELECT
-- statements (etl/sql/). ORDER BY position: rejects are reported by position. Not
-- partitioned, not replicated: one writer's working table, emptied before every batch. It
-- holds raw identity fields only for the life of one batch.

CREATE TABLE IF NOT EXISTS {{ db }}.etl_raw {{ on_cluster }}
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
ENGINE = MergeTree
ORDER BY position;

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
-- loader refreshes it from geo/ and the product list before it validates. Tiny, read whole.

CREATE TABLE IF NOT EXISTS {{ db }}.etl_reference {{ on_cluster }}
(
    kind LowCardinality(String),
    code String
)
ENGINE = MergeTree
ORDER BY (kind, code);

-- etl_raw_checked: each raw row with its parsed values and the first rule it breaks
-- (`reason`, '' when none; `detail` names the field or value). One place for the rules,
-- read by the reject, identity and staging statements. Reasons: missing_field,
-- malformed_citizen_id, citizen_id_mismatch (century/sex digit or year vs the person),
-- invalid_sex, unparseable_date, unknown_province, dose_number_out_of_range,
-- unknown_vaccine, unparseable_time, future_time, invalid_version, invalid_status.

CREATE VIEW IF NOT EXISTS {{ db }}.etl_raw_checked {{ on_cluster }} AS
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
    [('dose_id', id), ('citizen_id', cccd), ('full_name', name), ('date_of_birth', born_text),
     ('sex', sex_code), ('province_code', province), ('site_id', site),
     ('vaccine_code', product), ('lot_number', lot), ('dose_number', dose_text),
     ('administered_at', at_text)] AS required,
    arrayFirst(field -> empty(field.2), required).1 AS missing,
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
    toJSONString(map(
        'dose_id', id, 'version', ifNull(raw_version, ''), 'status', ifNull(raw_status, ''),
        'province_code', province, 'site_id', site, 'vaccine_code', product,
        'lot_number', lot, 'dose_number', dose_text, 'administered_at', at_text
    )) AS record
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
