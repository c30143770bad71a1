-- The batch of check-ins in etl_ops_raw into vax.checkins, the CCCD replaced by its citizen
-- key (keyed SipHash-128, as for doses). Parameters: db (Identifier), k0, k1 (UInt64).
INSERT INTO {db:Identifier}.checkins (checkin_id, citizen_key, site_id, scanned_at, change_seq)
SELECT row_id, lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), citizen_id))), site_id,
       at_1, change_seq
FROM {db:Identifier}.etl_ops_raw
