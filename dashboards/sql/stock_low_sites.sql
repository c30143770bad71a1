-- Sites whose stock of a product covers less than `threshold` days of their average daily
-- consumption (administered + wasted) in [start, stop) (`days` days), while in use.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')), days (UInt32), threshold (Float64).
SELECT province_code, site_id, vaccine_code,
       sum(quantity) AS on_hand,
       -sumIf(quantity, kind IN ('administered', 'wasted')
              AND moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')}) AS used_7d
FROM {db:Identifier}.stock_movements FINAL
WHERE level = 'site' AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY province_code, site_id, vaccine_code
HAVING used_7d > 0 AND on_hand * {days:UInt32} < {threshold:Float64} * used_7d
ORDER BY on_hand * {days:UInt32} / used_7d, province_code, site_id, vaccine_code
