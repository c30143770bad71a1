-- Keep the identity fields the certificate lookup needs, by citizen key (restricted table;
-- the phone only as a keyed hash).
-- Parameters: db (Identifier), k0 (UInt64), k1 (UInt64), batch (String).
INSERT INTO {db:Identifier}.citizen_identity (citizen_key, full_name, date_of_birth, sex, phone_hash)
SELECT
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), citizen_id))),
    full_name,
    assumeNotNull(date_of_birth),
    sex,
    if(phone = '', '', lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), concat('phone:', phone)))))
FROM {db:Identifier}.etl_raw_checked
WHERE reason = ''
