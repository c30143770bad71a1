-- Doses per site in [start, stop) (capacity use over the last days): one row per site, not
-- per site and day, so the page receives ~10 k rows for the whole country, not ~70 k.
-- Unordered: the page looks the sites up by id.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT province_code, site_id, sum(doses) AS doses
FROM {db:Identifier}.site_hourly
WHERE hour >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND hour < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY province_code, site_id
HAVING doses != 0
