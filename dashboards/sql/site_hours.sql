-- Doses per site and local hour in [start, stop), in one province or everywhere (the page
-- asks for today). From dose_visits, ordered by day: a day is a range of its key (~60 k
-- rows at 50 M doses), where site_hourly, ordered by site, meant scanning the month's
-- partition. Unordered: the page groups and pivots the rows itself.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT toStartOfHour(administered_at) AS hour, province_code, site_id, sum(doses) AS doses
FROM {db:Identifier}.dose_visits
WHERE day >= toDate({start:DateTime('Asia/Ho_Chi_Minh')})
  AND day <= toDate({stop:DateTime('Asia/Ho_Chi_Minh')})
  AND administered_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND administered_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY hour, province_code, site_id
HAVING doses != 0
