-- Doses administered, wasted from opened vials and expired unopened, per province and
-- product in [start, stop) (positive counts; national store losses under province '').
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT province_code, vaccine_code,
       -sumIf(quantity, kind = 'administered') AS administered,
       -sumIf(quantity, kind = 'wasted') AS open_vial,
       -sumIf(quantity, kind = 'expired') AS closed_vial
FROM {db:Identifier}.stock_movements FINAL
WHERE kind IN ('administered', 'wasted', 'expired')
  AND moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY province_code, vaccine_code
ORDER BY province_code, vaccine_code
