-- etl_raw_checked: each raw row of etl_raw with its parsed values and the first rule it
-- breaks (`reason`, '' when none; `detail` names the field or value). The one place for the
-- validation rules: a new rule or reject reason is a new branch of `problem` here (and of
-- `detail` when it names a value). Reasons: missing_field, malformed_citizen_id,
-- citizen_id_mismatch (century/sex digit or year vs the person), invalid_sex,
-- unparseable_date, unknown_province, dose_number_out_of_range, unknown_vaccine,
-- unparseable_time, future_time, invalid_version, invalid_status. The first missing field
-- is found by a multiIf, and the reject record is built only for refused rows.

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

-- etl_checked and etl_checked_next: etl_raw_checked evaluated once per batch (etl/sql/
-- check_batch.sql), with the citizen key and the phone hash computed there and without the
-- raw CCCD and phone; rejects, identity, staging and the reason counts all read it instead
-- of evaluating the rules four times. Two of them, so that the next batch is checked into one
-- while this one is written from the other (etl.batch.load_batches alternates them). Memory
-- scratch of the one loader, emptied once its batch is written: shaped by the view, so they
-- are re-created with it (a Memory table holds nothing across a restart anyway).

DROP TABLE IF EXISTS {{ db }}.etl_checked_next {{ on_cluster }} SYNC;

DROP TABLE IF EXISTS {{ db }}.etl_checked {{ on_cluster }} SYNC;

CREATE TABLE {{ db }}.etl_checked {{ on_cluster }}
ENGINE = Memory
EMPTY AS
SELECT
    * EXCEPT (citizen_id, phone),
    '' AS citizen_key,
    '' AS phone_hash
FROM {{ db }}.etl_raw_checked;

-- etl_checked_next: the second of the two, a Memory scratch copy of etl_checked's structure.

CREATE TABLE {{ db }}.etl_checked_next {{ on_cluster }} AS {{ db }}.etl_checked;
