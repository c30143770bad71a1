-- province_daily.sql as the platform knew it on a local day: the same rows, counting only
-- the doses whose current state is valid and was recorded (recorded_at, local; for the ETL's
-- loads, when the warehouse loaded it) on or before known_on (coverage_known, schema 0023: the part of the figures then known that today's
-- states still give). A dose corrected after known_on is missing from it, for the state
-- then current is superseded (that part needs the registry's history).
-- Parameters: db (Identifier), known_on (Date), series_codes (Array(String)),
-- series_doses (Array(UInt8)).
WITH transform(vaccine_code, {series_codes:Array(String)}, {series_doses:Array(UInt8)},
               toUInt8(2)) AS series
SELECT
    day,
    province_code,
    sumIf(k.doses, dose_number = 1) AS dose1,
    sumIf(k.doses, dose_number = 2) AS dose2,
    sumIf(k.doses, dose_number > series) AS boosters,
    sumIf(k.doses, dose_number = series) AS full,
    sum(k.doses) AS doses
FROM {db:Identifier}.coverage_known AS k
WHERE known_day <= {known_on:Date}
GROUP BY day, province_code
HAVING doses != 0
ORDER BY day, province_code
