-- The same coverage per province from the aggregate the portal reads (coverage_daily), by
-- dose number (dose3_plus: dose 3 and beyond, a booster or an Abdala third dose alike).
-- Parameters: db (Identifier), until (Date: the last day counted).
SELECT province_code,
       sumIf(c.doses, dose_number = 1) AS dose1,
       sumIf(c.doses, dose_number = 2) AS dose2,
       sumIf(c.doses, dose_number >= 3) AS dose3_plus,
       sum(c.doses) AS doses
FROM {db:Identifier}.coverage_daily AS c
WHERE day <= {until:Date}
GROUP BY province_code
ORDER BY province_code
