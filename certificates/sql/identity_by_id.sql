-- The identity on record for a typed-in CCCD, with the key and the typed phone's hash made
-- in the same statement (as citizen_key.sql makes them): one round trip for a code request.
-- The key is a constant expression, so the read stays a point get in identity_kv (schema
-- 0016: the row loaded last per person, as in citizen_identity.sql). No row when nobody has
-- that CCCD.
-- Parameters: db (Identifier), k0 (UInt64), k1 (UInt64), citizen_id (String), phone (String).
WITH
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), {citizen_id:String}))) AS typed_key,
    if({phone:String} = '', '',
       lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), concat('phone:', {phone:String}))))) AS typed_phone_hash
SELECT typed_key, typed_phone_hash, full_name, date_of_birth, toString(sex) AS sex, phone_hash
FROM {db:Identifier}.identity_kv
WHERE citizen_key = typed_key
