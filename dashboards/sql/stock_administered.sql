-- Doses the stock ledger says were administered, per local day, province and product in
-- [start, stop) (checked against recorded_doses.sql: they should agree).
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT toDate(moved_at) AS day, province_code, vaccine_code, -sum(quantity) AS stock_administered
FROM {db:Identifier}.stock_movements FINAL
WHERE kind = 'administered'
  AND moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY day, province_code, vaccine_code
ORDER BY day, province_code, vaccine_code
