-- Stage the batch's valid rows as dose states (citizen key instead of the CCCD; times are
-- Asia/Ho_Chi_Minh instants). Parameters: db, checked (Identifier: the batch's etl_checked table), source (String).
INSERT INTO {db:Identifier}.ledger_stage
    (dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT
    dose_id,
    assumeNotNull(version),
    status,
    citizen_key,
    toUInt16(toYear(assumeNotNull(date_of_birth))),
    sex,
    province_code,
    site_id,
    vaccine_code,
    lot_number,
    assumeNotNull(dose_number),
    assumeNotNull(administered_at),
    now64(3, 'Asia/Ho_Chi_Minh'),
    {source:String}
FROM {db:Identifier}.{checked:Identifier}
WHERE reason = ''
