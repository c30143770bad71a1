-- The citizen key and phone hash of a typed-in CCCD and phone, made exactly as the ETL makes
-- them when it loads identities (etl/sql/check_batch.sql: keyed SipHash-128 with the two
-- halves of VAX_PSEUDONYM_KEY from etl.files.pseudonym_parts). A test loads a file drop
-- through the ETL and finds the person with this statement.
-- Parameters: k0 (UInt64), k1 (UInt64), citizen_id (String), phone (String).
SELECT
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), {citizen_id:String}))) AS citizen_key,
    if({phone:String} = '', '',
       lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), concat('phone:', {phone:String}))))) AS phone_hash
