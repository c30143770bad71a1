-- Identities (the restricted table the lookup reads) for persons [start, start + count) of
-- lookup_fill.sql: the same name and date of birth for everyone, a phone number of their own
-- (09 and the person's number in 8 digits: bench.certificates_lookup.phone).
-- Parameters: db (Identifier), k0 (UInt64), k1 (UInt64), start (UInt64), count (UInt64).
INSERT INTO {db:Identifier}.citizen_identity
    (citizen_key, full_name, date_of_birth, sex, phone_hash)
SELECT
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), leftPad(toString(100000000000 + number), 12, '0')))),
    'Nguyễn Văn An',
    toDate32('1980-01-02'),
    if(number % 2 = 0, 'F', 'M'),
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), concat('phone:09', leftPad(toString(number), 8, '0')))))
FROM numbers({start:UInt64}, {count:UInt64})
