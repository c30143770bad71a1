-- Doses per province and local day, split by dose number, with the doses that complete a
-- primary series and the boosters. One row per (day, province_code) with any doses; the portal
-- derives every "as of day D" total, national / region / 2025-province roll-up and time series
-- from it. A dose's product gives its series length (`series_codes` -> `series_doses`; products
-- not listed have 2): the dose completes the series when its dose_number equals that length
-- (dose 1 of Janssen, dose 3 of Abdala) and is a booster when it is beyond it (an Abdala
-- third dose is primary, a Pfizer third dose a booster).
-- Parameters: db (Identifier), series_codes (Array(String)), series_doses (Array(UInt8)).
WITH transform(vaccine_code, {series_codes:Array(String)}, {series_doses:Array(UInt8)},
               toUInt8(2)) AS series
SELECT
    day,
    province_code,
    sumIf(c.doses, dose_number = 1) AS dose1,
    sumIf(c.doses, dose_number = 2) AS dose2,
    sumIf(c.doses, dose_number > series) AS boosters,
    sumIf(c.doses, dose_number = series) AS full,
    sum(c.doses) AS doses
FROM {db:Identifier}.coverage_daily AS c
GROUP BY day, province_code
HAVING doses != 0
ORDER BY day, province_code
