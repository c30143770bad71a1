-- Doses per province, vaccine product and dose number up to and including a local day.
-- Parameters: db (Identifier), as_of (Date), provinces (Array(String); empty: all).
SELECT province_code, vaccine_code, dose_number, sum(c.doses) AS doses
FROM {db:Identifier}.coverage_daily AS c
WHERE day <= {as_of:Date}
  AND (empty({provinces:Array(String)}) OR has({provinces:Array(String)}, province_code))
GROUP BY province_code, vaccine_code, dose_number
HAVING doses != 0
ORDER BY province_code, vaccine_code, dose_number
