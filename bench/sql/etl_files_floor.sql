-- The floor under a file-drop load (bench/etl_files.py): the drop's rows straight into the
-- dose ledger as +1 rows, so that every materialized view on it runs as in a load; only the
-- keyed hash of the CCCD is computed. No validation, no identity rows, no planning against
-- stored states, no checkpoint. `{path}` is replaced by the Parquet file's path.
-- Parameters: db (Identifier), k0, k1 (UInt64).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT
    dose_id,
    toUInt32(version),
    1,
    status,
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), citizen_id))),
    toYear(toDate(date_of_birth)),
    sex,
    province_code,
    site_id,
    vaccine_code,
    lot_number,
    toUInt8(dose_number),
    toDateTime64(administered_at, 3, 'Asia/Ho_Chi_Minh'),
    toDateTime64(administered_at, 3, 'Asia/Ho_Chi_Minh'),
    'file:floor'
FROM file('{path}', Parquet)
