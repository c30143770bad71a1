-- Synthetic doses for the portal benchmark, written straight into the dose ledger as new
-- states (sign +1, version 1: what write_states writes for a dose seen for the first time), so
-- the materialized views fill citizen_doses, coverage_daily and site_hourly as in
-- production. Provinces follow their population (cumulative weights), two doses per citizen
-- on average, days spread evenly over the campaign.
-- Parameters: db (Identifier), start (UInt64), count (UInt64), provinces (Array(String)),
-- weights (Array(Float64), cumulative, ending at 1), vaccines (Array(String)), days (UInt32).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
WITH
    arrayElement({provinces:Array(String)},
        arrayFirstIndex(w -> w >= (cityHash64(number, 1) % 1000000) / 1000000.0,
                        {weights:Array(Float64)})) AS province,
    cityHash64(number, 3) % 100 AS kind,
    toDateTime64('2021-03-08 07:00:00', 3, 'Asia/Ho_Chi_Minh')
        + toIntervalDay(cityHash64(number, 4) % {days:UInt32})
        + toIntervalSecond(cityHash64(number, 5) % 39600) AS given
SELECT
    concat('bench-', leftPad(toString(number), 12, '0')),
    1,
    1,
    'valid',
    hex(cityHash64(intDiv(number, 2))),
    toUInt16(1940 + cityHash64(number, 6) % 70),
    if(number % 2 = 0, 'F', 'M'),
    province,
    concat('S', province, '-', toString(cityHash64(number, 7) % 170)),
    arrayElement({vaccines:Array(String)}, 1 + cityHash64(number, 8) % length({vaccines:Array(String)})),
    'BENCH',
    toUInt8(multiIf(kind < 45, 1, kind < 85, 2, kind < 98, 3, 4)),
    given,
    given,
    'bench'
FROM numbers({start:UInt64}, {count:UInt64})
