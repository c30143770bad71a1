-- Doses per local hour in [start, stop) (the hour x day heatmap), in one province or all.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT hour, sum(doses) AS doses
FROM {db:Identifier}.site_hourly
WHERE hour >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND hour < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY hour
HAVING doses != 0
ORDER BY hour
