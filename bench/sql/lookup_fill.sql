-- Synthetic doses for the lookup benchmark, written straight into the dose ledger as new
-- states (sign +1, version 1: what write_states writes for a dose seen for the first time),
-- so the materialized views fill citizen_doses and the aggregates as in production. Numbers
-- go in blocks of five: person 2b has doses 1–2 and person 2b+1 doses 1–3, 60 days apart.
-- Citizen keys are made as the ETL makes them (keyed SipHash-128 of a 12-digit CCCD), so the
-- lookup finds people by the CCCD they type.
-- Parameters: db (Identifier), k0 (UInt64), k1 (UInt64), start (UInt64), count (UInt64),
-- vaccines (Array(String)).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
WITH
    intDiv(number, 5) AS block,
    number % 5 AS slot,
    2 * block + (slot >= 2) AS person,
    toUInt8(if(slot < 2, slot + 1, slot - 1)) AS dose_number,
    toDateTime64('2021-07-01 08:00:00', 3, 'Asia/Ho_Chi_Minh')
        + toIntervalDay(60 * dose_number + person % 300) AS given
SELECT
    concat('L', toString(number)),
    1,
    1,
    'valid',
    lower(hex(sipHash128Keyed(({k0:UInt64}, {k1:UInt64}), leftPad(toString(100000000000 + person), 12, '0')))),
    toUInt16(1940 + person % 70),
    if(person % 2 = 0, 'F', 'M'),
    '79',
    concat('79-', leftPad(toString(person % 500), 4, '0')),
    arrayElement({vaccines:Array(String)}, 1 + cityHash64(person) % length({vaccines:Array(String)})),
    concat('LOT', toString(person % 97)),
    dose_number,
    given,
    given,
    'bench'
FROM numbers({start:UInt64}, {count:UInt64})
