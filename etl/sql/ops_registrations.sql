-- The batch of registrations in etl_ops_raw into vax.registrations, the CCCD replaced by its
-- citizen key (keyed SipHash-128, as for doses). Parameters: db (Identifier), k0, k1 (UInt64).
INSERT INTO {db:Identifier}.registrations
    (registration_id, citizen_key, site_id, slot_start, registered_at, status, change_seq)
SELECT row_id, lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), citizen_id))), site_id,
       at_1, assumeNotNull(at_2), status, change_seq
FROM {db:Identifier}.etl_ops_raw
