-- Doses the warehouse holds per local day, province and product in [start, stop), from
-- coverage_daily (checked against stock_administered.sql).
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT day, province_code, vaccine_code, sum(doses) AS doses
FROM {db:Identifier}.coverage_daily
WHERE day >= toDate({start:DateTime('Asia/Ho_Chi_Minh')})
  AND day < toDate({stop:DateTime('Asia/Ho_Chi_Minh')})
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY day, province_code, vaccine_code
ORDER BY day, province_code, vaccine_code
