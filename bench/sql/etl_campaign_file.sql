-- One file drop of the campaign benchmark (bench/etl_campaign.py), written by the engine:
-- doses {first} … {first} + {count} - 1 of {total}, in the file-drop format, as Parquet.
-- Dose i is person (i mod {people})'s dose number i div {people} + 1 (first doses, then second,
-- then third, as the campaign's waves went); a person's CCCD, name, date of birth, sex,
-- phone and home province follow from their number alone, so every dose of a person
-- repeats the same identity, and the CCCD agrees with the sex and year of birth (a CCCD is
-- made of the home province, sex, year and the person's number mod 1,000,000, so a few
-- people numbers share one: 44,877,535 distinct people of 45,000,000 at half scale). Each dose
-- is at a site of the person's province, at a time spread evenly over the campaign from
-- 2021-03-08 to 2022-12-31 (07:00-19:00 local). `{path}`, `{first}`, `{count}`,
-- `{total}`, `{people}` and `{provinces}` (an array literal of GSO codes) are replaced.
INSERT INTO FUNCTION file('{path}', Parquet)
WITH
    modulo(number, {people}) AS person,
    toUInt8(intDiv(number, {people}) + 1) AS dose_no,
    {provinces} AS codes,
    codes[1 + modulo(cityHash64(person, 'home'), length(codes))] AS home,
    modulo(cityHash64(person, 'sex'), 2) AS female,
    1940 + modulo(cityHash64(person, 'year'), 64) AS year,
    addDays(makeDate32(year, 1, 1), modulo(cityHash64(person, 'day'), 365)) AS born,
    intDiv(number * 661, {total}) AS campaign_day,
    toDateTime('2021-03-08 07:00:00', 'Asia/Ho_Chi_Minh')
        + toIntervalDay(campaign_day)
        + toIntervalSecond(modulo(cityHash64(number, 'second'), 43200)) AS at
SELECT
    concat('C', leftPad(toString(number), 11, '0')) AS dose_id,
    concat('0', home, toString(if(year < 2000, 0, 2) + female),
           leftPad(toString(modulo(year, 100)), 2, '0'),
           leftPad(toString(modulo(person, 1000000)), 6, '0')) AS citizen_id,
    if(female = 1, 'Nguyễn Thị Lan', 'Trần Văn Minh') AS full_name,
    toString(born) AS date_of_birth,
    if(female = 1, 'F', 'M') AS sex,
    concat('09', leftPad(toString(modulo(person, 100000000)), 8, '0')) AS phone,
    home AS province_code,
    concat(home, '-', leftPad(toString(modulo(cityHash64(number, 'site'), 159)), 4, '0')) AS site_id,
    ['EU/1/20/1528', 'BBIBP-CorV', 'EU/1/21/1529', 'EU/1/20/1507'][
        1 + modulo(cityHash64(person, dose_no, 'vaccine'), 4)] AS vaccine_code,
    'LOT-2021' AS lot_number,
    toString(dose_no) AS dose_number,
    toString(at) AS administered_at
FROM numbers({first}, {count})
