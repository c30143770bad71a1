-- Evaluate the rules once for the batch in etl_raw (etl_raw_checked) into etl_checked, with
-- the citizen key (keyed SipHash-128 of the CCCD, hex) and the phone's keyed hash; the raw
-- CCCD and phone stay behind in etl_raw.
-- Parameters: db, checked (Identifier: the batch's etl_checked table), k0, k1 (UInt64).
INSERT INTO {db:Identifier}.{checked:Identifier}
    (position, dose_id, full_name, date_of_birth, sex, province_code, site_id, vaccine_code,
     lot_number, dose_number, version, status, administered_at, reason, detail, record,
     citizen_key, phone_hash)
SELECT
    position, dose_id, full_name, date_of_birth, sex, province_code, site_id, vaccine_code,
    lot_number, dose_number, version, status, administered_at, reason, detail,
    record,
    if(reason = '', lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), citizen_id))), ''),
    if(reason = '' AND phone != '',
       lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), concat('phone:', phone)))), '')
FROM {db:Identifier}.etl_raw_checked
