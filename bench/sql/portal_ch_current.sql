-- Coverage per province as of a day, counted dose by dose from the contract view
-- (doses_current, FINAL). Parameters: db (Identifier), before (DateTime64: the day after).
SELECT province_code,
       countIf(dose_number = 1) AS dose1,
       countIf(dose_number = 2) AS dose2,
       countIf(dose_number >= 3) AS dose3_plus,
       count() AS doses
FROM {db:Identifier}.doses_current
WHERE administered_at < {before:DateTime64(3, 'Asia/Ho_Chi_Minh')}
GROUP BY province_code
ORDER BY province_code
